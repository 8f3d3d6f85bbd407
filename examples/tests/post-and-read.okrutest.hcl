# Tests of post-and-read.hcl: okru-run test examples. Each test file has a
# sandbox of its own, so the post lands in a fresh group feed.
workflow = "../post-and-read.hcl"

run "post" {
  variables {
    message = "posted by a test"
  }
  assert {
    condition     = output.text == "posted by a test"
    error_message = "the topic read back holds the message posted: ${output.text}"
  }
  assert {
    condition     = output.topic_id != ""
    error_message = "the post has an id"
  }
}

# A negative test: a group that does not exist makes the post fail.
run "unknown_group" {
  variables {
    group_id = "1"
  }
  expect_failures = [call.post]
}
