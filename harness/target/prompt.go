package target

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// errNoTerminal: there is no controlling terminal to prompt on.
var errNoTerminal = errors.New("no terminal to prompt on")

// promptPIN asks for a PIN on the controlling terminal (/dev/tty, so it
// works under `go test` and Ginkgo, whose stdin is not the terminal) with
// echo off, and restores the terminal afterwards. An empty answer means "no
// PIN". The PIN is never echoed, logged or put in an error.
func promptPIN(label string) (jpkiclient.PIN, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", errNoTerminal
	}
	defer tty.Close()
	fd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", errNoTerminal
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ECHONL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", fmt.Errorf("turning terminal echo off: %w", err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old) //nolint:errcheck // best effort on the way out

	if _, err := fmt.Fprintf(tty, "mynahil: %s for the physical card (empty: skip specs that need it): ", label); err != nil {
		return "", fmt.Errorf("prompting for %s: %w", label, err)
	}
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading %s from the terminal: %w", label, err)
	}
	return jpkiclient.PIN(strings.TrimRight(line, "\r\n")), nil
}
