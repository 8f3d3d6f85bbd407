# Tests of mutual-friends.hcl: okru-run test examples
workflow = "../mutual-friends.hcl"

run "four_friends" {
  variables {
    how_many = 4
  }
  assert {
    condition     = length(output.mutual_counts) == 4
    error_message = "one count per friend asked"
  }
  assert {
    condition     = output.most_mutual == max(values(output.mutual_counts)...)
    error_message = "most_mutual is the largest count"
  }
}
