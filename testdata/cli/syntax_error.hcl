call "me" {
  method = "users.getCurrentUser"
  params = { fields = "first_name" 
}
