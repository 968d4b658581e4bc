package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/jpki"
	"github.com/mynahil/mynahil/vpcd/faults"
)

func init() {
	register(&cli.Command{Name: "conformance", Summary: "run the reader conformance suite (R01–R21) and write its report", Run: runConformance})
}

// ExitIncomplete is the conformance command's own exit code: a mandatory
// check did not run (docs/cli.md).
const ExitIncomplete = 4

// runConformance runs the checks of docs/conformance-checklist.md
// against one PC/SC reader and writes JUnit XML, Ginkgo JSON and a one-page
// HTML report (package conformance).
func runConformance(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil conformance", `Usage: mynahil conformance [flags]

Runs the reader conformance checks R01–R21 against a PC/SC reader holding a
My Number Card (JPKI) and writes report.html, junit.xml and report.json.
PINs are read from the environment only and never printed:
  MYNAHIL_AUTH_PIN  the card's auth PIN (4 digits): enables VERIFY and signing
  MYNAHIL_SIGN_PIN  the sign PIN: enables reading the sign certificate
Without them the PIN-dependent parts are skipped. The suite spends at most
one wrong try per PIN and never sends a PIN with fewer than 2 tries left.

Exit codes: 0 conformant, 1 not conformant, 2 usage error, 3 environment
error (pcscd down, reader missing), 4 incomplete (a mandatory check did
not run). The checklist: docs/conformance-checklist.md.`)
	reader := fs.String("reader", "", "PC/SC reader name (see pcsc_scan); default: the only reader, or \""+conformance.VirtualReader+"\" with --sim")
	report := fs.String("report", "", "directory for report.html, junit.xml and report.json (created)")
	sim := fs.Bool("sim", false, "serve the simulated card on vpcd slot 0 (pcscd with vpcd must be running)")
	fault := fs.String("fault", "", "with --sim: serve the card through this broken-reader profile: "+strings.Join(faults.Names(), ", "))
	soak := fs.Int("soak", 1000, "APDUs in R16's soak")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of every PC/SC call (R12)")
	extended := fs.Int("extended", 0, "largest extended-APDU data size the maker claims, when the reader does not advertise it (R09); 0 = none")
	full := fs.Bool("full", false, "R06: signature echo at every length 1..245 (slow on a physical card)")
	interactive := fs.Bool("interactive", false, "run the checks that need a person (R02/R04 on a physical reader, R03, R18, R19) with prompts")
	placements := fs.Int("placements", 10, "R19: placements per orientation")
	only := fs.String("only", "", "comma-separated check IDs to run (default: all)")
	verbose := fs.Bool("v", false, "log the simulated card's vpcd traffic")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}

	cfg := conformance.Config{
		Reader:      *reader,
		AuthPIN:     jpki.PIN(os.Getenv("MYNAHIL_AUTH_PIN")),
		SignPIN:     jpki.PIN(os.Getenv("MYNAHIL_SIGN_PIN")),
		SoakCount:   *soak,
		APDUTimeout: *timeout,
		ExtendedMax: *extended,
		Full:        *full,
		Interactive: *interactive,
		Placements:  *placements,
		Log:         os.Stderr,
	}
	if *only != "" {
		cfg.Only = strings.Split(*only, ",")
	}
	if *interactive {
		cfg.Prompter = linePrompter{in: bufio.NewReader(os.Stdin), out: os.Stderr}
	}
	env := conformance.Environment{}
	switch {
	case *sim:
		p, ok := faults.ByName(*fault)
		if !ok {
			return fs.Usagef("unknown fault profile %q (have: %s)", *fault, strings.Join(faults.Names(), ", "))
		}
		level := slog.LevelWarn
		if *verbose {
			level = slog.LevelDebug
		}
		card, err := conformance.StartSim(0, p, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		if err != nil {
			return cli.Env(err)
		}
		defer card.Close()
		cfg.Card = card
		if cfg.Reader == "" {
			cfg.Reader = conformance.VirtualReader
		}
		if err := conformance.WaitCard(cfg.Reader, true, 10*time.Second+p.InsertDelay); err != nil {
			return cli.Envf("waiting for the simulated card in %q (is pcscd with vpcd running? scripts/with-pcscd starts one): %w", cfg.Reader, err)
		}
		if cfg.AuthPIN == "" {
			cfg.AuthPIN = conformance.SimAuthPIN
		}
		if cfg.SignPIN == "" {
			cfg.SignPIN = conformance.SimSignPIN
		}
		if cfg.ExtendedMax == 0 {
			// The vpcd transport carries 65535-byte messages (docs/vpcd-pcscd.md).
			cfg.ExtendedMax = 65535 - 9
		}
		env.Card = "simulated My Number Card (mynahil simcard, profile.Default)"
		env.Fault = p.Name + ": " + p.Summary
	case *fault != "":
		return fs.Usagef("--fault needs --sim")
	}
	if cfg.Reader == "" {
		r, err := conformance.OnlyReader()
		if err != nil {
			return cli.Envf("choosing a reader: %w (name one with --reader)", err)
		}
		cfg.Reader = r
	}

	start := time.Now()
	results := conformance.Run(cfg)
	env.Fill(cfg)
	verdict := conformance.Verdict(results)
	fmt.Fprintf(os.Stderr, "\n%s: %s (%d checks in %v)\n", cfg.Reader, strings.ToUpper(verdict), len(results), time.Since(start).Round(time.Second))
	if *report != "" {
		paths, err := conformance.WriteReports(*report, env, results, start)
		if err != nil {
			return cli.Env(fmt.Errorf("writing the report: %w", err))
		}
		for _, p := range paths {
			fmt.Fprintf(os.Stderr, "wrote %s\n", p)
		}
	}
	switch verdict {
	case "conformant":
		return nil
	case "incomplete":
		return cli.WithCode(ExitIncomplete, fmt.Errorf("verdict: %s", verdict))
	}
	return cli.Failed(fmt.Errorf("verdict: %s", verdict))
}

// linePrompter asks on out and waits for Enter on in.
type linePrompter struct {
	in  *bufio.Reader
	out io.Writer
}

func (p linePrompter) Prompt(msg string) error {
	fmt.Fprintf(p.out, "\n>>> %s Press Enter when done. ", msg)
	if _, err := p.in.ReadString('\n'); err != nil {
		return fmt.Errorf("reading the operator's answer: %w", err)
	}
	return nil
}

// Notify tells the operator what to do without waiting for Enter.
func (p linePrompter) Notify(msg string) {
	fmt.Fprintf(p.out, "\n>>> %s\n", msg)
}
