# A daily report of the counters of my groups.
#
# One group.getCounters call per group, keyed by group id (a map for_each, so
# call.counters["<id>"].result picks one group), joined with the groups'
# names. Run it from cron with -json and keep the last line:
#
#   okru-run run -sandbox -json examples/group-report.hcl | tail -n 1

variable "groups" {
  type        = number
  default     = 3
  description = "how many of my groups to report on"
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
  rate_limit         = 3
}

call "my_groups" {
  method = "group.getUserGroupsV2"
  params = { count = var.groups }
}

locals {
  group_ids = call.my_groups.result.groups[*].groupId
}

call "info" {
  method = "group.getInfo"
  params = { uids = local.group_ids, fields = "name" }
}

call "counters" {
  method   = "group.getCounters"
  for_each = toset(local.group_ids)
  params = {
    group_id     = each.key
    counterTypes = "members,photos,themes"
  }
}

output "report" {
  value = [
    for g in call.info.result :
    format("%-30s %5d members %5d photos %3d topics", g.name,
      call.counters[g.uid].result.counters.members,
      call.counters[g.uid].result.counters.photos,
    call.counters[g.uid].result.counters.themes)
  ]
}

output "total_members" {
  value = sum([for id, c in call.counters : c.result.counters.members])
}
