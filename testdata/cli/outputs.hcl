# Used by TestOutputCommand: outputs of every kind, one sensitive.
variable "pin" {
  type      = string
  default   = "pin-SECRET-31415926"
  sensitive = true
}

session "main" {}

call "me" {
  method = "users.getCurrentUser"
}

output "uid" {
  value = call.me.result.uid
}

output "count" {
  value = 3
}

output "names" {
  value = [call.me.result.first_name, call.me.result.last_name]
}

output "pin" {
  value     = var.pin
  sensitive = true
}
