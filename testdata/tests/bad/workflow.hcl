# Assertions that hold, and one check that fails: a warning, or an error
# with -strict-checks.
variable "min_friends" {
  type    = number
  default = 1
}

variable "pin" {
  type      = string
  default   = "secret-pin-4711"
  sensitive = true
}

session "main" {}

call "me" {
  method = "users.getCurrentUser"

  precondition {
    condition     = var.min_friends >= 0
    error_message = "min_friends must not be negative"
  }

  postcondition {
    condition     = self.result.uid != ""
    error_message = "the current user has no id"
  }
}

call "friends" {
  method = "friends.get"

  postcondition {
    condition     = length(self.result) >= var.min_friends
    error_message = "too few friends: ${length(self.result)}"
  }
}

check "many_friends" {
  assert {
    condition     = length(call.friends.result) > 1000
    error_message = "the user has no more than 1000 friends"
  }
  assert {
    condition     = var.pin != call.me.result.uid
    error_message = "the pin is not the user's id"
  }
}

output "friends" {
  value = length(call.friends.result)
}
