# 50 instances of users.getInfo, of which 48 fail in two ways (the sandbox
# answers PARAM to a bad user id, naming it) and 2 succeed; call.names uses
# them, so it is skipped; call.me does not, so it runs. With
# -continue-on-error the failures are reported once each as events and
# grouped in the diagnostics and the summary.
session "main" {}

call "info" {
  for_each = range(50)
  method   = "users.getInfo"
  params   = { uids = each.value % 25 == 0 ? "500000462248" : (each.value % 10 == 7 ? "-2" : "-1"), fields = "name" }
}

call "names" {
  method = "users.getInfo"
  params = { uids = join(",", [for c in call.info : c.result[0].uid]), fields = "name" }
}

call "me" {
  method = "users.getCurrentUser"
}

output "me" {
  value = call.me.result.uid
}
