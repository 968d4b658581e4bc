package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd/faults"
)

func init() {
	register(&cli.Command{Name: "conformance", Summary: "run the reader conformance suite (R01–R21) and write its report", Run: runConformance})
}

const conformanceHelp = `Usage: mynahil conformance [flags]

Runs the reader conformance checks R01–R21 against a PC/SC reader holding a
My Number Card (JPKI) and writes report.html, report.json, junit.xml,
ginkgo-report.json and a copy of the checklist the verdict is judged against
(conformance-checklist.md, from docs/ in the repository).

Exit codes:
  0  conformant: every part of every mandatory check ran and passed
  1  not conformant: a mandatory check failed
  2  usage error (bad flag, unknown check ID)
  3  could not run: pcscd, the reader, the card or the simulator's slot
     is not ready (no verdict on the reader)
  4  incomplete: nothing failed, but parts did not run (a PIN, an operator)

PINs are read from the environment only and never printed:
  MYNAHIL_AUTH_PIN  the card's auth PIN (4 digits): enables VERIFY and signing
  MYNAHIL_SIGN_PIN  the sign PIN: enables reading the sign certificate
Without them the PIN-dependent parts do not run and the verdict is at best
"incomplete". The suite spends at most one wrong try per PIN and never sends
a PIN with fewer than 2 tries left.`

// conformanceRun is what the command line of 'mynahil conformance' asks.
type conformanceRun struct {
	cfg     conformance.Config
	sim     bool
	profile faults.Profile
	report  string
	asJSON  bool
	verbose bool
}

// runConformance runs the checks against one PC/SC reader and writes the
// reports (package conformance; docs/conformance.md).
func runConformance(cio *cli.IO, args []string) error {
	run, err := parseConformance(cio, args)
	if err != nil {
		return err
	}
	cfg := &run.cfg
	start := time.Now()
	env := conformance.Environment{}
	results, base, err := runChecks(cio, cfg, &env, run)
	var nr *conformance.NotRunError
	switch {
	case errors.As(err, &nr):
	case err != nil:
		return cli.Env(err)
	}
	env.Fill(*cfg)
	sum := conformance.Summary{Env: env, Results: results, Start: start, Baseline: base}
	if nr != nil {
		sum.NotRun = nr
	}
	verdict := sum.Verdict()
	verdictOut := cio.Stdout
	if run.asJSON {
		verdictOut = cio.Stderr // stdout carries the JSON
	}
	printSummary(cio.Stderr, verdictOut, sum, time.Since(start))
	var paths []string
	if run.report != "" {
		if paths, err = conformance.WriteReports(run.report, sum); err != nil {
			return cli.WithCode(conformance.ExitNotRun, fmt.Errorf("writing the report: %w", err))
		}
		for _, p := range paths {
			fmt.Fprintf(cio.Stderr, "wrote %s\n", p)
		}
	}
	code := conformance.ExitCode(verdict)
	if run.asJSON {
		printVerdictJSON(cio.Stdout, sum, cfg.Reader, paths, nr)
	}
	switch {
	case nr != nil:
		return cli.Reported(code, nr) // printed above
	case code != 0:
		return cli.Reported(code, errors.New(verdict))
	}
	return nil
}

// parseConformance reads the command line into the run's configuration;
// PINs come from the environment only.
func parseConformance(cio *cli.IO, args []string) (conformanceRun, error) {
	var run conformanceRun
	fs := cli.NewFlagSet("mynahil conformance", conformanceHelp)
	reader := fs.String("reader", "", "PC/SC reader `NAME` (see 'mynahil readers'); default: the only reader, or \""+conformance.VirtualReader+"\" with --sim")
	report := fs.String("report", "", "directory for report.html, report.json, junit.xml, ginkgo-report.json and conformance-checklist.md (created)")
	sim := fs.Bool("sim", false, "serve the simulated card on vpcd slot 0 (pcscd with vpcd must be running)")
	fault := fs.String("fault", "", "with --sim: serve the card through this broken-reader profile: "+strings.Join(faults.Names(), ", "))
	soak := fs.Int("soak", 1000, "APDUs in R16's soak")
	timeout := fs.Duration("timeout", 5*time.Second, "deadline of every PC/SC call (R12)")
	extended := fs.Int("extended", 0, "largest extended-APDU data size the maker claims, when the reader does not advertise it (R09); 0 = none")
	full := fs.Bool("full", false, "R06: signature echo at every length 1..245 (slow on a physical card)")
	interactive := fs.Bool("interactive", false, "run the checks that need a person (R02/R04 on a physical reader, R03, R18, R19) with numbered prompts")
	placements := fs.Int("placements", 10, "R19: placements per orientation")
	only := fs.String("only", "", "comma-separated check IDs to run (default: all); a run of some checks is at best incomplete")
	asJSON := fs.JSON("print the verdict (or the error) as JSON on stdout")
	verbose := fs.Bool("v", false, "log the simulated card's vpcd traffic")
	if err := fs.Parse(cio, args); err != nil {
		return run, err
	}
	if err := fs.NoArgs(); err != nil {
		return run, err
	}
	usage := func(err error) error { return fs.Usagef("%v", err) }
	run = conformanceRun{sim: *sim, report: *report, asJSON: *asJSON, verbose: *verbose}
	run.cfg = conformance.Config{
		Reader:      *reader,
		AuthPIN:     jpkiclient.PIN(os.Getenv("MYNAHIL_AUTH_PIN")),
		SignPIN:     jpkiclient.PIN(os.Getenv("MYNAHIL_SIGN_PIN")),
		SoakCount:   *soak,
		APDUTimeout: *timeout,
		ExtendedMax: *extended,
		Full:        *full,
		Interactive: *interactive,
		Placements:  *placements,
		Log:         cio.Stderr,
	}
	if *only != "" {
		run.cfg.Only = strings.Split(*only, ",")
		if bad := conformance.UnknownIDs(run.cfg.Only); len(bad) > 0 {
			return run, usage(fmt.Errorf("unknown check IDs %s (the checks are R01–R20; R21 is the report's mandatory/optional marking)", strings.Join(bad, ", ")))
		}
	}
	p, ok := faults.ByName(*fault)
	switch {
	case !ok:
		return run, usage(fmt.Errorf("unknown fault profile %q (have: %s)", *fault, strings.Join(faults.Names(), ", ")))
	case *fault != "" && !*sim:
		return run, usage(errors.New("--fault needs --sim"))
	}
	run.profile = p
	if *interactive {
		run.cfg.Prompter = linePrompter{in: bufio.NewReader(cio.Stdin), out: cio.Stderr}
	}
	return run, nil
}

// runChecks serves the simulated card when asked, runs the preflight (so
// that the report names the reader it chose) and the checks.
func runChecks(cio *cli.IO, cfg *conformance.Config, env *conformance.Environment, run conformanceRun) ([]conformance.Result, conformance.Baseline, error) {
	if run.sim {
		stop, err := serveSim(cio.Stderr, cfg, env, run.profile, run.verbose)
		if err != nil {
			return nil, conformance.Baseline{}, err
		}
		defer stop()
	}
	if _, err := conformance.Preflight(cfg); err != nil {
		return nil, conformance.Baseline{}, err
	}
	return conformance.Run(*cfg)
}

// printVerdictJSON writes the --json result: the verdict, its exit code,
// the reports written, the checks that failed or are unproven, and the
// environment fault or the reason nothing ran.
func printVerdictJSON(w io.Writer, sum conformance.Summary, reader string, paths []string, nr *conformance.NotRunError) {
	verdict := sum.Verdict()
	out := struct {
		Verdict  string                 `json:"verdict"`
		Code     int                    `json:"code"`
		Reason   string                 `json:"error,omitempty"`
		Reader   string                 `json:"reader"`
		Reports  []string               `json:"reports,omitempty"`
		Failed   []string               `json:"failed,omitempty"`
		Unproven []string               `json:"incomplete,omitempty"`
		Fault    *conformance.JSONFault `json:"environment_fault,omitempty"`
	}{Verdict: verdict, Code: conformance.ExitCode(verdict), Reader: reader, Reports: paths, Fault: sum.JSON().Fault}
	if nr != nil {
		out.Reason = nr.Error()
	}
	for _, r := range sum.Results {
		switch {
		case r.Status == conformance.Failed:
			out.Failed = append(out.Failed, r.Check.ID)
		case r.Check.Mandatory && r.Status != conformance.Passed:
			out.Unproven = append(out.Unproven, r.Check.ID)
		}
	}
	_ = json.NewEncoder(w).Encode(out)
}

// serveSim claims the vpcd slots, makes sure no other card source serves
// slot 0, and serves the simulated card through profile p.
func serveSim(log io.Writer, cfg *conformance.Config, env *conformance.Environment, p faults.Profile, verbose bool) (stop func(), err error) {
	if cfg.Reader == "" {
		cfg.Reader = conformance.VirtualReader
	}
	release, err := pcscdenv.ClaimSlots("mynahil conformance --sim")
	if err != nil {
		return nil, &conformance.NotRunError{What: err.Error(), Do: "stop the other process (mynahil sim stops with Ctrl-C), or test the card it serves without --sim"}
	}
	// A previous run's card may still show for up to one presence poll
	// after it ended: wait for pcscd to see it leave, boundedly.
	_ = conformance.WaitCard(cfg.Reader, false, conformance.SlotClearWait)
	if err := conformance.SlotFree(cfg.Reader); err != nil {
		release()
		return nil, err
	}
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	card, err := conformance.StartSim(0, p, slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: level})))
	if err != nil {
		release()
		return nil, &conformance.NotRunError{What: fmt.Sprintf("starting the simulated card: %v", err), Do: "see the log above"}
	}
	stop = func() {
		// Leave the slot empty on exit, as pcscd sees it: the next run
		// (or a `mynahil sim`) then finds it free.
		if err := card.Leave(cfg.Reader); err != nil {
			fmt.Fprintf(log, "warning: %v\n", err)
		}
		release()
	}
	if err := conformance.WaitCard(cfg.Reader, true, 15*time.Second+p.InsertDelay); err != nil {
		stop()
		return nil, &conformance.NotRunError{What: fmt.Sprintf("the simulated card did not appear in %q (%v)", cfg.Reader, err),
			Do: "check that pcscd runs with vsmartcard-vpcd (scripts/with-pcscd starts one)"}
	}
	cfg.Card = card
	if cfg.AuthPIN == "" {
		cfg.AuthPIN = conformance.SimAuthPIN
	}
	if cfg.SignPIN == "" {
		cfg.SignPIN = conformance.SimSignPIN
	}
	if cfg.ExtendedMax == 0 {
		// The vpcd transport carries 65535-byte messages (docs/vpcd-pcscd.md §2, §9).
		cfg.ExtendedMax = 65535 - 9
	}
	env.Card = "simulated My Number Card (mynahil simcard, profile.Default)"
	env.Fault = p.Name + ": " + p.Summary
	return stop, nil
}

// printSummary writes what needs attention to w (stderr) and the verdict
// line to verdict: stdout, unless --json prints the verdict there as JSON
// (docs/conformance.md).
func printSummary(w, verdict io.Writer, s conformance.Summary, took time.Duration) {
	fmt.Fprintln(w)
	if s.NotRun != nil {
		fmt.Fprintf(w, "%v\n", s.NotRun)
		fmt.Fprintf(verdict, "%s: NOT RUN, no verdict on the reader\n", s.Env.Reader)
		return
	}
	fault, _ := conformance.Fault(s.Results)
	var after []string
	for _, r := range s.Results {
		if fault != nil && r.Status == conformance.Skipped && !r.BeforeFault {
			after = append(after, r.Check.ID)
			continue
		}
		printResult(w, r)
	}
	switch missing := conformance.MissingMandatory(s.Results); {
	case len(after) > 0:
		fmt.Fprintf(w, "  not run, the run stopped at the fault: %s\n", strings.Join(after, " "))
	case fault == nil && len(missing) > 0:
		var ids []string
		for _, c := range missing {
			ids = append(ids, c.ID)
		}
		fmt.Fprintf(w, "  not run (left out with --only): %s\n", strings.Join(ids, " "))
	}
	line := fmt.Sprintf("%s: %s (%d checks in %v; checklist version %s)", s.Env.Reader, strings.ToUpper(s.Verdict()), len(s.Results), took.Round(time.Second), conformance.ChecklistVersion)
	if fault != nil {
		line += fmt.Sprintf("; stopped by an environment fault: %s", fault.Cause)
	}
	fmt.Fprintln(verdict, line)
}

// printResult writes a check that needs attention: failed, incomplete,
// interrupted (with the cause and the remedy).
func printResult(w io.Writer, r conformance.Result) {
	first, _, _ := strings.Cut(r.Message, "\n")
	before := ""
	if r.BeforeFault {
		before = " (finished before the fault)"
	}
	switch {
	case r.Status == conformance.Interrupted:
		fmt.Fprintf(w, "  %s INTERRUPTED by an environment fault (%s), no verdict on the reader: %s\n      what to do: %s\n",
			r.Check.ID, r.Fault.Cause, r.Fault.What, r.Fault.Do)
	case r.Status == conformance.Failed:
		fmt.Fprintf(w, "  %s FAILED%s: %s\n", r.Check.ID, before, first)
	case r.Status == conformance.Incomplete || (r.Check.Mandatory && r.Status == conformance.Skipped):
		fmt.Fprintf(w, "  %s INCOMPLETE%s: %s\n", r.Check.ID, before, first)
		for _, p := range r.Skipped {
			fmt.Fprintf(w, "      %s needs %s\n", p.Name, p.Needs)
		}
	}
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
