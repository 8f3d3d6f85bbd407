local M = {}
function M.me()
  error("boom")
end
function M.greet(who)
  lg("hello " .. who)
end
return M
