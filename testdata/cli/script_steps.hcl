# Used by the CLI tests: script blocks with errors validate reports.
session "main" {}

call "friends" {
  method = "friends.get"
}

script "pick" {
  input  = call.friends.result
  source = <<-EOT
    local picked = {}
    for i = 1, 3 do
      picked[i] = input[i]
    return picked
  EOT
}

script "unknown_session" {
  session = "other"
  source  = "return 1"
}
