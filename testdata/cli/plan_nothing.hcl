# Nothing to call unless -var go=true: plan -detailed-exitcode exits 0.
variable "go" {
  type    = bool
  default = false
}
session "main" {}
call "me" {
  method = "users.getCurrentUser"
  when   = var.go
}
