-- Friends of my friends: the people I may know.
--
-- For each of my first friends (5 unless an argument says how many), get
-- their friends and count how many of my friends each of those people
-- knows, leaving out me and my friends. Then page through the members of
-- my first group with okru.paginate to see which of these people are in it,
-- and name the ones with the most friends in common. The return value is
-- printed as JSON on stdout; log lines go to stderr.
--
--   okru-run -sandbox examples/friends-of-friends.lua 8
--
-- Against ok.ru, export OKRU_APP_KEY, OKRU_APP_SECRET_KEY and
-- OKRU_ACCESS_TOKEN instead of giving -sandbox.

local how_many = tonumber(args[1] or "5")
if not how_many or how_many < 1 then
  error("the argument is how many friends to look through, such as 5; got " .. tostring(args[1]))
end

local me = okru.call("users.getCurrentUser")
local friends = okru.call("friends.get")
local is_friend = {}
for _, id in ipairs(friends) do is_friend[id] = true end

-- Count, for everyone my friends know, how many of my friends know them.
local common = {}
local checked = math.min(how_many, #friends)
for i = 1, checked do
  for _, id in ipairs(okru.call("friends.get", {fid = friends[i]})) do
    if id ~= me.uid and not is_friend[id] then
      common[id] = (common[id] or 0) + 1
    end
  end
end
local people = {}
for id, n in pairs(common) do people[#people + 1] = {uid = id, common = n} end
table.sort(people, function(a, b)
  if a.common ~= b.common then return a.common > b.common end
  return a.uid < b.uid
end)
log(#people, "friends of friends through", checked, "friends")

-- How many of them are members of my first group? Members come 100 a
-- page; okru.paginate follows the anchor from page to page.
local in_group = {members = 0, friends_of_friends = 0}
local group = okru.call("group.getUserGroupsV2", {count = 1}).groups[1]
if group then
  in_group.group = group.groupId
  for page in okru.paginate("group.getMembers", {uid = group.groupId, count = 100}) do
    for _, m in ipairs(page.members) do
      in_group.members = in_group.members + 1
      if common[m.userId] then in_group.friends_of_friends = in_group.friends_of_friends + 1 end
    end
  end
end

-- Name the five with the most friends in common (one users.getInfo call).
local top, ids = {}, {}
for i = 1, math.min(5, #people) do ids[i] = people[i].uid end
if #ids > 0 then
  local names = {}
  for _, u in ipairs(okru.call("users.getInfo", {uids = ids, fields = "first_name,last_name"})) do
    names[u.uid] = u.first_name .. " " .. u.last_name
  end
  for i, id in ipairs(ids) do top[i] = {uid = id, name = names[id], common = people[i].common} end
end

return {
  me = me.uid,
  friends = #friends,
  friends_checked = checked,
  friends_of_friends = #people,
  top = top,
  in_my_group = in_group,
}
