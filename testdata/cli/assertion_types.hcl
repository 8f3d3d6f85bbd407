# Assertions whose conditions are not bools: refused before any call.
session "main" {}

call "me" {
  method = "users.getCurrentUser"

  precondition {
    condition     = "maybe"
    error_message = "a string is not a condition"
  }

  postcondition {
    condition     = length(self.result)
    error_message = "nor is a number known only after the call"
  }
}

check "count" {
  assert {
    condition     = 3
    error_message = "a number is not a condition"
  }
}
