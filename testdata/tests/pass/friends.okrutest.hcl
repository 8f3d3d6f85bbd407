# Runs of workflow.hcl that pass: assertions on outputs and results, and
# negative tests that expect a postcondition, a precondition and a check
# to fail.
variables {
  min_friends = 1
}

run "friends" {
  assert {
    condition     = output.friends == length(call.friends.result)
    error_message = "the output counts the friends"
  }
  assert {
    condition     = call.me.result.uid != ""
    error_message = "the user has an id"
  }
}

run "too_few_friends" {
  variables {
    min_friends = 100000
  }
  expect_failures = [call.friends]
}

run "negative_minimum" {
  variables {
    min_friends = -1
  }
  expect_failures = [call.me]
}

run "check_fails" {
  expect_failures = [check.many_friends]
}
