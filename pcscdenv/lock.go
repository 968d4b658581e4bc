package pcscdenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// slotLockPath is the lock file's path; tests point it elsewhere.
var slotLockPath = lockPath

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
	return lockSlots(ctx, "test process "+processName(), true)
}

// SlotsBusyError says that another process serves the vpcd slots.
type SlotsBusyError struct {
	Lock   string // the lock file
	Holder string // "pid 1234: mynahil sim", as the holder wrote it
}

func (e *SlotsBusyError) Error() string {
	h := e.Holder
	if h == "" {
		h = "an unknown process"
	}
	return fmt.Sprintf("the vpcd slots are served by another process (%s; lock %s): stop it, or use its card", h, e.Lock)
}

// ClaimSlots takes the slot lock without waiting, for a process that
// serves cards on the vpcd slots itself (mynahil sim, mynahil conformance
// --sim): two card sources on one slot would make pcscd show one card and
// the other source believe itself connected. When another process holds
// the lock it returns a *SlotsBusyError naming that process. owner is
// recorded in the lock file for the next claimant's message.
//
// A process that holds the lock may lend the slots to a child it starts
// (a test running 'mynahil sim' as a process): it sets EnvSlotsLent to its
// own pid, and ClaimSlots in that child, and only there, succeeds without
// the lock.
func ClaimSlots(owner string) (release func(), err error) {
	if v := os.Getenv(EnvSlotsLent); v != "" && v == strconv.Itoa(os.Getppid()) {
		return func() {}, nil
	}
	return lockSlots(context.Background(), owner, false)
}

// EnvSlotsLent: the pid of a parent process that holds the slot lock and
// lends the slots to its child (ClaimSlots).
const EnvSlotsLent = "MYNAHIL_VPCD_SLOTS_LENT"

func lockSlots(ctx context.Context, owner string, wait bool) (release func(), err error) {
	slots.Lock()
	defer slots.Unlock()
	if slots.n == 0 {
		f, err := os.OpenFile(slotLockPath(), os.O_CREATE|os.O_RDWR, 0o666)
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
			busy := &SlotsBusyError{Lock: f.Name(), Holder: holder(f)}
			if !wait {
				_ = f.Close()
				return nil, busy
			}
			select {
			case <-ctx.Done():
				_ = f.Close()
				return nil, fmt.Errorf("waiting for the vpcd slot lock: %w: %w", busy, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
		// The holder's name, for the message of whoever finds it taken.
		if err := f.Truncate(0); err == nil {
			_, _ = f.WriteAt([]byte(fmt.Sprintf("pid %d: %s\n", os.Getpid(), owner)), 0)
		}
		slots.f = f
	}
	slots.n++
	var once sync.Once
	return func() { once.Do(unlockSlots) }, nil
}

// holder reads who holds the lock from its file.
func holder(f *os.File) string {
	b := make([]byte, 256)
	n, _ := f.ReadAt(b, 0)
	return strings.TrimSpace(string(b[:n]))
}

// processName is this process's command line, shortened.
func processName() string {
	name := filepath.Base(os.Args[0])
	if len(os.Args) > 1 {
		name += " " + strings.Join(os.Args[1:min(len(os.Args), 4)], " ")
	}
	return name
}

func unlockSlots() {
	slots.Lock()
	defer slots.Unlock()
	slots.n--
	if slots.n == 0 && slots.f != nil {
		_ = slots.f.Truncate(0)
		_ = syscall.Flock(int(slots.f.Fd()), syscall.LOCK_UN)
		_ = slots.f.Close()
		slots.f = nil
	}
}
