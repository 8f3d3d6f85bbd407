# Tests of post-with-tags.hcl, whose text is made by lua:: functions of
# lua/text.lua.
workflow = "../post-with-tags.hcl"

run "post" {
  variables {
    message = "Hello, plugins!"
    tags    = ["Go", "ok ru"]
  }
  assert {
    condition     = output.text == "Hello, plugins! #go #ok_ru"
    error_message = "lua::truncate keeps a short text and lua::hashtags makes the tags: ${output.text}"
  }
  assert {
    condition     = output.slug == "hello-plugins"
    error_message = "lua::slug: ${output.slug}"
  }
  assert {
    condition     = output.slug == lua::slug(var.message)
    error_message = "asserts may call the workflow's lua:: functions too"
  }
  assert {
    condition     = output.topic_id != ""
    error_message = "the post has an id"
  }
}
