package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/mynahil/mynahil/simapi"
)

// readPIN takes the PIN of a kind from $MYNAHIL_AUTH_PIN / $MYNAHIL_SIGN_PIN,
// else the terminal without echo (asked twice), else a line of stdin. With
// optional, an empty answer means "keep".
func (cio officeIO) readPIN(k simapi.Kind, optional bool) (string, error) {
	env := "MYNAHIL_AUTH_PIN"
	label := "authentication PIN (4 digits)"
	if k == simapi.Sign {
		env, label = "MYNAHIL_SIGN_PIN", "signing PIN (6–16 of A–Z 0–9)"
	}
	if v, ok := os.LookupEnv(env); ok {
		return v, nil
	}
	if optional {
		label += ", empty keeps the old one"
	}
	if cio.inFD >= 0 {
		if old, err := unix.IoctlGetTermios(cio.inFD, unix.TCGETS); err == nil {
			return cio.promptNoEcho(old, label, optional)
		}
	}
	line, err := cio.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", fmt.Errorf("reading %s: set $%s or type it on a terminal", label, env)
	}
	pin := strings.TrimRight(line, "\r\n")
	if pin == "" && !optional {
		return "", fmt.Errorf("reading %s: empty", label)
	}
	return pin, nil
}

func (cio officeIO) promptNoEcho(old *unix.Termios, label string, optional bool) (string, error) {
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ECHONL
	if err := unix.IoctlSetTermios(cio.inFD, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("switching off echo: %w", err)
	}
	defer unix.IoctlSetTermios(cio.inFD, unix.TCSETS, old)
	read := func(prompt string) (string, error) {
		fmt.Fprint(cio.errOut, prompt)
		line, err := cio.in.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", label, err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	first, err := read("New " + label + ": ")
	if err != nil {
		return "", err
	}
	if first == "" {
		if optional {
			return "", nil
		}
		return "", fmt.Errorf("reading %s: empty", label)
	}
	second, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", fmt.Errorf("reading %s: the two entries differ", label)
	}
	return first, nil
}

var spanRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?$`)

// parseSpan reads "1y2m3d" (any part optional, at least one present).
func parseSpan(s string) (years, months, days int, err error) {
	m := spanRE.FindStringSubmatch(s)
	if m == nil || s == "" {
		return 0, 0, 0, fmt.Errorf("--advance %q: want a span such as 90d, 3m or 1y2m3d", s)
	}
	n := func(v string) int {
		if v == "" {
			return 0
		}
		i, _ := strconv.Atoi(v)
		return i
	}
	return n(m[1]), n(m[2]), n(m[3]), nil
}
