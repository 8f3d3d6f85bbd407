# Post a topic whose text is shaped by Lua functions: lua/text.lua returns
# a functions table, and each of its functions is called here as lua::NAME.
# They are pure, so plan shows their results before anything is called.
#
#   okru-run plan examples/post-with-tags.hcl
#   okru-run run -sandbox examples/post-with-tags.hcl -var 'message=Hello from a Lua plugin'

variable "message" {
  type    = string
  default = "Modules and plugins: reuse your workflows and Lua helpers without copying them"
}

variable "tags" {
  type    = list(string)
  default = ["okru-run", "Lua plugins"]
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")
  session_secret_key = env("OKRU_SESSION_SECRET_KEY")
  api_url            = env("OKRU_API_URL")
}

call "my_groups" {
  method = "group.getUserGroupsV2"
  params = { count = 1 }
}

locals {
  text = "${lua::truncate(var.message, 60)} ${lua::hashtags(var.tags)}"
}

call "post" {
  method = "mediatopic.post"
  params = {
    type       = "GROUP_THEME"
    gid        = call.my_groups.result.groups[0].groupId
    attachment = { media = [{ type = "text", text = local.text }] }
  }
}

output "text" {
  value = local.text
}

output "slug" {
  value = lua::slug(var.message)
}

output "topic_id" {
  value = call.post.result
}
