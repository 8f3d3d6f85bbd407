call "me" {
  method = "users.getCurrentUser"
}
