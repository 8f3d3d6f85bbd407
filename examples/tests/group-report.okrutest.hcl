# Tests of group-report.hcl: okru-run test examples
workflow = "../group-report.hcl"

run "three_groups" {
  variables {
    groups = 3
  }
  assert {
    condition     = length(output.report) == 3
    error_message = "one line per group, got ${length(output.report)}"
  }
  assert {
    condition     = output.total_members > 0
    error_message = "the groups have members"
  }
}
