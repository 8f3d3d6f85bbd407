# Assertions that cannot load: each error names its file and line.
session "main" {}

call "me" {
  method = "users.getCurrentUser"

  precondition {
    condition     = self.result != null
    error_message = "self is only for postconditions"
  }

  postcondition {
    condition     = call.nosuch.result.ok
    error_message = "refers to a call nobody declared"
  }

  postcondition {
    condition     = self.value == 1
    error_message = "self has only result"
  }
}

check "uses_self" {
  assert {
    condition     = self.result == 1
    error_message = "no self in a check"
  }
}

check "empty" {
}
