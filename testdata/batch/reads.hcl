# Used by BenchmarkBatchPeakRSS (batch_cli_test.go): var.reads reads of a
# sandbox run as a process, whose results no later step uses, as in a
# batch job that only needs each call done.

variable "reads" {
  type = number
}

session "main" {
  app_key        = env("OKRU_APP_KEY")
  app_secret_key = env("OKRU_APP_SECRET_KEY")
  access_token   = env("OKRU_ACCESS_TOKEN")
  api_url        = env("OKRU_API_URL")
  rate_limit     = 100000
}

call "me" {
  method = "users.getCurrentUser"
}

call "read" {
  method   = "users.getInfo"
  for_each = flatten([for r in range(ceil(var.reads / 1000)) : [for c in range(min(1000, var.reads - r * 1000)) : r * 1000 + c]])
  params   = { uids = call.me.result.uid, fields = "first_name", call_id = "read-${each.value}" }
}
