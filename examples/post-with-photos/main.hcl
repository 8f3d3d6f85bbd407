# Post a topic with photos to three groups, with a module.
#
# modules/post-with-photos uploads photos to a group, posts a topic with
# them and reads it back; the module block runs it once per group, the
# three instances in parallel. Its steps have addresses such as
# module.post["50000000317996"].call.post in plans, progress and the journal.
#
#   okru-run run -sandbox examples/post-with-photos
#
# The default groups are the sandbox demo user's. Against ok.ru, name groups
# you may post to (the session needs PHOTO_CONTENT and GROUP_CONTENT):
#
#   okru-run run examples/post-with-photos -var 'groups=["...","..."]'

variable "groups" {
  type    = list(string)
  default = ["50000000317996", "50000001710659", "50000002749778"]
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
}

call "me" {
  method = "users.getCurrentUser"
  params = { fields = "first_name" }
}

module "post" {
  source   = "./modules/post-with-photos"
  for_each = toset(var.groups) # known before any call: variables, locals, functions
  group_id = each.key
  text     = "Three photos from ${call.me.result.first_name}" # the module's steps wait for call.me
  photos   = sort(fileset(".", "photos/*.png"))               # relative to this folder
}

output "topics" {
  value = { for gid, m in module.post : gid => m.topic_id }
}

output "media" {
  value = distinct(flatten([for m in values(module.post) : m.media]))
}
