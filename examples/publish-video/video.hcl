# Publish a video with a title, and show it in a topic on the user's feed.
#
# The upload step sends clip.mp4 (a path relative to this folder, which may
# not leave it) in parts to the URL video.getUploadUrl gives, resuming a
# part cut halfway, then sets the title, description, tags and privacy with
# video.update. clip.mp4 here is a stand-in that only the sandbox accepts:
# put a real video in its place for ok.ru.
#
#   okru-run run --sandbox examples/publish-video
#
# The session needs VALUABLE_ACCESS and VIDEO_CONTENT permissions on ok.ru.

variable "title" {
  type    = string
  default = "A video from okru-run"
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
}

upload "clip" {
  video       = "clip.mp4"
  title       = var.title
  description = "Uploaded by okru-run"
  tags        = ["okru-run", "example"]
  privacy     = "PUBLIC"
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "USER"
    attachment = topic_attachment("New video: ${var.title}", upload.clip.result)
  }
}

call "read_back" {
  method = "mediatopic.getByIds"
  params = { topic_ids = [call.post.result] }
}

output "video_id" {
  value = upload.clip.result.video_id
}

output "media" {
  value = [for m in call.read_back.result.media_topics[0].media : m.type]
}
