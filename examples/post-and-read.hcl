# Post a topic to a group, then read it back.
#
# mediatopic.post takes its attachment as JSON: an object given to params is
# sent as compact JSON, so the attachment is written as HCL. The topic id the
# post answers feeds mediatopic.getByIds.
#
#   okru-run run -sandbox examples/post-and-read.hcl -var 'message=Hello from okru-run'
#
# The session needs GROUP_CONTENT permission on ok.ru.

variable "message" {
  type    = string
  default = "Hello from okru-run"
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

call "post" {
  method = "mediatopic.post"
  params = {
    type = "GROUP_THEME"
    gid  = local.group_id
    attachment = {
      media = [
        { type = "text", text = var.message },
        { type = "link", url = "https://ok.ru/" },
      ]
    }
  }
}

call "read_back" {
  method = "mediatopic.getByIds"
  params = { topic_ids = [call.post.result] }
}

locals {
  topic = call.read_back.result.media_topics[0]
}

output "topic_id" {
  value = call.post.result
}

output "posted_in" {
  value = local.topic.owner_ref
}

output "text" {
  value = [for m in local.topic.media : m.text if m.type == "text"][0]
}
