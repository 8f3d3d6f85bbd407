# A test file in tests/ tests the folder above it.
run "defaults" {
  assert {
    condition     = var.min_friends == 1
    error_message = "the default minimum is 1"
  }
}
