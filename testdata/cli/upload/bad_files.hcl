# Upload files that cannot be sent: the run stops before any call, with a
# diagnostic naming the file (exit code 2), and the topic is not posted.
session "main" {}

upload "pics" {
  files = ["photo.png", "notes.txt"]
}

upload "more" {
  files = ["missing.png"]
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "USER"
    attachment = topic_attachment("never posted", upload.pics.result, upload.more.result)
  }
}
