variable "word" {
  type    = string
  default = "hello"
}

output "shouted" {
  value = lua::shout(var.word)
}
