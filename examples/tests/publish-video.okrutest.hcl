# Tests of publish-video/, a workflow that uploads a video and shows it in
# a topic: okru-run test examples
workflow = "../publish-video"

run "publish" {
  variables {
    title = "Tested by okru-run"
  }
  assert {
    condition     = output.video_id != ""
    error_message = "the upload gives the video's id"
  }
  assert {
    condition     = output.media == ["text", "movie"]
    error_message = "the topic read back holds the text and the video: ${jsonencode(output.media)}"
  }
  assert {
    condition     = call.read_back.result.media_topics[0].media[1].list[0].id == output.video_id
    error_message = "the topic shows the video uploaded"
  }
  assert {
    condition     = call.read_back.result.media_topics[0].media[0].text == "New video: Tested by okru-run"
    error_message = "the topic's text names the title: ${call.read_back.result.media_topics[0].media[0].text}"
  }
}
