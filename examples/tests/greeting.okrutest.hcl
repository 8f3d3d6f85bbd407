# Tests of greeting.lua, which requires the library lua/text.lua.
workflow = "../greeting.lua"

run "greets" {
  assert {
    condition     = length(output.result.greeting) <= 30 && startswith(output.result.greeting, "Hello, ")
    error_message = "the greeting is shortened to 30 characters: ${output.result.greeting}"
  }
  assert {
    condition     = output.result.tags == "#okru_run #lua_plugins"
    error_message = "the tags are made by text.hashtags: ${output.result.tags}"
  }
}
