# An input whose type is wrong only once evaluated: the run stops before
# any call.

session "main" {}

locals {
  texts = ["a", "b"]
}

call "me" {
  method = "users.getCurrentUser"
}

module "post" {
  source = "./poster"
  text   = local.texts
}
