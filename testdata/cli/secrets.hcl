# Used by TestNoSecretsInOutput: real credentials from the environment,
# against a sandbox the test starts, and a sensitive variable used where
# the server may echo it back in an error.
variable "api_password" {
  type      = string
  sensitive = true
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
}

session "client" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  session_secret_key = env("OKRU_SESSION_SECRET_KEY")
  api_url            = env("OKRU_API_URL")
  circuit            = "client"
}

call "me" {
  method  = "users.getCurrentUser"
  session = "main"
}

call "me_client" {
  method  = "users.getCurrentUser"
  session = "client"
}

call "echo" {
  method  = "users.getInfo"
  session = "main"
  params  = { uids = call.me.result.uid, fields = var.api_password }
}

call "fails" {
  method  = "group.getMembers"
  session = "client"
  params  = { uid = var.api_password, count = 1 }
}

output "me" {
  value = [call.me.result.uid, call.me_client.result.uid]
}

output "password" {
  value     = var.api_password
  sensitive = true
}
