session "alice" {}
session "bob" {}

call "me" {
  method = "users.getCurrentUser"
}

call "friends" {
  method  = "friends.get"
  session = "carol"
}
