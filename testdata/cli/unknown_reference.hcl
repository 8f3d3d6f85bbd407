variable "group_id" { type = string }

session "main" {}

call "members" {
  method = "group.getMembers"
  params = { uid = var.gruop_id }
}

output "ids" {
  value = call.member.result.members[*].userId
}

output "bare" {
  value = members.result
}
