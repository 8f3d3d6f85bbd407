# Tests of online-friends.hcl: okru-run test examples
workflow = "../online-friends.hcl"

run "three_online" {
  variables {
    how_many = 3
  }
  assert {
    condition     = length(output.in_common) <= 3
    error_message = "at most how_many friends are listed"
  }
  assert {
    condition     = output.online_friends >= length(output.in_common)
    error_message = "the listed friends are online"
  }
}
