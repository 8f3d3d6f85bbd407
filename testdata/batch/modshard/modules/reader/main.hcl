# The module of main.hcl: a read and a write without for_each, var.reads
# reads with for_each over a list and three posts with for_each over a
# set, each with a call_id or text of its own: "read-NAME-N",
# "TAG-GID-NAME-KEY".

variable "name" {
  type = string
}

variable "gid" {
  type = string
}

variable "uid" {
  type = string
}

variable "reads" {
  type = number
}

variable "tag" {
  type = string
}

session "main" {}

call "group" {
  method = "group.getInfo"
  params = { uids = var.gid, fields = "name" }
}

call "read" {
  method   = "users.getInfo"
  for_each = range(var.reads)
  params   = { uids = var.uid, fields = "first_name", call_id = "read-${var.name}-${each.value}" }
}

call "announce" {
  method = "mediatopic.post"
  params = {
    type       = "GROUP_THEME"
    gid        = var.gid
    attachment = { media = [{ type = "text", text = "${var.tag}-${var.gid}-${var.name}-announce" }] }
  }
}

call "post" {
  method   = "mediatopic.post"
  for_each = toset(["a", "b", "c"])
  params = {
    type       = "GROUP_THEME"
    gid        = var.gid
    attachment = { media = [{ type = "text", text = "${var.tag}-${var.gid}-${var.name}-${each.key}" }] }
  }
}

output "reads" {
  value = length(call.read)
}
