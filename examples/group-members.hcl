# Every member of a group, paged, then their profiles in chunks.
#
# group.getMembers answers at most a page of members at a time; with
# paginate = true the engine follows the anchor until has_more is false and
# merges the pages, so call.members.result.members holds every member.
# Their profiles are then fetched 100 ids per call, in parallel.
#
# Without -var group_id=..., the first group of the current user is used.
#
#   okru-run run -sandbox examples/group-members.hcl
#   okru-run run examples/group-members.hcl -var group_id=50000000720903

variable "group_id" {
  type        = string
  default     = null
  description = "the group to list; the first group of the current user when unset"
}

variable "page_size" {
  type    = number
  default = 50
  validation {
    condition     = var.page_size >= 1 && var.page_size <= 100
    error_message = "page_size must be between 1 and 100: ok.ru returns at most 100 members a page."
  }
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

call "group" {
  method = "group.getInfo"
  params = { uids = local.group_id, fields = "name,members_count" }
}

call "members" {
  method   = "group.getMembers"
  params   = { uid = local.group_id, count = var.page_size }
  paginate = true
  retry {
    attempts = 5
    backoff  = "500ms"
  }
}

call "profiles" {
  method   = "users.getInfo"
  for_each = chunklist(call.members.result.members[*].userId, 100)
  params = {
    uids   = each.value
    fields = "first_name,last_name,gender"
  }
  timeout = "30s"
}

locals {
  people = flatten(call.profiles[*].result)
}

output "group" {
  value = call.group.result[0].name
}

output "members" {
  value = length(call.members.result.members)
}

output "profile_calls" {
  value = length(call.profiles)
}

output "women" {
  value = length([for p in local.people : p if p.gender == "female"])
}

output "first_five" {
  value = slice(sort([for p in local.people : p.first_name]), 0, 5)
}
