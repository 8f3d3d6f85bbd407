# Used by TestScriptNoSecretsInOutput: a sensitive variable given to a
# script, which logs it and returns something computed from it.
variable "api_password" {
  type      = string
  sensitive = true
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
}

script "leak" {
  input  = { password = var.api_password }
  source = <<-EOT
    local me = okru.call("users.getCurrentUser")
    log("the password is", input.password)
    local _, err = okru.pcall("group.getMembers", {uid = input.password, count = 1})
    log("the server said:", tostring(err))
    return {uid = me.uid, length = #input.password}
  EOT
}

output "uid" {
  value     = script.leak.result.uid
  sensitive = true
}
