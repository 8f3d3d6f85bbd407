session "main" {}

call "me" {
  method = "friends.get"
}

check "inner" {
  assert {
    condition     = false
    error_message = "the module's check fails"
  }
}

output "friends" {
  value = length(call.me.result)
}
