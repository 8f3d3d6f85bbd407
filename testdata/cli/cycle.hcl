session "main" {}

call "a" {
  method = "users.getInfo"
  params = { uids = call.c.result[0].uid, fields = "name" }
}

call "b" {
  method = "users.getInfo"
  params = { uids = call.a.result[0].uid, fields = "name" }
}

call "c" {
  method     = "users.getInfo"
  params     = { uids = local.ids, fields = "name" }
  depends_on = [call.b]
}

locals {
  ids = call.b.result[*].uid
}
