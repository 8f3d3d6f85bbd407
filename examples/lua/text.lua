-- Text helpers, shared by the scripts and workflows in this folder.
--
-- A script loads them with require("text"); a workflow calls the functions
-- in M.functions as lua::slug(...), lua::truncate(...) and lua::hashtags(...).
-- Those must be pure: the same arguments always give the same result, and
-- they cannot call the API (plan calls them too).

local M = {}

-- slug("Hello, World!") is "hello-world". Letters beyond ASCII are kept
-- as they are (Lua's lower and %w know only ASCII).
function M.slug(s)
  local out = s:lower():gsub("[^%w\128-\255]+", "-"):gsub("^-+", ""):gsub("-+$", "")
  return out
end

-- title_case("hello big world") is "Hello Big World".
function M.title_case(s)
  return (s:gsub("(%w)(%w*)", function(first, rest) return first:upper() .. rest:lower() end))
end

-- truncate(s, n) keeps at most n characters of s (UTF-8 aware) and ends a
-- shortened text with "...".
function M.truncate(s, n)
  if type(n) ~= "number" or n < 4 then
    error("truncate: the length must be a number of at least 4", 2)
  end
  local chars = {}
  for c in s:gmatch("[%z\1-\127\194-\244][\128-\191]*") do
    chars[#chars + 1] = c
  end
  if #chars <= n then
    return s
  end
  return table.concat(chars, "", 1, n - 3) .. "..."
end

-- hashtags({"Go", "ok ru"}) is "#go #ok_ru".
function M.hashtags(words)
  local tags = {}
  for _, w in ipairs(words) do
    tags[#tags + 1] = "#" .. w:lower():gsub("[^%w\128-\255]+", "_")
  end
  return table.concat(tags, " ")
end

M.functions = {
  slug = M.slug,
  truncate = M.truncate,
  hashtags = M.hashtags,
}

return M
