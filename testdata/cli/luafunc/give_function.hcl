session "main" {
  app_key      = env("OKRU_APP_KEY")
  access_token = env("OKRU_ACCESS_TOKEN")
  api_url      = env("OKRU_API_URL")
}

call "me" {
  method = "users.getCurrentUser"
}

call "post" {
  method = "mediatopic.post"
  params = { type = "USER_NOTE", attachment = { media = [{ type = "text", text = lua::give_function("x") }] } }
}
