# Mutual friends between me and each of my first friends.
#
# for_each over a list makes one call per element; each.key is its index and
# each.value the element. Results come back in the same order, so
# call.mutual[*].result lines up with the list.
#
#   okru-run run -sandbox examples/mutual-friends.hcl -var how_many=5

variable "how_many" {
  type    = number
  default = 3
}

session "main" {
  app_key            = env("OKRU_APP_KEY")
  access_token       = env("OKRU_ACCESS_TOKEN")
  app_secret_key     = env("OKRU_APP_SECRET_KEY")     # server-server circuit, or
  session_secret_key = env("OKRU_SESSION_SECRET_KEY") # client-server (okru-run login -env)
  api_url            = env("OKRU_API_URL")            # unset: https://api.ok.ru/
}

call "friends" {
  method = "friends.get"
}

locals {
  some_friends = slice(call.friends.result, 0, min(var.how_many, length(call.friends.result)))
}

call "mutual" {
  method   = "friends.getMutualFriends"
  for_each = local.some_friends
  params   = { target_id = each.value }
}

call "names" {
  method = "users.getInfo"
  params = {
    uids   = local.some_friends
    fields = "first_name,last_name"
  }
}

output "mutual_counts" {
  value = {
    for i, f in call.names.result :
    "${f.first_name} ${f.last_name}" => length(call.mutual[index(local.some_friends, f.uid)].result)
  }
}

output "most_mutual" {
  value = max([for m in call.mutual : length(m.result)]...)
}
