local bad = require("bad")
local again = require("bad")
assert(bad == again)
local shaped = bad.functions.raise("from a script")
return shaped
