session "main" {}

call "me" {
  method  = "users.getCurrentUser"
  paramz  = { fields = "first_name" }
}
