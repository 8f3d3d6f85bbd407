# Used by TestRedactionCannotBeDodged: an output of a credential that no
# session uses, not marked sensitive, is refused without its value.
session "main" {}

output "key" {
  value = env("OKRU_SESSION_SECRET_KEY")
}
