-- Greets the current user with the text helpers of lua/text.lua, which
-- require("text") finds in the lua folder beside this script.
--
--   okru-run -sandbox examples/greeting.lua

local text = require("text")

local me = okru.call("users.getCurrentUser", {fields = "uid,name"})
local name = text.title_case(me.name)
return {
  greeting = text.truncate("Hello, " .. name .. ", and welcome to okru-run!", 30),
  slug     = text.slug(name),
  tags     = text.hashtags({"okru-run", "Lua plugins"}),
}
