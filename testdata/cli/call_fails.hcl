# group.getMembers needs uid: the sandbox answers a PARAM error, so the run
# fails with exit code 1 and the dependent step never runs. unlisted = true
# skips the catalog's checks, which would refuse the call before the run.
session "main" {}

call "members" {
  method   = "group.getMembers"
  params   = { count = 10 }
  unlisted = true
}

call "info" {
  method = "users.getInfo"
  params = { uids = call.members.result.members[*].userId, fields = "name" }
}

call "me" {
  method = "users.getCurrentUser"
}

output "me" {
  value = call.me.result.uid
}
