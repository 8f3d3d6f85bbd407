# Used by TestReportsHoldNoSecrets: a sensitive variable that a failing
# call sends, and a run that fails, so its messages reach the reports.
workflow = "../../cli/secrets.hcl"

variables {
  api_password = "pw-SECRET-test-5a4b3c2d1e"
}

run "fails" {
  assert {
    condition     = output.me[0] == "nobody"
    error_message = "the user is nobody"
  }
}
