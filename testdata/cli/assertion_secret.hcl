# A precondition that reads a sensitive variable fails: the values it read
# and its message are shown without the secret.
variable "pin" {
  type      = string
  default   = "secret-pin-4711"
  sensitive = true
}

session "main" {}

call "me" {
  method = "users.getCurrentUser"

  precondition {
    condition     = var.pin == "0000"
    error_message = "the pin ${var.pin} is not 0000"
  }
}
