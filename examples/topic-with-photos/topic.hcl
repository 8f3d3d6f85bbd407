# Post a topic with three photos from a folder to a group.
#
# The upload step sends every file of photos/ (paths are relative to this
# folder and may not leave it) to the group, without putting them into an
# album; topic_attachment builds the mediatopic.post attachment from the
# text and the uploaded photos' tokens.
#
#   okru-run run --sandbox examples/topic-with-photos
#
# The session needs PHOTO_CONTENT and GROUP_CONTENT permissions on ok.ru.

variable "text" {
  type    = string
  default = "Three photos from okru-run"
}

variable "group_id" {
  type    = string
  default = null
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
}

call "my_groups" {
  method = "group.getUserGroupsV2"
  when   = var.group_id == null
  params = { count = 1 }
}

locals {
  group_id = coalesce(var.group_id, try(call.my_groups.result.groups[0].groupId, null))
}

upload "photos" {
  files    = sort(fileset(".", "photos/*.png"))
  group_id = local.group_id
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "GROUP_THEME"
    gid        = local.group_id
    attachment = topic_attachment(var.text, upload.photos.result)
  }
}

call "read_back" {
  method = "mediatopic.getByIds"
  params = { topic_ids = [call.post.result] }
}

output "topic_id" {
  value = call.post.result
}

output "photos" {
  value = upload.photos.result.photos[*].file
}

output "media" {
  value = [for m in call.read_back.result.media_topics[0].media : m.type]
}
