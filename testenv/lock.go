package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// The slot lock serialises test processes that use the vpcd slots. vpcd
// takes one card per port (docs/vpcd-pcscd.md §1.1): two processes serving a
// card on slot 0 at once would talk to each other's card, and a process
// stopping the pcscd it started would pull it from under another. `go test
// ./...` runs packages in parallel, so PC/SC suites take turns.
//
// The lock is an flock on a file next to pcscd's socket, so that runs in
// private namespaces (with-pcscd --isolate, each with its own /run/pcscd
// and its own ports) do not wait for each other. Within a process it is
// reference-counted: nested StartPCSCD calls share it.
var slots struct {
	sync.Mutex
	n int
	f *os.File
}

// lockPath is the slot lock file: in RunDir when it can be created there,
// else in the temporary directory.
func lockPath() string {
	if err := os.MkdirAll(RunDir, 0o755); err == nil {
		p := filepath.Join(RunDir, "mynahil-slots.lock")
		if f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o666); err == nil {
			_ = f.Close()
			return p
		}
	}
	return filepath.Join(os.TempDir(), "mynahil-vpcd-slots.lock")
}

// LockSlots takes the slot lock, waiting until ctx ends, and returns the
// function that releases it. StartPCSCD calls it; call it directly only
// to use the slots with a pcscd started elsewhere.
func LockSlots(ctx context.Context) (release func(), err error) {
	slots.Lock()
	defer slots.Unlock()
	if slots.n == 0 {
		f, err := os.OpenFile(lockPath(), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return nil, fmt.Errorf("opening the vpcd slot lock: %w", err)
		}
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil {
				break
			}
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				_ = f.Close()
				return nil, fmt.Errorf("taking the vpcd slot lock %s: %w", f.Name(), err)
			}
			select {
			case <-ctx.Done():
				_ = f.Close()
				return nil, fmt.Errorf("waiting for the vpcd slot lock %s (another test process uses the vpcd slots): %w", f.Name(), ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
		slots.f = f
	}
	slots.n++
	var once sync.Once
	return func() { once.Do(unlockSlots) }, nil
}

func unlockSlots() {
	slots.Lock()
	defer slots.Unlock()
	slots.n--
	if slots.n == 0 && slots.f != nil {
		_ = syscall.Flock(int(slots.f.Fd()), syscall.LOCK_UN)
		_ = slots.f.Close()
		slots.f = nil
	}
}
