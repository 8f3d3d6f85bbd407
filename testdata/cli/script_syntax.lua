-- Used by the CLI tests: a Lua syntax error on line 4.
local n = 0
for i = 1, 3 do
  n = n +
end
return n
