# Used by the CLI tests as --config of a script run: its sessions (one from
# the environment, one named "client") are used, its call is not run.
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

call "not_run" {
  method = "users.getCurrentUser"
}
