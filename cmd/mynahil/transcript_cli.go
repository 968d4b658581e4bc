package main

import (
	"errors"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// pcscError classifies a PC/SC error: a missing service, reader or card is
// the environment (exit 3), anything else the card failing (exit 1).
func pcscError(err error) error {
	for _, e := range []error{pcsc.ErrNoService, pcsc.ErrNoReaders, pcsc.ErrReaderNotFound, pcsc.ErrAmbiguousReader, pcsc.ErrNoCard, pcsc.ErrCardMute, pcsc.ErrSharingViolation} {
		if errors.Is(err, e) {
			return cli.Env(err)
		}
	}
	return cli.Failed(err)
}
