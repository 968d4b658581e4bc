// Package crashpoint lets crash tests end a process right after one of its
// durable writes (docs/reliability.md, "Crash points"): package store calls
// Wrote after each write is on disk, and a test's child process sets
// AfterWrite to kill itself there. It is internal: nothing outside the
// module can set it, and nothing inside sets it but tests.
package crashpoint

import "sync/atomic"

// AfterWrite, when set, is called after every durable write with the
// written (or removed) file's path.
var AfterWrite atomic.Pointer[func(path string)]

// Wrote reports a durable write to AfterWrite.
func Wrote(path string) {
	if f := AfterWrite.Load(); f != nil {
		(*f)(path)
	}
}
