// Package state keeps the durable journal of a workflow run: an
// append-only file of JSON lines, one record per call that started or
// finished, locked so that one run at a time uses it, readable after a
// crash.
//
// It is the storage under the engine's resume: it knows records, their
// order and how to make them durable, and nothing of workflows, HCL
// values or HTTP. What a record means for a resumed run (reuse a result,
// report a write whose outcome is unknown) is decided by the engine.
//
// # Durability
//
// Records reach the file through one writer goroutine. Append queues a
// record and returns: the writer writes what is queued as soon as it can
// and fsyncs it with the next durable record or within SyncEvery, so many
// records share one fsync (group commit). AppendDurable returns only once
// the record and everything before it is on disk; the engine uses it for
// a write's "start" record, which must be durable before the request is
// sent. A crash can therefore lose only the last records appended with
// Append, and can tear only the last line, which Open drops.
//
// # Format
//
// The first line is a header (the run's fingerprint), which starts with a
// fixed magic text; every later line is a Record. The file is created with
// mode 0600 in a folder created with mode 0700: results may be private
// even when they hold no secret.
//
// # Safety
//
// The lock is a flock on the journal file itself, so every name of one
// journal meets the same lock. Open refuses a path that is a symbolic
// link, not a regular file, another user's, in a folder other users can
// write, or a file that is neither a journal (the magic) nor empty and
// private, and then changes nothing in it (see path.go).
package state
