package main

import (
	"fmt"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness/transcript"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simreplay"
)

func init() {
	register(&cli.Command{Name: "compare", Summary: "replay a transcript against the simulated card and report every difference", Run: runCompare})
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
unreadable or malformed transcript), 3 environment.`

// errDifferences makes compare exit 1 after printing its report.
var errDifferences = fmt.Errorf("the simulated card differs from the transcript")

func runCompare(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil compare", compareHelp)
	profileFile := fs.String("profile", "", "card profile JSON for the simulated card (default: the built-in profile)")
	token := fs.String("token", "", "token variant of the simulated card: card, android, iphone, juki")
	atr := fs.String("atr", "", "ATR of the simulated card: contact, contact-02, contact-03, contactless or hex")
	fs.JSON("print the differences (and errors) as JSON on stdout")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fs.Usagef("want exactly one transcript file")
	}
	recorded, err := transcript.Load(fs.Arg(0))
	if err != nil {
		return fs.Usagef("%v", err)
	}
	base := profile.Default()
	if *profileFile != "" {
		if base, err = profile.Load(*profileFile); err != nil {
			return fs.Usagef("%v", err)
		}
	}
	p, err := simreplay.ParseProfileFlags(base, *token, *atr)
	if err != nil {
		return fs.Usagef("%v", err)
	}
	replayed, diffs, err := simreplay.Compare(recorded, p)
	if err != nil {
		return cli.Failed(err)
	}
	if cio.JSON {
		if diffs == nil {
			diffs = []transcript.Difference{}
		}
		if err := cli.PrintJSON(cio.Stdout, map[string]any{
			"recorded": recorded.Card, "replayed": replayed.Card, "steps": len(recorded.Steps), "differences": diffs,
		}); err != nil {
			return cli.Env(err)
		}
	} else if err := transcript.Report(cio.Stdout, recorded, replayed, diffs); err != nil {
		return cli.Env(err)
	}
	if len(diffs) > 0 {
		return cli.Failed(fmt.Errorf("%w: %d differences", errDifferences, len(diffs)))
	}
	return nil
}
