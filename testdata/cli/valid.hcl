variable "uids" {
  type    = list(string)
  default = ["1", "2"]
}

session "main" {
  app_key = env("OKRU_APP_KEY")
}

call "info" {
  method = "users.getInfo"
  params = { uids = var.uids, fields = "name" }
}

output "n" {
  value = length(call.info.result)
}
