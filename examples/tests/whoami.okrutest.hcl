# Tests of whoami.hcl: okru-run test examples
workflow = "../whoami.hcl"

run "me_and_friends" {
  assert {
    condition     = call.me.result.uid != ""
    error_message = "the current user has no uid"
  }
  assert {
    condition     = output.friend_count == length(call.friends.result)
    error_message = "every friend's profile is read: ${output.friend_count} of ${length(call.friends.result)}"
  }
  assert {
    condition     = length(output.friend_names) == output.friend_count
    error_message = "one name per friend"
  }
}
