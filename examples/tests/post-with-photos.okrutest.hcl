# Tests of post-with-photos/, a workflow that uses a module once per group:
# okru-run test examples
workflow = "../post-with-photos"

run "three_groups" {
  assert {
    condition     = length(output.topics) == 3
    error_message = "one topic per group: ${jsonencode(output.topics)}"
  }
  assert {
    condition     = contains(output.media, "photo")
    error_message = "the topics read back show the photos: ${jsonencode(output.media)}"
  }
}

run "one_group" {
  variables {
    groups = ["50000001710659"]
  }
  assert {
    condition     = keys(output.topics) == ["50000001710659"]
    error_message = "the module's for_each follows var.groups: ${jsonencode(output.topics)}"
  }
}


run "unknown_group" {
  variables {
    groups = ["1"]
  }
  # ok.ru refuses the upload to a group that does not exist; nothing is
  # posted. module.post["1"] would cover any failure inside the instance.
  expect_failures = [module.post["1"].upload.photos]
}
