# A module: post a topic with photos to one group and read it back.
#
# Its variables are the inputs a module block sets; its outputs are
# module.NAME.OUTPUT (module.NAME[KEY].OUTPUT with for_each) in the workflow
# that uses it. As a module it calls with the caller's session: the session
# block below is read only when this folder runs on its own.
#
# File paths are relative to the top workflow's folder, also inside a module,
# so the photos are an input: the caller lists files of its own folder.

variable "group_id" {
  type        = string
  description = "the group to post to"
}

variable "text" {
  type    = string
  default = "Photos from okru-run"
}

variable "photos" {
  type        = list(string)
  description = "image files, relative to the top workflow's folder"
  validation {
    condition     = length(var.photos) > 0 && length(var.photos) <= 40
    error_message = "An upload takes 1 to 40 photos."
  }
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")
  session_secret_key = env("OKRU_SESSION_SECRET_KEY")
  api_url            = env("OKRU_API_URL")
}

upload "photos" {
  files    = var.photos
  group_id = var.group_id
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "GROUP_THEME"
    gid        = var.group_id
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

output "media" {
  value = [for m in call.read_back.result.media_topics[0].media : m.type]
}
