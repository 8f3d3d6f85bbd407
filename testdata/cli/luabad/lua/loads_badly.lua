local M = {}
M.functions = {shout = string.upper}
M.name = okru.call("users.getCurrentUser", {}).name
return M
