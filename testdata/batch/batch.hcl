# Used by the batch tests (batch_cli_test.go): reads and posts against a
# sandbox run as a process, whose URL and credentials come from the
# environment. Each read and each post carries its number, so that the
# sandbox's call log tells how often each one was done.

variable "reads" {
  type = number
}

variable "posts" {
  type = number
}

variable "tag" {
  type    = string
  default = "post"
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = 100000
}

locals {
  # range() stops at 1,024 values: longer lists are built in rows of 1,000.
  reads = flatten([for r in range(ceil(var.reads / 1000)) : [for c in range(min(1000, var.reads - r * 1000)) : r * 1000 + c]])
  posts = flatten([for r in range(ceil(var.posts / 1000)) : [for c in range(min(1000, var.posts - r * 1000)) : r * 1000 + c]])
}

call "me" {
  method = "users.getCurrentUser"
}

call "read" {
  method   = "users.getInfo"
  for_each = local.reads
  params   = { uids = call.me.result.uid, fields = "first_name", call_id = "read-${each.value}" }
}

call "post" {
  method   = "mediatopic.post"
  for_each = local.posts
  params = {
    type       = "USER"
    attachment = { media = [{ type = "text", text = "${var.tag}-${each.value}" }] }
  }
}

output "reads" {
  value = length(call.read)
}

output "posts" {
  value = length(call.post)
}
