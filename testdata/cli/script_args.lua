-- Used by the CLI tests: returns its arguments, and an id beyond 2^53 read
-- from JSON, which reaches Lua as its exact text.
local decoded = json.decode('{"id": 9007199254740993, "none": {}}')
log("args:", #args, "...:", select("#", ...))
return {args = args, big_id = decoded.id, empty_list = {}, empty_object = decoded.none}
