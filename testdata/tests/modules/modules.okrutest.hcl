# call.me is the workflow's own, not the module's call of the same name;
# the module's failing check is named by its module address.

run "names" {
  expect_failures = [module.m.check.inner]
  assert {
    condition     = can(call.me.result.first_name)
    error_message = "call.me is not the workflow's: ${jsonencode(call.me.result)}"
  }
  assert {
    condition     = output.friends > 0
    error_message = "the module's output is read: ${output.friends}"
  }
}

run "whole_module" {
  expect_failures = [module.m]
}
