-- Used by the CLI tests: runs until -timeout or Ctrl-C stops it.
log("looping")
local n = 0
while true do n = n + 1 end
