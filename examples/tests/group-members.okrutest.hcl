# Tests of group-members.hcl: okru-run test examples
workflow = "../group-members.hcl"

run "first_group" {
  variables {
    page_size = 50
  }
  assert {
    condition     = output.members == length(call.members.result.members)
    error_message = "the members of every page are collected"
  }
  assert {
    condition     = output.profile_calls == ceil(output.members / 100)
    error_message = "profiles are read 100 at a time: ${output.profile_calls} calls for ${output.members} members"
  }
  assert {
    condition     = length(output.first_five) == min(5, output.members)
    error_message = "first_five has at most five names"
  }
}

run "small_pages" {
  variables {
    page_size = 7
  }
  assert {
    condition     = call.members.result.has_more == false
    error_message = "paging stops at the last page"
  }
}
