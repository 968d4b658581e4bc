// Command with-pcscd runs a command with a private pcscd serving the vpcd
// readers, and stops that pcscd afterwards (package pcscdenv). The exit code
// is the command's. scripts/with-pcscd builds and runs it.
//
//	with-pcscd [--isolate] [--slots N] [--debug] [--log FILE] [--] command [args...]
//
// --slots N (1 to 16; also MYNAHIL_VPCD_SLOTS) starts pcscd with a reader
// config of its own serving N vpcd slots, readers "Virtual PCD 00 00" to
// vpcd.ReaderName(N-1), and sets MYNAHIL_VPCD_SLOTS=N for the command
// (docs/vpcd-pcscd.md, "Many cards"). Without it pcscd reads Debian's
// config: slots 0 and 1.
//
// --isolate runs pcscd and the command in a private network and mount
// namespace with its own /run/pcscd (docs/vpcd-pcscd.md §6.4; needs root and
// unshare): nothing on the host's ports 35963/35964 or in its /run/pcscd is
// touched, and parallel runs cannot meet. The command then has no network
// beyond its own loopback. Run by another user than root, --isolate says
// on one line that it needs root and runs the command without isolation
// (this machine's pcscd, when it serves the vpcd readers); run it as root,
// or with sudo, for the private namespaces.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd"
)

// nsMarker tells the re-executed copy that it already runs in the private
// namespaces.
const nsMarker = "MYNAHIL_PCSCD_NAMESPACE"

// geteuid is os.Geteuid; a test plays another user with it.
var geteuid = os.Geteuid

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is the whole program; it returns the exit code.
func run(argv []string) int {
	fs := flag.NewFlagSet("with-pcscd", flag.ContinueOnError)
	isolate := fs.Bool("isolate", os.Getenv("MYNAHIL_PCSCD_ISOLATE") == "1", "run in a private network and mount namespace (root; also MYNAHIL_PCSCD_ISOLATE=1)")
	debug := fs.Bool("debug", false, "run pcscd with --debug (never --apdu: that would log PINs)")
	logFile := fs.String("log", os.Getenv("MYNAHIL_PCSCD_LOG"), "append pcscd's output to this file (also MYNAHIL_PCSCD_LOG)")
	binary := fs.String("pcscd", "", "pcscd binary (default: PATH, then /usr/sbin/pcscd)")
	slots := fs.Int("slots", 0, "serve N vpcd slots (1-16) from a reader config of its own (also MYNAHIL_VPCD_SLOTS)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: with-pcscd [--isolate] [--slots N] [--debug] [--log FILE] [--pcscd PATH] [--] command [args...]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		return 2
	}
	args := fs.Args()
	if len(args) == 0 {
		fs.Usage()
		return 2
	}
	if code, done := enterNamespace(*isolate, argv); done {
		return code
	}
	opts, code := pcscdOptions(*debug, *logFile, *binary, *slots)
	if code != 0 {
		return code
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	p, err := pcscdenv.StartPCSCD(ctx, opts...)
	cancel()
	switch {
	case errors.Is(err, pcscdenv.ErrNotInstalled) && pcscdenv.InCI():
		fmt.Fprintf(os.Stderr, "with-pcscd: FAIL: %v (CI=true: a missing pcscd is a failure)\n", err)
		return 1
	case errors.Is(err, pcscdenv.ErrNotInstalled):
		// Outside CI the suites skip their PC/SC specs themselves.
		fmt.Fprintf(os.Stderr, "with-pcscd: %v; running without it, PC/SC suites will skip\n", err)
		return runCommand(args)
	case err != nil:
		fmt.Fprintf(os.Stderr, "with-pcscd: %v\n", err)
		return 1
	}
	announce(p)
	if p.PID() != 0 {
		// Test processes wait for this pcscd and never start their own.
		_ = os.Setenv(pcscdenv.EnvPID, strconv.Itoa(p.PID()))
	}
	code = runCommand(args)
	if err := p.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "with-pcscd: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// enterNamespace handles --isolate: as root it runs this program again in
// new namespaces (done, with that run's exit code); in the new namespace it
// sets the namespace up. done with code 1 when that fails.
func enterNamespace(isolate bool, argv []string) (code int, done bool) {
	if isolate && os.Getenv(nsMarker) == "" {
		if geteuid() == 0 {
			return reexecIsolated(argv), true
		}
		fmt.Fprintln(os.Stderr, "with-pcscd: --isolate skipped: private network and mount namespaces need root (run as root or with sudo); running without them")
	}
	if os.Getenv(nsMarker) != "" {
		// Consumed here: the command (perhaps another with-pcscd) must not
		// set up the namespace again over the running pcscd.
		_ = os.Unsetenv(nsMarker)
		// An outer with-pcscd's pcscd and slot lock are not in this
		// namespace: this one starts its own, and its command must not
		// wait for the other's (pcscdenv.EnvPID) nor borrow its slots.
		_ = os.Unsetenv(pcscdenv.EnvPID)
		_ = os.Unsetenv(pcscdenv.EnvSlotsLent)
		if err := setUpNamespace(); err != nil {
			fmt.Fprintf(os.Stderr, "with-pcscd: %v\n", err)
			return 1, true
		}
	}
	return 0, false
}

// pcscdOptions are the options of the pcscd to start; a non-zero code
// when --slots (or $MYNAHIL_VPCD_SLOTS) is out of range.
func pcscdOptions(debug bool, logFile, binary string, slots int) ([]pcscdenv.Option, int) {
	// The command's test processes take the slot lock; this one serves no card.
	opts := []pcscdenv.Option{pcscdenv.WithoutSlotLock()}
	if debug {
		opts = append(opts, pcscdenv.WithDebug())
	}
	if logFile != "" {
		opts = append(opts, pcscdenv.WithLogFile(logFile))
	}
	if binary != "" {
		opts = append(opts, pcscdenv.WithBinary(binary))
	}
	if slots == 0 && os.Getenv(pcscdenv.EnvSlots) != "" {
		n, err := pcscdenv.Slots()
		if err != nil {
			fmt.Fprintf(os.Stderr, "with-pcscd: %v\n", err)
			return nil, 2
		}
		slots = n
	}
	if slots != 0 {
		if slots < 1 || slots > vpcd.MaxSlots {
			fmt.Fprintf(os.Stderr, "with-pcscd: --slots %d: want 1 to %d\n", slots, vpcd.MaxSlots)
			return nil, 2
		}
		opts = append(opts, pcscdenv.WithSlots(slots))
		// The command's test processes read how many slots they may use.
		_ = os.Setenv(pcscdenv.EnvSlots, strconv.Itoa(slots))
	}
	return opts, 0
}

// announce says on stderr which pcscd the command gets.
func announce(p *pcscdenv.PCSCD) {
	if p.Owned() {
		fmt.Fprintf(os.Stderr, "with-pcscd: started pcscd (pid %d)\n", p.PID())
		return
	}
	pid := "unknown: it keeps no pid file"
	if p.PID() != 0 {
		pid = fmt.Sprint(p.PID())
	}
	fmt.Fprintf(os.Stderr, "with-pcscd: reusing the running pcscd (pid %s), which serves the vpcd readers\n", pid)
}

// runCommand runs args with the terminal's streams, forwarding SIGINT and
// SIGTERM, and returns its exit code (128+n for a signal, like a shell).
func runCommand(args []string) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "with-pcscd: starting %s: %v\n", args[0], err)
		return 127
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "with-pcscd: running %s: %v\n", args[0], err)
	return 1
}

// reexecIsolated runs this program again under unshare(1) in a new network
// and mount namespace (docs/vpcd-pcscd.md §6.4).
func reexecIsolated(argv []string) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "with-pcscd: finding own executable: %v\n", err)
		return 1
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		fmt.Fprintf(os.Stderr, "with-pcscd: --isolate needs unshare (util-linux): %v\n", err)
		return 1
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", "--", self}, argv...)
	cmd := exec.Command(unshare, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), nsMarker+"=1")
	signal.Ignore(syscall.SIGINT) // the child handles ^C and reports its code
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "with-pcscd: running unshare: %v\n", err)
	return 1
}

// setUpNamespace brings loopback up and gives the namespace its own
// /run/pcscd, so that the host's pcscd files are neither seen nor touched.
func setUpNamespace() error {
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("bringing up loopback in the private namespace: %v: %s", err, out)
	}
	if err := os.MkdirAll(pcscdenv.RunDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", pcscdenv.RunDir, err)
	}
	if err := syscall.Mount("tmpfs", pcscdenv.RunDir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("mounting a private %s: %w", pcscdenv.RunDir, err)
	}
	return nil
}
