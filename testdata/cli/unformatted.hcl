session "main" {
app_key = env("OKRU_APP_KEY")
   access_token=env("OKRU_ACCESS_TOKEN")
}
call "me" {
    method = "users.getCurrentUser"
  params = { fields = "first_name" }
}
