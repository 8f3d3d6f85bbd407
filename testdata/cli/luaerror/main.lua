-- Calls into a library that fails: the error points at the library.

local util = require("util")
util.me()
