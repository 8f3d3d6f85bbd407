# Used by TestRedactionCannotBeDodged: sensitive values that a script
# sends back escaped (JSON, in its log and result), a short PIN that a
# server may echo, and an output of a credential no session uses (see
# env_output.hcl for one not marked sensitive).
variable "pass" {
  type      = string
  sensitive = true
}

variable "pin" {
  type      = string
  sensitive = true
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
}

script "dodge" {
  input  = { pass = var.pass, pin = var.pin }
  source = <<-EOT
    log("json:", json.encode({p = input.pass, n = input.pin}))
    log("plain:", input.pass, "pin", input.pin)
    local _, err = okru.pcall("group.getMembers", {uid = input.pin, count = 1})
    log("the server said:", tostring(err))
    return {j = json.encode(input.pass), pin = input.pin, both = input.pass .. " " .. input.pin}
  EOT
}

output "result" {
  value     = script.dodge.result
  sensitive = true
}

output "key" {
  value     = env("OKRU_SESSION_SECRET_KEY")
  sensitive = true
}
