# References the workflow does not declare.
workflow = "../../cli/assertions.hcl"
run "typos" {
  variables {
    min_friend = 3
  }
  assert {
    condition     = output.freinds > 0
    error_message = "no such output"
  }
  assert {
    condition     = self.result
    error_message = "no self in a test"
  }
  expect_failures = [call.nosuch, "call.me"]
}
