# Who am I, and what are my friends called?
#
# The smallest useful workflow: one call for the current user, one for the
# ids of their friends, then the friends' profiles in chunks of 100 ids (the
# most users.getInfo takes at once), run in parallel.
#
#   okru-run run -sandbox examples/whoami.hcl
#
# Against ok.ru: okru-run login, then okru-run run -credentials FILE (or eval
# "$(okru-run login -env)"); or set OKRU_APP_KEY, OKRU_ACCESS_TOKEN and
# OKRU_APP_SECRET_KEY yourself.

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
}

call "me" {
  method = "users.getCurrentUser"
  params = { fields = "first_name,last_name" }
}

call "friends" {
  method = "friends.get"
}

call "profiles" {
  method   = "users.getInfo"
  for_each = chunklist(call.friends.result, 100)
  params = {
    uids   = each.value
    fields = "first_name,last_name"
  }
}

locals {
  friends = flatten(call.profiles[*].result)
}

output "me" {
  value = "${call.me.result.first_name} ${call.me.result.last_name} (${call.me.result.uid})"
}

output "friend_count" {
  value = length(local.friends)
}

output "friend_names" {
  value = sort([for f in local.friends : "${f.first_name} ${f.last_name}"])
}
