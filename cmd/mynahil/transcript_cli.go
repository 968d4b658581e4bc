package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mynahil/mynahil/harness/pcsc"
)

// Exit codes of the record and compare commands (the CLI conventions): 0
// success, 1 the thing asked failed (differences found, card refused), 2
// usage, 3 environment (pcscd down, reader missing, no card).
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	exitEnv   = 3
)

// fail reports err on stderr, or as {"error", "code"} on stdout with
// --json, and returns code.
func fail(stdout, stderr io.Writer, asJSON bool, cmd string, code int, err error) int {
	if asJSON {
		b, _ := json.Marshal(struct {
			Error string `json:"error"`
			Code  int    `json:"code"`
		}{err.Error(), code})
		fmt.Fprintln(stdout, string(b))
		return code
	}
	fmt.Fprintf(stderr, "mynahil %s: %v\n", cmd, err)
	return code
}

// pcscExit classifies a PC/SC error: missing service, reader or card is the
// environment (3), anything else a failure (1).
func pcscExit(err error) int {
	for _, e := range []error{pcsc.ErrNoService, pcsc.ErrNoReaders, pcsc.ErrReaderNotFound, pcsc.ErrAmbiguousReader, pcsc.ErrNoCard, pcsc.ErrCardMute, pcsc.ErrSharingViolation} {
		if errors.Is(err, e) {
			return exitEnv
		}
	}
	return exitFail
}
