variable "password" {
  type      = string
  default   = "hunter2-very-secret"
  sensitive = true
}

session "main" {}

output "leak" {
  value = "the password is ${var.password}"
}
