-- Used by TestScriptNoSecretsInOutput: calls through the session, makes a
-- call the server refuses, and returns what it got.
local me = okru.call("users.getCurrentUser")
local _, err = okru.pcall("group.getMembers", {count = 1})
log("sessions:", table.concat(okru.sessions(), ","), "error:", tostring(err))
return {uid = me.uid, error = err}
