session "main" {}

call "signed" {
  method = "users.getCurrentUser"
  params = { fields = "first_name", sig = "abc", access_token = "x" }
}

call "page" {
  method   = "users.getInfo"
  params   = { uids = "1", fields = "name" }
  paginate = true
}

call "members" {
  method = "group.getMembers"
  params = { count = 10 }
}
