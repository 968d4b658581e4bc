package target

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const promptChildEnv = "MYNAHIL_TEST_PROMPT_CHILD"

// TestPromptPINNoEcho runs promptPIN in a child process whose controlling
// terminal is a pseudo-terminal this test holds, types a PIN into it and
// checks that the PIN reached the program, was not echoed to the
// terminal, and that echo was switched back on afterwards.
func TestPromptPINNoEcho(t *testing.T) {
	if os.Getenv(promptChildEnv) == "1" {
		promptChild()
		return
	}
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestPromptPINNoEcho$")
	cmd.Env = append(os.Environ(), promptChildEnv+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = slave.Close() // the child has it; EOF on master when the child exits

	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	shown := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(shown(), "auth PIN") {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("no prompt on the terminal; screen %q, stderr %s", shown(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := master.Write([]byte("4321\n")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("child: %v\nstdout %s\nstderr %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("child did not finish")
	}
	if got := strings.TrimSpace(stdout.String()); got != "pin-ok=true echo-restored=true" {
		t.Errorf("child reported %q", got)
	}
	if strings.Contains(shown(), "4321") {
		t.Errorf("the PIN was echoed to the terminal: %q", shown())
	}
}

// promptChild is the child's side: prompt, then report on stdout (not the
// terminal) whether the PIN arrived and echo is back on.
func promptChild() {
	pin, err := promptPIN("auth PIN (4 digits)")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tty, err := os.Open("/dev/tty")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("pin-ok=%v echo-restored=%v\n", pin == "4321", tio.Lflag&unix.ECHO != 0)
	os.Exit(0)
}

// openPTY opens a pseudo-terminal pair (/dev/ptmx, then the unlocked
// /dev/pts/N).
func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}
