variable "count" {
  type    = number
  default = "many"
}

session "main" {}

call "me" {
  method = "users.getCurrentUser"
  params = { fields = each.value }
  timeout = "soon"
}

call "me" {
  method = "users.getCurrentUser"
}

call "page" {
  method   = "users.getInfo"
  paginate = true
  retry {
    attempts = 0
  }
}
