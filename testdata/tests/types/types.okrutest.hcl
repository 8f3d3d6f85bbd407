# Asserts whose conditions can never be true or false: refused when the
# file loads, before any run, as a workflow's assertions are.
workflow = "../../cli/assertions.hcl"

run "types" {
  assert {
    condition     = "maybe"
    error_message = "a string is not a condition"
  }
  assert {
    condition     = length(output.friends)
    error_message = "nor is a number known only after the run"
  }
  assert {
    condition     = output.friends > 0
    error_message = "a comparison is a condition"
  }
}
