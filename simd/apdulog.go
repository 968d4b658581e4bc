package simd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
	"github.com/mynahil/mynahil/simcard/card"
)

// loggedCard wraps a chip for the vpcd card side and logs one summary line
// per APDU at debug level, from the command the chip parsed (its Observer
// hook: the APDU is parsed once). Command data is logged only for SELECT (an
// AID or file ID); for every other command, and in particular VERIFY, CHANGE
// REFERENCE DATA and CHANGE KEY, which carry PINs (docs/card.md), only its
// length is logged. Response data is never logged, only its length and SW.
type loggedCard struct {
	*card.Card
	log *slog.Logger
}

func (c loggedCard) Transmit(command []byte) []byte {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return c.Card.Transmit(command)
	}
	start := time.Now()
	n := len(command)
	return c.TransmitObserved(command, func(cmd *apdu.Command, resp []byte) {
		attrs := summarize(cmd, n)
		if n := len(resp); n >= 2 {
			attrs = append(attrs, slog.String("sw", fmt.Sprintf("%02X%02X", resp[n-2], resp[n-1])),
				slog.Int("resp_len", n-2))
		}
		attrs = append(attrs, slog.Duration("took", time.Since(start)))
		c.log.LogAttrs(context.Background(), slog.LevelDebug, "apdu", attrs...)
	})
}

// Instruction names for logs (ISO/IEC 7816-4 5.4; JPKI-specific ones from
// docs/card.md).
var insNames = map[byte]string{
	0x20: "VERIFY",
	0x24: "CHANGE REFERENCE DATA",
	0x2C: "RESET RETRY COUNTER",
	0x2A: "COMPUTE DIGITAL SIGNATURE",
	0x32: "CHANGE KEY",
	0x84: "GET CHALLENGE",
	0x88: "INTERNAL AUTHENTICATE",
	0xA4: "SELECT",
	0xB0: "READ BINARY",
	0xB2: "READ RECORD",
	0xCA: "GET DATA",
}

// summarize describes a command APDU of n bytes, as the chip parsed it
// (nil: malformed), for a log line without revealing any secret: see
// loggedCard.
func summarize(cmd *apdu.Command, n int) []slog.Attr {
	if cmd == nil {
		return []slog.Attr{slog.String("cmd", "malformed"), slog.Int("len", n)}
	}
	name, ok := insNames[cmd.INS]
	if !ok {
		name = fmt.Sprintf("INS %02X", cmd.INS)
	}
	attrs := []slog.Attr{
		slog.String("cmd", name),
		slog.String("hdr", fmt.Sprintf("%02X %02X %02X %02X", cmd.CLA, cmd.INS, cmd.P1, cmd.P2)),
	}
	switch {
	case len(cmd.Data) == 0:
	case cmd.INS == 0xA4:
		attrs = append(attrs, slog.String("data", fmt.Sprintf("% X", cmd.Data)))
	default:
		attrs = append(attrs, slog.String("data", fmt.Sprintf("<%d bytes masked>", len(cmd.Data))))
	}
	if cmd.HasLe() {
		attrs = append(attrs, slog.Int("ne", cmd.Ne))
	}
	return attrs
}

// vpcdLogHandler passes the vpcd card side's records on, except debug
// records not in quietDebug: the card side logs every frame in hex at debug
// level, PIN bytes included, so only known-harmless debug lines get through
// whatever the daemon's verbosity; loggedCard logs the masked APDU instead.
type vpcdLogHandler struct{ slog.Handler }

var quietDebug = map[string]bool{"vpcd not reachable, retrying": true}

func (h vpcdLogHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo && !quietDebug[r.Message] {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h vpcdLogHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return vpcdLogHandler{h.Handler.WithAttrs(a)}
}

func (h vpcdLogHandler) WithGroup(n string) slog.Handler {
	return vpcdLogHandler{h.Handler.WithGroup(n)}
}
