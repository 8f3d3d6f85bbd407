session "main" {}

call "info" {
  method = "users.getInfo"
  params = {
    uids   = "1,2"
    feilds = "first_name"
  }
}
