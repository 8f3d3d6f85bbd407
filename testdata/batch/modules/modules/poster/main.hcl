# The module of main.hcl: var.posts topics to the group var.gid, each with
# a text of its own ("TAG-GID-N"), and var.reads reads of var.uid, each
# with a call_id of its own ("read-GID-N").

variable "gid" {
  type = string
}

variable "uid" {
  type = string
}

variable "posts" {
  type = number
}

variable "reads" {
  type = number
}

variable "tag" {
  type = string
}

# The caller's session "main", passed in: a module's session blocks name
# the sessions it needs, and the caller's are used.
session "main" {}

call "group" {
  method = "group.getInfo"
  params = { uids = var.gid, fields = "name" }
}

call "read" {
  method   = "users.getInfo"
  for_each = range(var.reads)
  params   = { uids = var.uid, fields = "first_name", call_id = "read-${var.gid}-${each.value}" }
}

call "post" {
  method   = "mediatopic.post"
  for_each = range(var.posts)
  params = {
    type       = "GROUP_THEME"
    gid        = var.gid
    attachment = { media = [{ type = "text", text = "${var.tag}-${var.gid}-${each.value}" }] }
  }
}

output "posts" {
  value = length(call.post)
}

output "reads" {
  value = length(call.read)
}

output "topic_ids" {
  value = call.post[*].result
}

output "name" {
  value = call.group.result[0].name
}
