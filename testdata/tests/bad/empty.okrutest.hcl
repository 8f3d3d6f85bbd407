# A test file without runs tests nothing.
workflow = "../../cli/assertions.hcl"
variables {
  min_friends = 2
}
