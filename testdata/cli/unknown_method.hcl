session "main" {}

call "me" {
  method = "users.getCurentUser"
}

call "custom" {
  method   = "users.getSomethingNew"
  unlisted = true
}
