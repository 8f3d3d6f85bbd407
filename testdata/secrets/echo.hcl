# Used by TestRedactionCannotBeDodged: a plain call that sends a sensitive
# value where the API wants a number, so the server's error echoes it
# back (the sandbox quotes it, escaped, as ok.ru does).
variable "pass" {
  type      = string
  sensitive = true
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
}

call "members" {
  method = "group.getMembers"
  params = { uid = var.pass, count = 1 }
}
