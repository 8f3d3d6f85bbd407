-- Used by the CLI tests: an API error the script does not catch, after one
-- it handles with okru.pcall.
local _, err = okru.pcall("group.getInfo", {uids = "1"})
log("handled:", err.name, err.code)
local groups = okru.call("group.getUserGroupsV2", {count = 1}).groups
return okru.call("group.getMembers", {count = 1})
