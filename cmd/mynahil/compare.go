package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mynahil/mynahil/fidelity"
	"github.com/mynahil/mynahil/harness/transcript"
	"github.com/mynahil/mynahil/simcard/profile"
)

func init() {
	register("compare", "replay a transcript against the simulated card and report every difference", runCompare)
}

const compareHelp = `Usage: mynahil compare [--profile FILE] [--token T] [--atr A] [--json] TRANSCRIPT

Replays a transcript written by 'mynahil record' against a freshly issued
simulated card and reports every difference in status word, length and
structure, each with the step and the command that diverged. Values of
personal data are never compared (a transcript does not hold them); public
values (ATR, token label, EF 0008, 5F51) are. Certificate sizes may differ
by 10%. The simulated card's own PINs stand in for <auth-pin> and
<sign-pin>. See docs/record-compare.md.

Exit status: 0 no differences, 1 differences, 2 usage (bad flags, an
unreadable or malformed transcript), 3 environment.

Flags:
`

func runCompare(args []string) error {
	if code := compare(os.Stdout, os.Stderr, args); code != exitOK {
		os.Exit(code)
	}
	return nil
}

func compare(stdout, stderr io.Writer, args []string) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profileFile := fs.String("profile", "", "card profile JSON for the simulated card (default: the built-in profile)")
	token := fs.String("token", "", "token variant of the simulated card: card, android, iphone, juki")
	atr := fs.String("atr", "", "ATR of the simulated card: contact, contact-02, contact-03, contactless or hex")
	asJSON := fs.Bool("json", false, "print the differences (and errors) as JSON on stdout")
	fs.Usage = func() { // help goes to stdout, parse errors to stderr
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, compareHelp)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 {
		return fail(stdout, stderr, *asJSON, "compare", exitUsage, errors.New("want exactly one transcript file"))
	}
	recorded, err := transcript.Load(fs.Arg(0))
	if err != nil {
		return fail(stdout, stderr, *asJSON, "compare", exitUsage, err)
	}
	base := profile.Default()
	if *profileFile != "" {
		if base, err = profile.Load(*profileFile); err != nil {
			return fail(stdout, stderr, *asJSON, "compare", exitUsage, err)
		}
	}
	p, err := fidelity.ParseProfileFlags(base, *token, *atr)
	if err != nil {
		return fail(stdout, stderr, *asJSON, "compare", exitUsage, err)
	}
	replayed, diffs, err := fidelity.Compare(recorded, p)
	if err != nil {
		return fail(stdout, stderr, *asJSON, "compare", exitFail, err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if diffs == nil {
			diffs = []transcript.Difference{}
		}
		_ = enc.Encode(struct {
			Recorded    string                  `json:"recorded"`
			Replayed    string                  `json:"replayed"`
			Steps       int                     `json:"steps"`
			Differences []transcript.Difference `json:"differences"`
		}{recorded.Card, replayed.Card, len(recorded.Steps), diffs})
	} else if err := transcript.Report(stdout, recorded, replayed, diffs); err != nil {
		return fail(stdout, stderr, *asJSON, "compare", exitEnv, err)
	}
	if len(diffs) > 0 {
		return exitFail
	}
	return exitOK
}
