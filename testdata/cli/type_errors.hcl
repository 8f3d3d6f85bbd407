session "main" {}

call "each_number" {
  method   = "users.getInfo"
  for_each = 3
  params   = { uids = each.value, fields = "name" }
}

call "params_string" {
  method = "users.getInfo"
  params = "uids=1"
}

call "bad_when" {
  method = "users.getCurrentUser"
  when   = "sometimes"
}

call "bad_function" {
  method = "users.getInfo"
  params = { uids = join(",", 12), fields = "name" }
}
