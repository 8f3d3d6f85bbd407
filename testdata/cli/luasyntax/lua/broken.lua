local M = {}
function M.f(x)
  return x +
end
return M
