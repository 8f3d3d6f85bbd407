# Runs that fail: an assert that does not hold, a failure that was not
# expected, and an expected failure that does not happen.
workflow = "../../cli/assertions.hcl"
run "too_many_wanted" {
  assert {
    condition     = output.friends > 1000
    error_message = "wants more than 1000 friends, got ${output.friends}"
  }
}

run "unexpected_failure" {
  variables {
    min_friends = 100000
  }
}

run "expected_but_passed" {
  expect_failures = [call.friends]
}
