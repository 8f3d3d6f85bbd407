-- A typo inside a library.
local util = require("util")
local greeting = util.greet("you")
return greeting
