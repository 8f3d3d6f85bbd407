# Used by TestModuleBatchShards (module_cli_test.go), run as shards
# against a sandbox run as a process whose URL and credentials come from
# the environment: the module ./modules/reader once per part (for_each:
# each instance runs, whole, in one shard) and once more without for_each
# (its steps' for_each instances are split, its write runs in shard 1).

variable "groups" {
  type = list(string)
}

variable "parts" {
  type = number
}

variable "reads" {
  type = number
}

variable "tag" {
  type    = string
  default = "shard"
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = 100000
}

locals {
  # part NAME => the group it posts to
  parts = { for i in range(var.parts) : "p${i}" => var.groups[i % length(var.groups)] }
}

call "me" {
  method = "users.getCurrentUser"
}

module "part" {
  source   = "./modules/reader"
  for_each = local.parts
  name     = each.key
  gid      = each.value
  uid      = call.me.result.uid
  reads    = var.reads
  tag      = var.tag
}

module "whole" {
  source = "./modules/reader"
  name   = "whole"
  gid    = var.groups[0]
  uid    = call.me.result.uid
  reads  = var.reads
  tag    = var.tag
}

output "parts" {
  value = sort(keys(module.part))
}

output "reads" {
  value = merge({ for k, m in module.part : k => m.reads }, { whole = module.whole.reads })
}
