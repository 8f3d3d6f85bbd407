variable "name" {
  type = string
}

variable "ids" {
  type    = list(number)
  default = []
}

variable "limit" {
  type    = number
  default = 10
  validation {
    condition     = var.limit <= 100
    error_message = "limit must be at most 100."
  }
}

variable "token" {
  type      = string
  default   = "var-secret-0123456789"
  sensitive = true
}

session "main" {}

call "info" {
  method = "users.getInfo"
  params = { uids = var.ids, fields = "first_name", token_hint = var.token }
  when   = length(var.ids) > 0
}

output "greeting" {
  value = "hello ${var.name}, limit ${var.limit}"
}

output "ids" {
  value = var.ids
}

output "token" {
  value     = var.token
  sensitive = true
}
