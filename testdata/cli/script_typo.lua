-- A typo in a module function: the error names it and the function meant.
local me = okru.cal("users.getCurrentUser")
return me
