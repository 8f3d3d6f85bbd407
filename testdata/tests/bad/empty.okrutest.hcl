# A test file without runs tests nothing.
variables {
  min_friends = 2
}
