package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/transcript"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simreplay"
)

func init() {
	register(&cli.Command{Name: "record", Summary: "record the card's answers to a fixed probe into a transcript (safe on a physical card)", Run: runRecord})
}

const recordHelp = `Usage: mynahil record [--reader R] [--fingerprint SHA256] [--out FILE] [--json]
       mynahil record --sim [--token T] [--atr A] [--out FILE]

Sends a fixed probe sequence (about 120 commands: the MF level, the JPKI
applet as OpenSC and myna read it, the card-info applets, status words of
refused commands) to the card in a PC/SC reader and writes a transcript:
commands, status words, response lengths and the structure of personal data,
never its bytes. 'mynahil compare' then replays it against the simulated
card and lists every difference (docs/record-compare.md).

Safe on a physical card:
  - without PINs it only reads, or sends commands the card refuses without
    changing anything (a wrong-length 80 A2, secure-messaging CLAs, 80 AE);
  - PINs come only from the environment, never from flags, and are written
    to the transcript as <auth-pin> / <sign-pin>:
      MYNAHIL_AUTH_PIN   the auth PIN (4 digits)
      MYNAHIL_SIGN_PIN   the sign PIN (6-16 of A-Z, 0-9)
  - before each PIN it asks the card for the tries left and sends the PIN
    only if every try is left (3 for auth, 5 for sign); after one refusal
    it stops, so at most one try is ever spent;
  - --fingerprint (or MYNAHIL_CARD_FINGERPRINT), the SHA-256 of the card's
    auth certificate as 'mynahil readers --fingerprint' shows it, makes it
    refuse any other card before sending anything but the certificate read.

Exit status: 0 recorded, 1 the card was refused or refused a PIN (the
partial transcript is still written), 2 usage, 3 pcscd, reader or card
missing.`

func runRecord(cio *cli.IO, args []string) error { return record(cio, args, os.Getenv) }

func record(cio *cli.IO, args []string, getenv func(string) string) error {
	fs := cli.NewFlagSet("mynahil record", recordHelp)
	reader := fs.String("reader", "", "PC/SC reader: name, index or unique part of the name (default: the only reader)")
	fingerprint := fs.String("fingerprint", getenv("MYNAHIL_CARD_FINGERPRINT"), "SHA-256 of the auth certificate of the one card to record (default $MYNAHIL_CARD_FINGERPRINT)")
	out := fs.String("out", "", "transcript file to write (default: stdout)")
	sim := fs.Bool("sim", false, "record the simulated card in process instead of a reader (with its profile's PINs)")
	token := fs.String("token", "", "with --sim: token variant, one of card, android, iphone, juki")
	atr := fs.String("atr", "", "with --sim: ATR, a built-in name (contact, contact-02, contact-03, contactless) or hex")
	fs.JSON("print the result (and errors) as JSON on stdout")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	if !*sim && (*token != "" || *atr != "") {
		return fs.Usagef("--token and --atr need --sim")
	}
	t, opts, err := recordSource(fs, *sim, *reader, *token, *atr, getenv)
	if err != nil {
		return err
	}
	defer harness.Close(t)
	opts.Fingerprint = *fingerprint
	tr, recErr := transcript.Record(t, opts)
	if err := writeTranscript(cio.Stdout, *out, tr); err != nil {
		return cli.Env(err)
	}
	if recErr != nil {
		if errors.Is(recErr, transcript.ErrWrongCard) || errors.Is(recErr, transcript.ErrTriesSpent) || errors.Is(recErr, transcript.ErrPINRefused) {
			return cli.Failed(recErr)
		}
		return pcscError(recErr)
	}
	if *out != "" {
		if cio.JSON {
			return cli.PrintJSON(cio.Stdout, map[string]any{"steps": len(tr.Steps), "out": *out})
		}
		fmt.Fprintf(cio.Stderr, "recorded %d steps into %s\n", len(tr.Steps), *out)
	}
	return nil
}

// recordSource opens the card to record: the simulated card of a profile in
// process (with its PINs), or the card in a reader (PINs from the
// environment only).
func recordSource(fs *cli.FlagSet, sim bool, reader, token, atr string, getenv func(string) string) (harness.Transport, transcript.Options, error) {
	if sim {
		p, err := simreplay.ParseProfileFlags(profile.Default(), token, atr)
		if err != nil {
			return nil, transcript.Options{}, fs.Usagef("%v", err)
		}
		s, err := simreplay.Issue(p)
		if err != nil {
			return nil, transcript.Options{}, cli.Failed(err)
		}
		return s.Transport, transcript.Options{AuthPIN: s.AuthPIN, SignPIN: s.SignPIN, Card: s.Description}, nil
	}
	card, err := pcsc.Open(reader, pcsc.Exclusive)
	if err != nil {
		return nil, transcript.Options{}, pcscError(fmt.Errorf("opening the card: %w", err))
	}
	return card, transcript.Options{
		AuthPIN: jpkiclient.PIN(getenv("MYNAHIL_AUTH_PIN")),
		SignPIN: jpkiclient.PIN(getenv("MYNAHIL_SIGN_PIN")),
		Card:    "card in reader " + card.Reader(),
	}, nil
}

// writeTranscript writes to the file, or to w when path is empty.
func writeTranscript(w io.Writer, path string, tr *transcript.Transcript) error {
	if path == "" {
		return tr.Write(w)
	}
	return tr.Save(path)
}
