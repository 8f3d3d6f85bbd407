variable "post" {
  type    = bool
  default = false
}

session "main" {}

call "groups" {
  method   = "group.getUserGroupsV2"
  params   = { count = 2 }
  paginate = true
}

call "post" {
  method = "mediatopic.post"
  when   = var.post
  params = {
    type       = "GROUP_THEME"
    gid        = call.groups.result.groups[0].groupId
    attachment = { media = [{ type = "text", text = "hi" }] }
  }
}

call "counters" {
  method   = "group.getCounters"
  for_each = { for g in call.groups.result.groups : g.groupId => g }
  when     = each.key != call.groups.result.groups[0].groupId
  params   = { group_id = each.key, counterTypes = "members" }
}

output "group_count" {
  value = length(call.groups.result.groups)
}

output "posted" {
  value = call.post.result
}

output "counted" {
  value = [for k, c in call.counters : c.result.counters.members if c.result != null]
}
