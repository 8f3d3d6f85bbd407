# Each module block here is wrong in its own way: validate names them all.

session "main" {}

module "missing" {
  source = "./poster"
}

module "typo" {
  source = "./poster"
  text   = "hello"
  copeis = 2
}

module "wrong_type" {
  source = "./poster"
  text   = "hello"
  copies = "two"
}

module "nowhere" {
  source = "./no-such-folder"
}

output "uid" {
  value = module.typo.id
}
