# group.getMembers needs uid: the sandbox answers a PARAM error, so the run
# fails with exit code 1 and the dependent step never runs.
session "main" {}

call "members" {
  method = "group.getMembers"
  params = { count = 10 }
}

call "info" {
  method = "users.getInfo"
  params = { uids = call.members.result.members[*].userId }
}

call "me" {
  method = "users.getCurrentUser"
}

output "me" {
  value = call.me.result.uid
}
