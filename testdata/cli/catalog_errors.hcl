session "main" {}

call "signed" {
  method = "users.getCurrentUser"
  params = { fields = "first_name", sig = "abc", access_token = "x" }
}

call "page" {
  method   = "users.getInfo"
  params   = { uids = "1" }
  paginate = true
}
