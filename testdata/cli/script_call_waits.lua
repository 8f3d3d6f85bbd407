-- Used by the CLI tests: a call that waits on a slow server until Ctrl-C.
log("calling")
return okru.call("users.getCurrentUser")
