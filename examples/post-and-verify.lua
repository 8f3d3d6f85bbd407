-- Post a topic to a group, then read it back and check that it says what
-- was posted.
--
-- mediatopic.post takes its attachment as JSON: a Lua table given as a
-- parameter is sent as compact JSON. okru.topic_attachment builds that
-- table, here from a text (upload results add photos and videos:
-- okru.topic_attachment{text = t, photos = okru.upload_photos{...}}).
-- The topic id the post answers feeds mediatopic.getByIds. A topic
-- that does not hold the posted text is an error (exit code 1), so the
-- script can guard a deployment or a CI job.
--
--   okru-run -sandbox examples/post-and-verify.lua "Hello from okru-run"
--
-- The first argument is the message; the second, optional, is the group id
-- (by default the first of my groups). The session needs GROUP_CONTENT
-- permission on ok.ru.

local message = args[1] or "Hello from okru-run"
local gid = args[2]
if not gid then
  local groups = okru.call("group.getUserGroupsV2", {count = 1}).groups
  if #groups == 0 then error("I am in no group; give a group id as the second argument") end
  gid = groups[1].groupId
end

local topic_id = okru.call("mediatopic.post", {
  type = "GROUP_THEME",
  gid = gid,
  attachment = okru.topic_attachment{text = message},
})
log("posted topic", topic_id, "to group", gid)

local topics = okru.call("mediatopic.getByIds", {topic_ids = {topic_id}}).media_topics
if #topics ~= 1 then
  error(("mediatopic.getByIds found %d topics for id %s, want 1"):format(#topics, topic_id))
end
local text
for _, m in ipairs(topics[1].media) do
  if m.type == "text" then text = m.text end
end
if text ~= message then
  error(("topic %s says %q, not the posted %q"):format(topic_id, tostring(text), message))
end

return {topic_id = topic_id, group_id = gid, owner = topics[1].owner_ref, text = text, verified = true}
