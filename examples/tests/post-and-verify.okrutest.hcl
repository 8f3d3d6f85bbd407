# Tests of post-and-verify.lua: okru-run test examples
workflow = "../post-and-verify.lua"
args     = ["Hello from a test"]

run "verified" {
  assert {
    condition     = output.result.verified
    error_message = "the script reads its post back"
  }
  assert {
    condition     = output.result.text == "Hello from a test"
    error_message = "the post holds the script's argument"
  }
}
