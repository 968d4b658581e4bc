package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/pcsc"
)

func init() {
	register(&cli.Command{Name: "readers", Summary: "list PC/SC readers with card state and ATR", Run: runReaders})
}

// readerJSON is one reader in `mynahil readers -json`.
type readerJSON struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`
	State       string `json:"state"`
	ATR         string `json:"atr,omitempty"`
	Fingerprint string `json:"auth_cert_sha256,omitempty"`
}

// readerRow is a reader with the card's identity, when asked for.
type readerRow struct {
	pcsc.ReaderInfo
	fingerprint string // SHA-256 of the JPKI auth certificate, "" if not read
}

func runReaders(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil readers", `Usage: mynahil readers [--json] [--fingerprint]

Lists the readers pcscd knows, with card state and ATR (pcsc_scan style).
The index and the name (or a unique part of it) select a reader in
MYNAHIL_READER. Exit 3 when pcscd is not running.`)
	asJSON := fs.JSON("print JSON instead of a table")
	identify := fs.Bool("fingerprint", false, "read each card's JPKI auth certificate (no PIN) and show its SHA-256, the value MYNAHIL_CARD_FINGERPRINT takes")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	c, err := pcsc.Establish()
	if err != nil {
		if errors.Is(err, pcsc.ErrNoService) {
			return cli.Env(fmt.Errorf("%w (start it, or run under scripts/with-pcscd)", err))
		}
		return cli.Env(err)
	}
	defer c.Close()
	rs, err := c.Readers()
	if err != nil {
		return cli.Env(err)
	}
	w := cio.Stdout
	rows := make([]readerRow, len(rs))
	for i, r := range rs {
		rows[i].ReaderInfo = r
		if *identify && r.Present() && !r.Mute() {
			rows[i].fingerprint = fingerprint(c, r.Name)
		}
	}
	return printReaders(w, rows, *asJSON, *identify)
}

// fingerprint reads the card's identity (harness/cardid: the JPKI auth
// certificate, which needs no PIN) in a transaction; "" when the card has
// no JPKI applet or is busy.
func fingerprint(c *pcsc.Context, reader string) string {
	card, err := c.Connect(reader, pcsc.Shared)
	if err != nil {
		return ""
	}
	defer card.Disconnect(pcsc.ResetCard) //nolint:errcheck // leave the card as found: nothing selected
	if err := card.Begin(); err != nil {
		return ""
	}
	defer card.End(pcsc.LeaveCard) //nolint:errcheck // Disconnect resets anyway
	fp, err := cardid.Read(card)
	if err != nil {
		return ""
	}
	return fp
}

func printReaders(w io.Writer, rs []readerRow, asJSON, identify bool) error {
	if asJSON {
		out := make([]readerJSON, len(rs))
		for i, r := range rs {
			out[i] = readerJSON{Index: r.Index, Name: r.Name, State: r.StateString(), ATR: r.ATRHex(), Fingerprint: r.fingerprint}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(rs) == 0 {
		_, err := fmt.Fprintln(w, "no readers")
		return err
	}
	tw := cli.Table(w)
	header := "#\tREADER\tSTATE\tATR"
	if identify {
		header += "\tAUTH CERT SHA-256"
	}
	fmt.Fprintln(tw, header)
	for _, r := range rs {
		line := fmt.Sprintf("%d\t%s\t%s\t%s", r.Index, r.Name, r.StateString(), dash(r.ATRHex()))
		if identify {
			line += "\t" + dash(r.fingerprint)
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
