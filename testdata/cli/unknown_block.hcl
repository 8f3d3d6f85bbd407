session "main" {}

resource "x" {
}

call "me" {
  method = "users.getCurrentUser"
}
