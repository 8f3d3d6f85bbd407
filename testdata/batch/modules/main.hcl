# Used by the module batch tests (module_cli_test.go): a read, then the
# module ./modules/poster once per group, which posts var.posts topics to
# its group and makes var.reads reads, against a sandbox run as a process
# whose URL and credentials come from the environment. Every read and post
# carries its group and number, so that the sandbox's call log tells how
# often each one was done.

variable "groups" {
  type = list(string)
}

variable "posts" {
  type = number
}

variable "reads" {
  type = number
}

variable "tag" {
  type    = string
  default = "mod"
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = 100000
}

call "me" {
  method = "users.getCurrentUser"
}

module "post" {
  source   = "./modules/poster"
  for_each = toset(var.groups)
  gid      = each.key
  uid      = call.me.result.uid
  posts    = var.posts
  reads    = var.reads
  tag      = var.tag
}

output "me" {
  value = call.me.result.uid
}

output "groups" {
  value = length(module.post)
}

output "posts" {
  value = { for gid, m in module.post : gid => m.posts }
}

output "reads" {
  value = { for gid, m in module.post : gid => m.reads }
}

output "topic_ids" {
  value = { for gid, m in module.post : gid => m.topic_ids }
}

output "names" {
  value = { for gid, m in module.post : gid => m.name }
}
