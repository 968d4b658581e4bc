package pcscdenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestClaimSlotsNamesTheHolder: a process serving the vpcd slots is refused
// when another holds them, and told which one (issue: two card sources on
// one slot).
func TestClaimSlotsNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slots.lock")
	old := slotLockPath
	slotLockPath = func() string { return path }
	t.Cleanup(func() { slotLockPath = old })

	// Another process: its own open file description with the flock held.
	other, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := other.WriteString("pid 4242: mynahil sim --slot 0\n"); err != nil {
		t.Fatal(err)
	}

	_, err = ClaimSlots("mynahil conformance --sim")
	var busy *SlotsBusyError
	if !errors.As(err, &busy) {
		t.Fatalf("ClaimSlots with the slots held elsewhere: got %v, want a *SlotsBusyError", err)
	}
	if !strings.Contains(err.Error(), "pid 4242: mynahil sim") {
		t.Errorf("the error does not name the holder: %v", err)
	}

	_ = other.Close() // the other process ends
	release, err := ClaimSlots("mynahil conformance --sim")
	if err != nil {
		t.Fatalf("ClaimSlots after the holder ended: %v", err)
	}
	// Within one process the lock is shared (a test holding it runs the sim).
	again, err := ClaimSlots("nested")
	if err != nil {
		t.Fatalf("nested ClaimSlots in the holding process: %v", err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), "mynahil conformance --sim") {
		t.Errorf("lock file names %q, want this process", b)
	}
	again()
	release()

	third, err := os.OpenFile(path, os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if err := syscall.Flock(int(third.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Errorf("the lock is still held after both releases: %v", err)
	}
}
