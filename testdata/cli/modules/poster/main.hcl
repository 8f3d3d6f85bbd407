# A module the workflows of this folder use wrongly.

session "main" {}

variable "text" {
  type = string
}

variable "copies" {
  type    = number
  default = 1
}

call "me" {
  method = "users.getCurrentUser"
}

output "uid" {
  value = call.me.result.uid
}
