# Tests of friends-of-friends.lua: okru-run test examples
workflow = "../friends-of-friends.lua"
args     = ["8"]

run "eight_friends" {
  assert {
    condition     = output.result.friends_checked == 8
    error_message = "the script checks as many friends as asked"
  }
  assert {
    condition     = output.result.friends_of_friends > 0
    error_message = "friends have friends"
  }
}
