package pcscdenv

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestSkipReason(t *testing.T) {
	other := errors.New("pcscd exited")
	for _, tc := range []struct {
		name string
		ci   string
		err  error
		skip bool
	}{
		{"missing pcscd, local run", "", ErrNotInstalled, true},
		{"missing pcscd, CI=false", "false", ErrNotInstalled, true},
		{"missing pcscd in CI fails", "true", ErrNotInstalled, false},
		{"missing pcscd in CI=1 fails", "1", ErrNotInstalled, false},
		{"other error fails locally", "", other, false},
		{"foreign pcscd fails", "", ErrForeignPCSCD, false},
		{"no error", "", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			reason, skip := SkipReason(tc.err)
			if skip != tc.skip {
				t.Fatalf("SkipReason(%v) with CI=%q: skip = %v, want %v", tc.err, tc.ci, skip, tc.skip)
			}
			if skip && reason == "" {
				t.Error("skip without a reason")
			}
		})
	}
}

func TestMissingBinary(t *testing.T) {
	_, err := StartPCSCD(context.Background(), WithBinary(filepath.Join(t.TempDir(), "pcscd")))
	if !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("StartPCSCD with a missing binary: %v, want ErrNotInstalled", err)
	}
}

func TestClearStale(t *testing.T) {
	write := func(t *testing.T, dir, name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exists := func(dir, name string) bool {
		_, err := os.Lstat(filepath.Join(dir, name))
		return err == nil
	}

	t.Run("stale files of a dead pcscd are removed", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pcscd.comm", "")
		write(t, dir, "pcscd.pid", "999999999\n")
		write(t, dir, "unrelated", "x")
		if err := clearStale(dir); err != nil {
			t.Fatal(err)
		}
		if exists(dir, "pcscd.comm") || exists(dir, "pcscd.pid") {
			t.Error("stale pcscd files left behind")
		}
		if !exists(dir, "unrelated") {
			t.Error("removed a file that is not pcscd's")
		}
	})

	t.Run("a pid file naming a live process that is not pcscd is stale", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "pcscd.pid", strconv.Itoa(os.Getpid()))
		if err := clearStale(dir); err != nil {
			t.Fatal(err)
		}
		if exists(dir, "pcscd.pid") {
			t.Error("pid file of a non-pcscd process left behind")
		}
	})

	t.Run("a socket something answers on is left alone", func(t *testing.T) {
		dir := t.TempDir()
		ln, err := net.Listen("unix", filepath.Join(dir, "pcscd.comm"))
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
		if err := clearStale(dir); err == nil {
			t.Fatal("clearStale removed a live socket")
		}
		if !exists(dir, "pcscd.comm") {
			t.Error("live socket removed")
		}
	})

	t.Run("nothing to clear", func(t *testing.T) {
		if err := clearStale(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStartReuseStop starts a private pcscd (skipped outside CI without
// one), checks that a second StartPCSCD reuses it without owning it, and
// that Stop of the owner really stops it and leaves no files behind.
func TestStartReuseStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first, err := StartPCSCD(ctx)
	if reason, ok := SkipReason(err); ok {
		t.Skip(reason)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer first.Stop()
	if names, err := listReaders(); err != nil || !containsAll(names, VPCDReaders) {
		t.Fatalf("readers %q (%v), want %q", names, err, VPCDReaders)
	}

	second, err := StartPCSCD(ctx)
	if err != nil {
		t.Fatalf("second StartPCSCD: %v", err)
	}
	if second.Owned() {
		t.Fatal("second StartPCSCD claims to own the running pcscd")
	}
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	if live, _ := liveDaemon(RunDir); !live {
		t.Fatal("Stop of a reused pcscd stopped it")
	}

	if !first.Owned() {
		t.Logf("a pcscd was already running (pid %d); not checking Stop", first.PID())
		return
	}
	pid := first.PID()
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("pcscd pid %d still alive after Stop", pid)
	}
	for _, f := range []string{"pcscd.comm", "pcscd.pid"} {
		if _, err := os.Lstat(filepath.Join(RunDir, f)); err == nil {
			t.Errorf("%s left behind after Stop", f)
		}
	}
	if err := first.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

// TestForeignPCSCD runs a pcscd of its own with an empty reader
// configuration, as another tool might: StartPCSCD must refuse it with
// ErrForeignPCSCD and leave it running. It also leaves stale files behind
// that StartPCSCD must then clear.
func TestForeignPCSCD(t *testing.T) {
	bin, err := lookBinary("")
	if reason, ok := SkipReason(err); ok {
		t.Skip(reason)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Hold the slot lock so that no other test process starts or uses a
	// pcscd meanwhile; the StartPCSCD calls below share it.
	release, err := LockSlots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if live, pid := liveDaemon(RunDir); live {
		t.Skipf("a pcscd (pid %d) is already running; this test needs %s to itself", pid, RunDir)
	}
	foreign := exec.Command(bin, "--foreground", "-c", t.TempDir())
	if err := foreign.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = foreign.Wait(); close(exited) }()
	defer func() {
		_ = foreign.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	deadline := time.Now().Add(5 * time.Second)
	for live, _ := liveDaemon(RunDir); !live; live, _ = liveDaemon(RunDir) {
		if time.Now().After(deadline) {
			t.Fatal("the foreign pcscd did not come up")
		}
		time.Sleep(20 * time.Millisecond)
	}

	_, err = StartPCSCD(context.Background(), WithTimeout(time.Second))
	if !errors.Is(err, ErrForeignPCSCD) {
		t.Fatalf("StartPCSCD next to a pcscd without vpcd: %v, want ErrForeignPCSCD", err)
	}
	t.Logf("refused as expected: %v", err)
	select {
	case <-exited:
		t.Fatal("StartPCSCD stopped a pcscd it did not start")
	default:
	}

	// Kill it hard: its socket and pid file stay behind, stale.
	_ = foreign.Process.Kill()
	<-exited
	if _, err := os.Lstat(filepath.Join(RunDir, "pcscd.comm")); err != nil {
		t.Skipf("no stale socket after SIGKILL (%v); stale-file path not exercised", err)
	}
	if err := os.WriteFile(filepath.Join(RunDir, "pcscd.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := StartPCSCD(context.Background())
	if err != nil {
		t.Fatalf("StartPCSCD over stale files: %v", err)
	}
	if !p.Owned() {
		t.Error("StartPCSCD over stale files reused something")
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestSlotLock(t *testing.T) {
	ctx := context.Background()
	release1, err := LockSlots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	release2, err := LockSlots(ctx) // nested in the same process: shared
	if err != nil {
		t.Fatal(err)
	}
	other := func() error {
		f, err := os.Open(lockPath())
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			return err
		}
		return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	if err := other(); err == nil {
		t.Fatal("another open file took the lock while it was held")
	}
	release1()
	release1() // idempotent: must not release the nested holder's share
	if err := other(); err == nil {
		t.Fatal("lock released while a nested holder still has it")
	}
	release2()
	if err := other(); err != nil {
		t.Fatalf("lock still held after both releases: %v", err)
	}

	// A waiter gives up when its context ends.
	f, err := os.Open(lockPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := LockSlots(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("LockSlots while another holds it: %v, want a deadline error", err)
	}
}
