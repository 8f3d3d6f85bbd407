# Which of my friends are online now, and how many friends do we share?
#
# A Lua script step between two calls: it takes the profiles of my friends
# (users.getInfo, 100 ids a call), keeps those online now, sorts them by
# city, reshapes each into { uid, name, city } and returns the first few and
# their ids. Its return value is script.online.result; the next call makes
# one friends.getMutualFriends per id the script kept. The script's input
# refers to call.profiles, so the graph runs it after every profile call.
#
#   okru-run run -sandbox examples/online-friends.hcl -var how_many=3
#
# Against ok.ru: okru-run login, then okru-run run -credentials FILE (or eval
# "$(okru-run login -env)"); or set OKRU_APP_KEY, OKRU_ACCESS_TOKEN and
# OKRU_APP_SECRET_KEY yourself.

variable "how_many" {
  type        = number
  default     = 3
  description = "how many online friends to compare"
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

call "profiles" {
  method   = "users.getInfo"
  for_each = chunklist(call.friends.result, 100)
  params   = { uids = each.value, fields = "first_name,last_name,online,location" }
}

script "online" {
  input = {
    users = flatten(call.profiles[*].result)
    limit = var.how_many
  }
  source = <<-EOT
    local online = {}
    for _, u in ipairs(input.users) do
      if u.online then
        local city = u.location and u.location.city or "?"
        online[#online + 1] = {uid = u.uid, name = u.first_name .. " " .. u.last_name, city = city}
      end
    end
    table.sort(online, function(a, b)
      if a.city ~= b.city then return a.city < b.city end
      return a.uid < b.uid
    end)
    local people, ids = {}, {}
    for i = 1, math.min(input.limit, #online) do
      people[i], ids[i] = online[i], online[i].uid
    end
    log(#online, "of", #input.users, "friends are online")
    return {online = #online, people = people, ids = ids}
  EOT
}

call "mutual" {
  method   = "friends.getMutualFriends"
  for_each = script.online.result.ids
  params   = { target_id = each.value }
}

output "online_friends" {
  value = script.online.result.online
}

output "in_common" {
  value = [
    for i, p in script.online.result.people :
    format("%s (%s): %d friends in common", p.name, p.city, length(call.mutual[i].result))
  ]
}
