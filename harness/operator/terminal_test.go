package operator_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
)

// pty opens a pseudo-terminal pair: the master for the test, the path of
// the slave for the operator.
func pty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// answer waits for the operator's prompt on the master and types line.
func answer(t *testing.T, m *os.File, line string) <-chan string {
	prompt := make(chan string, 1)
	go func() {
		r := bufio.NewReader(m)
		var seen strings.Builder
		for !strings.Contains(seen.String(), "(n to decline): ") {
			b, err := r.ReadByte()
			if err != nil {
				break
			}
			seen.WriteByte(b)
		}
		_, _ = m.WriteString(line + "\n")
		prompt <- seen.String()
	}()
	return prompt
}

func TestTerminalWaitsForEnter(t *testing.T) {
	m, slave := pty(t)
	step := operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.SignPIN, Value: "SECRET99", Reader: "Reader X"}
	prompt := answer(t, m, "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := (operator.Terminal{TTY: slave}).Do(ctx, step); err != nil {
		t.Fatalf("Enter: %v, want done", err)
	}
	p := <-prompt
	if !strings.Contains(p, "re-set the sign PIN") || !strings.Contains(p, `"Reader X"`) || strings.Contains(p, "SECRET99") {
		t.Errorf("prompt = %q", p)
	}
}

func TestTerminalDecline(t *testing.T) {
	m, slave := pty(t)
	_ = answer(t, m, "n")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := (operator.Terminal{TTY: slave}).Do(ctx, operator.Step{Action: operator.ResetPIN, Reader: "R"})
	if !errors.Is(err, operator.ErrDeclined) {
		t.Errorf("n: %v, want ErrDeclined", err)
	}
}
