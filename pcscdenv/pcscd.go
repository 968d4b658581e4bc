// Package pcscdenv provides the pcscd that PC/SC suites run against: a
// private `pcscd --foreground` serving the vsmartcard vpcd readers, started
// for a test run and stopped after it (docs/vpcd-pcscd.md §6.3, §6.4).
//
// StartPCSCD never touches a pcscd it did not start. If one is already
// running it is reused when it lists both vpcd readers, and refused with a
// clear error otherwise. Files in /run/pcscd are removed only when no live
// pcscd owns them (a stale socket or pid file makes pcscd refuse to start,
// §6.3). It never passes --auto-exit (pcscd would quit under a card waiting
// for a client, §6.3) nor --apdu (that would log PINs).
//
// In CI (CI=true) a missing pcscd is a failure, never a skip: SkipReason and
// Require say so.
//
// Under `ginkgo -p`, only process 1 starts pcscd (and stops it after every
// process has finished); the other processes wait for it and reuse it.
// Suites that serve cards on fixed vpcd slots should do so from process 1
// (SynchronizedBeforeSuite) and mark their specs Serial.
package pcscdenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/vpcd"
)

// The readers of Debian's /etc/reader.conf.d/vpcd: slot n listens on
// 127.0.0.1:35963+n (docs/vpcd-pcscd.md §1.2, §6.2).
const (
	VPCDReader0 = "Virtual PCD 00 00"
	VPCDReader1 = "Virtual PCD 00 01"
)

// VPCDReaders are the readers StartPCSCD waits for.
var VPCDReaders = []string{VPCDReader0, VPCDReader1}

// RunDir is where pcscd 1.9.9 keeps its socket and pid file; the daemon
// cannot be told otherwise (docs/vpcd-pcscd.md §6.3).
const RunDir = "/run/pcscd"

var (
	// ErrNotInstalled: no pcscd binary. Outside CI suites skip on it;
	// in CI it is a failure (SkipReason).
	ErrNotInstalled = errors.New("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)")
	// ErrForeignPCSCD: a pcscd this package did not start is running and
	// does not serve the vpcd readers.
	ErrForeignPCSCD = errors.New("another pcscd is running without the vpcd readers")
	// ErrNotReady: pcscd started but did not list the vpcd readers in time,
	// or exited.
	ErrNotReady = errors.New("pcscd did not become ready")
)

// InCI reports whether the environment says this is a CI run (CI=true).
func InCI() bool {
	v, _ := strconv.ParseBool(os.Getenv("CI"))
	return v
}

// SkipReason says whether a suite should skip because StartPCSCD failed
// with err: only when pcscd is not installed and this is not CI. Anything
// else, and everything in CI, must fail.
func SkipReason(err error) (string, bool) {
	if errors.Is(err, ErrNotInstalled) && !InCI() {
		return "skipping PC/SC tests: " + err.Error() + "; in CI (CI=true) this fails", true
	}
	return "", false
}

// Require starts (or reuses) pcscd for a go test and stops it in
// tb.Cleanup. Without a pcscd binary it skips, except in CI, where it fails.
func Require(tb testing.TB, opts ...Option) *PCSCD {
	tb.Helper()
	// Generous: other test processes may hold the slot lock for their suite.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := StartPCSCD(ctx, opts...)
	if reason, ok := SkipReason(err); ok {
		tb.Skip(reason)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Stop(); err != nil {
			tb.Error(err)
		}
	})
	return p
}

// Option configures StartPCSCD.
type Option func(*config)

type config struct {
	binary  string
	readers []string
	timeout time.Duration
	debug   bool
	logFile string
	noLock  bool
	slots   int // 0: Debian's own config in /etc/reader.conf.d
}

// WithBinary uses this pcscd instead of the one on PATH or in /usr/sbin.
func WithBinary(path string) Option { return func(c *config) { c.binary = path } }

// WithReaders waits for these readers instead of VPCDReaders.
func WithReaders(names ...string) Option { return func(c *config) { c.readers = names } }

// WithTimeout bounds the wait for the readers (default 10 s).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithDebug runs pcscd with --debug (never --apdu, which would log PINs).
func WithDebug() Option { return func(c *config) { c.debug = true } }

// WithSlots starts pcscd serving n vpcd slots (1 to vpcd.MaxSlots) from a
// reader.conf of its own (slotconf.go) and waits for their readers. Without
// it pcscd reads Debian's /etc/reader.conf.d (slots 0 and 1). It changes
// nothing when a running pcscd is reused: that one must list the readers.
func WithSlots(n int) Option {
	return func(c *config) { c.slots = n; c.readers = vpcd.ReaderNames(max(n, 1)) }
}

// WithoutSlotLock does not take the slot lock: for a process that only
// provides pcscd to others (scripts/with-pcscd) and serves no card itself.
func WithoutSlotLock() Option { return func(c *config) { c.noLock = true } }

// WithLogFile copies pcscd's output to a file as well (appended).
func WithLogFile(path string) Option { return func(c *config) { c.logFile = path } }

// PCSCD is a running pcscd: one this package started, or one it reuses.
type PCSCD struct {
	owned   bool
	pid     int
	cmd     *exec.Cmd
	out     *tailBuffer
	logFile *os.File
	exited  chan struct{}
	waitErr error

	stopOnce sync.Once
	stopErr  error
	release  func() // releases the slot lock
	confDir  string // the reader.conf of WithSlots and its driver copies
}

// Owned reports whether this package started the pcscd (and Stop will stop
// it).
func (p *PCSCD) Owned() bool { return p.owned }

// PID returns pcscd's process ID (0 if unknown for a reused socket-activated
// daemon).
func (p *PCSCD) PID() int { return p.pid }

// Log returns the tail of pcscd's output (empty for a reused pcscd).
func (p *PCSCD) Log() string {
	if p.out == nil {
		return ""
	}
	return p.out.String()
}

// lookBinary finds pcscd: PATH first, then the sbin directories that a
// non-root PATH lacks.
func lookBinary(bin string) (string, error) {
	if bin != "" {
		if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("looking for pcscd at %s: %w", bin, ErrNotInstalled)
		}
		return bin, nil
	}
	if p, err := exec.LookPath("pcscd"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd"} {
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("looking for pcscd: %w", ErrNotInstalled)
}

// StartPCSCD makes sure a pcscd serving the vpcd readers runs: it reuses a
// running one that lists them, or starts `pcscd --foreground` and waits
// until it lists them. Stop undoes only what StartPCSCD did.
//
// Unless WithoutSlotLock is given, the PCSCD also holds the slot lock (see
// LockSlots) until Stop, so test processes that serve cards on the vpcd
// slots take turns instead of meeting on one port.
func StartPCSCD(ctx context.Context, opts ...Option) (*PCSCD, error) {
	c := config{readers: VPCDReaders, timeout: 10 * time.Second}
	for _, o := range opts {
		o(&c)
	}
	if c.slots == 0 {
		n, err := defaultSlots()
		if err != nil {
			return nil, err
		}
		if n > 0 {
			WithSlots(n)(&c)
		}
	}
	bin, err := lookBinary(c.binary)
	if err != nil {
		return nil, err
	}
	// Under ginkgo -p, process 1 runs its suite cleanup only after every
	// other process has finished: it alone takes the slot lock and starts
	// pcscd, and the others use that pcscd (never stopping it).
	sc, _ := ginkgo.GinkgoConfiguration()
	secondary := sc.ParallelTotal > 1 && sc.ParallelProcess != 1
	release := func() {}
	if !c.noLock && !secondary {
		if release, err = LockSlots(ctx); err != nil {
			return nil, err
		}
	}
	if secondary {
		if _, err := waitReaders(ctx, c.readers, 3*c.timeout, nil); err != nil {
			return nil, fmt.Errorf("waiting for the pcscd of ginkgo process 1: %w: %w", ErrNotReady, err)
		}
		return &PCSCD{pid: pidOf(RunDir)}, nil
	}
	p, err := start(ctx, bin, c)
	if err != nil {
		release()
		return nil, err
	}
	p.release = release
	return p, nil
}

func start(ctx context.Context, bin string, c config) (*PCSCD, error) {
	if p, found, err := running(ctx, c); found || err != nil {
		return p, err
	}
	if err := clearStale(RunDir); err != nil {
		return nil, fmt.Errorf("starting pcscd: %w", err)
	}

	args := []string{"--foreground"}
	if c.debug {
		args = append(args, "--debug")
	}
	cmd := exec.Command(bin, args...)
	p := &PCSCD{owned: true, cmd: cmd, out: &tailBuffer{max: 64 << 10}, exited: make(chan struct{})}
	if c.slots > 0 {
		dir, err := writeSlotConf(c.slots)
		if err != nil {
			return nil, fmt.Errorf("starting pcscd: %w", err)
		}
		p.confDir = dir
		cmd.Args = append(cmd.Args, "--config", filepath.Join(dir, "reader.conf"))
	}
	var w io.Writer = p.out
	if c.logFile != "" {
		f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			p.closeLog()
			return nil, fmt.Errorf("opening pcscd log: %w", err)
		}
		p.logFile = f
		w = io.MultiWriter(p.out, f)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Setpgid:   true,            // a terminal's ^C goes to the test, which stops pcscd
		Pdeathsig: syscall.SIGTERM, // and if the test dies, pcscd follows
	}
	if err := cmd.Start(); err != nil {
		p.closeLog()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p.pid = cmd.Process.Pid
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if _, err := waitReaders(ctx, c.readers, c.timeout, p.exited); err != nil {
		_ = p.Stop()
		return nil, fmt.Errorf("starting pcscd (pid %d): %w: %w\n--- pcscd output ---\n%s", p.pid, ErrNotReady, err, p.Log())
	}
	return p, nil
}

// running finds the pcscd to use that is already there: the one
// scripts/with-pcscd runs for this whole run, or one serving the vpcd
// readers. found is false when there is none and start must start one.
func running(ctx context.Context, c config) (_ *PCSCD, found bool, err error) {
	if pid, ok, err := providedPCSCD(); ok || err != nil {
		if err != nil {
			return nil, true, err
		}
		// scripts/with-pcscd runs it for this whole run: wait for it,
		// never start a second one nor clear its files, however slowly
		// it answers on a loaded machine.
		if _, err := waitReaders(ctx, c.readers, 3*c.timeout, nil); err != nil {
			return nil, true, fmt.Errorf("waiting for the pcscd of scripts/with-pcscd (pid %d): %w: %w", pid, ErrNotReady, err)
		}
		return &PCSCD{pid: pid}, true, nil
	}
	if live, pid := liveDaemon(RunDir); live {
		if _, err := waitReaders(ctx, c.readers, c.timeout/2, nil); err != nil {
			return nil, true, fmt.Errorf("checking the pcscd already running (pid %s): %w: %w; stop it, or add vsmartcard-vpcd's /etc/reader.conf.d/vpcd and restart it",
				pidString(pid), ErrForeignPCSCD, err)
		}
		return &PCSCD{pid: pid}, true, nil
	}
	return nil, false, nil
}

func pidString(pid int) string {
	if pid == 0 {
		return "unknown"
	}
	return strconv.Itoa(pid)
}

// waitReaders polls pcscd until every wanted reader is listed. It returns
// early when exited is closed (pcscd died) or ctx ends.
func waitReaders(ctx context.Context, want []string, timeout time.Duration, exited <-chan struct{}) ([]string, error) {
	deadline := time.Now().Add(timeout)
	var last []string
	var lastErr error
	for {
		last, lastErr = listReaders()
		if lastErr == nil && containsAll(last, want) {
			return last, nil
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				return nil, fmt.Errorf("waiting %v for readers %s: %w", timeout, strings.Join(want, ", "), lastErr)
			}
			return nil, fmt.Errorf("waiting %v for readers %q: pcscd lists %q", timeout, want, last)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for readers: %w", ctx.Err())
		case <-exited:
			return nil, errors.New("pcscd exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func listReaders() ([]string, error) {
	c, err := pcsc.Establish()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ReaderNames()
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// Stop stops a pcscd that StartPCSCD started: SIGTERM, then up to 5 s for
// it to exit (it removes its socket and pid file itself, §6.3), then
// SIGKILL. A reused pcscd is left alone. Either way the slot lock is
// released. Stop is idempotent.
func (p *PCSCD) Stop() error {
	p.stopOnce.Do(func() {
		if p.release != nil {
			defer p.release()
		}
		if !p.owned {
			return
		}
		defer p.closeLog()
		select {
		case <-p.exited:
			p.stopErr = fmt.Errorf("stopping pcscd (pid %d): it had already exited: %v\n--- pcscd output ---\n%s", p.pid, p.waitErr, p.Log())
			return
		default:
		}
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			p.stopErr = fmt.Errorf("stopping pcscd (pid %d): %w", p.pid, err)
			return
		}
		select {
		case <-p.exited:
			return
		case <-time.After(5 * time.Second):
		}
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.stopErr = fmt.Errorf("stopping pcscd (pid %d): no exit 5 s after SIGTERM, killed", p.pid)
		_ = clearStale(RunDir)
	})
	return p.stopErr
}

// Exited is closed when a pcscd that StartPCSCD started exits; nil for a
// reused one.
func (p *PCSCD) Exited() <-chan struct{} { return p.exited }

// closeLog closes the log file and removes the WithSlots config.
func (p *PCSCD) closeLog() {
	if p.logFile != nil {
		_ = p.logFile.Close()
		p.logFile = nil
	}
	if p.confDir != "" {
		_ = os.RemoveAll(p.confDir)
		p.confDir = ""
	}
}

func pidOf(dir string) int {
	pid, _ := pidFileOwner(dir)
	return pid
}

// liveDaemon reports whether a pcscd answers on dir/pcscd.comm, with the pid
// from its pid file when that names a live pcscd.
func liveDaemon(dir string) (bool, int) {
	// Generous: a pcscd busy with many clients is slow to accept, and a
	// false "not live" would clear its files (clearStale).
	conn, err := net.DialTimeout("unix", filepath.Join(dir, "pcscd.comm"), 5*time.Second)
	if err != nil {
		return false, 0
	}
	_ = conn.Close()
	pid, _ := pidFileOwner(dir)
	return true, pid
}

// pidFileOwner returns the pid in dir/pcscd.pid and whether that process is
// alive and is a pcscd.
func pidFileOwner(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "pcscd.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return pid, false
	}
	return pid, strings.TrimSpace(string(comm)) == "pcscd"
}

// clearStale removes pcscd's socket and pid file from dir when no live
// pcscd owns them: nothing answers on the socket and the pid file does not
// name a running pcscd. pcscd would otherwise refuse to start while the pid
// file's number belongs to any live process (§6.3).
func clearStale(dir string) error {
	if live, _ := liveDaemon(dir); live {
		return fmt.Errorf("clearing %s: a pcscd is answering there", dir)
	}
	if pid, alive := pidFileOwner(dir); alive {
		return fmt.Errorf("clearing %s: pcscd pid %d is alive but its socket does not answer; stop it first", dir, pid)
	}
	for _, name := range []string{"pcscd.comm", "pcscd.pid"} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("clearing stale %s: %w", name, err)
		}
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}
