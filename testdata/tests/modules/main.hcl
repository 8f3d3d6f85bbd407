# A workflow whose module has a step of the same name as the workflow's
# and a check that fails: its tests must tell them apart.

session "main" {}

call "me" {
  method = "users.getCurrentUser"
  params = { fields = "first_name" }
}

module "m" {
  source = "./modules/m"
}

output "friends" {
  value = module.m.friends
}
