# Tests of topic-with-photos/, a workflow that uploads a folder's photos
# and posts them in a group topic: okru-run test examples
workflow = "../topic-with-photos"

run "first_group" {
  assert {
    condition     = output.photos == ["photos/1-sunrise.png", "photos/2-noon.png", "photos/3-dusk.png"]
    error_message = "every photo of the folder is uploaded, in order: ${jsonencode(output.photos)}"
  }
  assert {
    condition     = output.media == ["text", "photo"]
    error_message = "the topic read back holds the text and the photos: ${jsonencode(output.media)}"
  }
  assert {
    condition     = length(call.read_back.result.media_topics[0].media[1].photo_refs) == 3
    error_message = "the topic shows the three photos uploaded"
  }
  assert {
    condition     = call.read_back.result.media_topics[0].owner_ref == "group:${call.my_groups.result.groups[0].groupId}"
    error_message = "without group_id, the topic goes to the user's first group"
  }
}

run "given_group" {
  variables {
    group_id = "50000001710659"
    text     = "Photos from a test"
  }
  assert {
    condition     = call.read_back.result.media_topics[0].owner_ref == "group:50000001710659"
    error_message = "the topic goes to var.group_id"
  }
  assert {
    condition     = call.read_back.result.media_topics[0].media[0].text == "Photos from a test"
    error_message = "the topic's text is var.text"
  }
}

# A negative test: ok.ru refuses the upload to a group that does not
# exist, so nothing is posted.
run "unknown_group" {
  variables {
    group_id = "1"
  }
  expect_failures = [upload.photos]
}
