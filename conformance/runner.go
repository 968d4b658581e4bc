// Package conformance is the reader conformance suite for the My Number Card
// (JPKI): the checks R01–R21 of docs/conformance-checklist.md that can
// run on a PC/SC host, run against any PC/SC reader holding a JPKI card — a
// physical reader with a physical test card, or the virtual reader "Virtual
// PCD 00 00" with the simulated card (docs/vpcd-pcscd.md).
//
// The checks are plain Go (Checks, Run), so that the same code backs the
// Ginkgo suite in this directory (CI: go tool ginkgo --junit-report …) and
// the command "mynahil conformance", which needs no Go toolchain at run
// time. Both produce a Ginkgo types.Report, from which Ginkgo's own
// reporters write JUnit XML and JSON and WriteHTML writes the one-page report.
//
// The suite is non-destructive: it never sends a PIN that was not given,
// never sends a given PIN again after the card refused it, and never sends
// one when only a single try is left; nothing it sends can block a PIN.
package conformance

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pinbudget"
)

// Status is the outcome of one check.
type Status string

// Check outcomes.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
	// Incomplete: nothing failed, but parts of the check did not run (a PIN
	// or an operator was missing). It never counts as passed.
	Incomplete Status = "incomplete"
	// Interrupted: the check met an environment fault (Result.Fault) and
	// says nothing about the reader; the run stops there.
	Interrupted Status = "interrupted"
)

// Verdicts of a run (docs/conformance.md).
const (
	VerdictConformant    = "conformant"
	VerdictNotConformant = "not conformant"
	VerdictIncomplete    = "incomplete"
	VerdictNotRun        = "not run"
)

// Part is a piece of a check that could not run, and what it needs.
type Part struct {
	Name  string `json:"name"`
	Needs string `json:"needs"` // "the auth PIN (MYNAHIL_AUTH_PIN)", "an operator (--interactive)", …
	Why   string `json:"why"`
}

// Check is one conformance check.
type Check struct {
	ID        string // R01 … R21
	Title     string
	Mandatory bool // mandatory checks decide the verdict (R21; testpcsc PANIC)
	// Labels are the check's own labels (harness/speclabel): Interactive
	// (a person at the reader; off unless asked for), PIN (sends the auth
	// PIN when one is given), CardControl, Slow.
	Labels []speclabel.Label
	// Procedure says in a sentence or two what is done and what passes.
	Procedure string
	run       func(*T)
}

// HasLabel reports whether the check carries label l.
func (c Check) HasLabel(l speclabel.Label) bool { return slices.Contains(c.Labels, l) }

// CardControl lets the suite insert and remove the card itself, as the
// simulated card behind vpcd allows (docs/vpcd-pcscd.md §3.4). A physical
// card has none; those checks then ask an operator (interactive) or skip.
type CardControl interface {
	Remove()
	Insert()
	// VanishOnNextAPDU makes the card disappear instead of answering the
	// next command APDU (R04).
	VanishOnNextAPDU()
}

// Prompter asks the operator to do something and waits until they confirm.
type Prompter interface {
	Prompt(msg string) error
}

// Notifier is a Prompter that can also just tell the operator what to do,
// without waiting: used where the suite itself watches for the result
// (card insertion and removal), so that the latency it measures starts at
// the instruction rather than at the operator's confirmation.
type Notifier interface {
	Notify(msg string)
}

// Config is what a run needs.
type Config struct {
	Reader  string         // PC/SC reader name; "" picks the only reader with a card
	AuthPIN jpkiclient.PIN // "" for none: the PIN-dependent parts are skipped
	SignPIN jpkiclient.PIN // "" for none: the sign certificate is only checked to be protected (6982)
	// SoakCount is the number of APDUs in R16's soak (default 1000).
	SoakCount int
	// APDUTimeout bounds every PC/SC call (default 5 s); a call that takes
	// longer counts as a hang (R12).
	APDUTimeout time.Duration
	// SlowBudget is the most one APDU of a slow card operation may take
	// through the reader (R11; default 10 s, checklist R11). The fault
	// matrix lowers it under its APDU timeout.
	SlowBudget time.Duration
	// DetectBudget is the most an insertion or removal may take to show up
	// in SCardGetStatusChange (default 1.5 s) when the suite moves the card
	// itself (R02, R04).
	DetectBudget time.Duration
	// ExtendedMax declares the largest extended-APDU data size the reader
	// maker claims (e.g. from the datasheet or CCID dwFeatures) when the
	// reader does not advertise dwMaxAPDUDataSize itself (R09); 0 = no claim.
	ExtendedMax int
	// Full runs R06's signature echo at every length 1..245 instead of a
	// stepped set (slow on a physical card: about 0.5 s per signature).
	Full bool
	// Interactive enables the checks that need a person; Prompter asks.
	Interactive bool
	Prompter    Prompter
	// Placements is R19's repeat count per orientation (default 10; pass at 90 %).
	Placements int
	// Card is set when the suite can move the card itself (the simulator).
	Card CardControl
	// Only, if non-empty, restricts the run to these check IDs.
	Only []string
	// Log receives progress lines; nil discards them. PINs never reach it.
	Log io.Writer
}

func (c *Config) defaults() {
	if c.SoakCount <= 0 {
		c.SoakCount = 1000
	}
	if c.APDUTimeout <= 0 {
		c.APDUTimeout = 5 * time.Second
	}
	if c.SlowBudget <= 0 {
		c.SlowBudget = 10 * time.Second
	}
	if c.DetectBudget <= 0 {
		c.DetectBudget = defaultDetectBudget
	}
	if c.Placements <= 0 {
		c.Placements = 10
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
}

// Entry is one measurement or fact a check recorded.
type Entry struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Result is the outcome of one check.
type Result struct {
	Check    Check         `json:"-"`
	Status   Status        `json:"status"`
	Message  string        `json:"message,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	Entries  []Entry       `json:"entries,omitempty"`
	// Skipped lists the parts that did not run; a check with any is
	// Incomplete, not Passed.
	Skipped []Part `json:"skipped_parts,omitempty"`
	// Trace is the check's APDU exchanges, PINs masked (kept for failed,
	// incomplete and interrupted checks).
	Trace []string `json:"trace,omitempty"`
	// Fault is the environment fault that interrupted the check.
	Fault *EnvFault `json:"fault,omitempty"`
	// BeforeFault marks a check that finished before a later check met an
	// environment fault: its result stands.
	BeforeFault bool `json:"finished_before_fault,omitempty"`
}

// T is what a check's body works with: it records entries and ends the
// check on failure or skip (like testing.T, by leaving the goroutine).
type T struct {
	cfg   *Config
	run   *RunState
	res   *Result
	mu    sync.Mutex
	fails []string
	fault *EnvFault // an environment fault the check reported
}

// Record adds a fact or measurement to the check's report.
func (t *T) Record(name string, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.res.Entries = append(t.res.Entries, Entry{Name: name, Value: fmt.Sprintf(format, args...)})
}

// Ms records a duration in milliseconds.
func (t *T) Ms(name string, d time.Duration) {
	t.Record(name, "%.2f ms", float64(d.Microseconds())/1000)
}

// Logf writes a progress line.
func (t *T) Logf(format string, args ...any) {
	fmt.Fprintf(t.cfg.Log, "    %s: %s\n", t.res.Check.ID, fmt.Sprintf(format, args...))
}

// Errorf records a failure and lets the check go on. An argument that is
// an error wrapping an *EnvFault makes it an environment fault instead:
// the check ends Interrupted, not Failed.
func (t *T) Errorf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fails = append(t.fails, fmt.Sprintf(format, args...))
	for _, a := range args {
		if err, ok := a.(error); ok && t.fault == nil {
			t.fault = AsEnvFault(err)
		}
	}
}

// Interrupt ends the check on an environment fault (err wraps an
// *EnvFault), or as failed with err's text when it does not.
func (t *T) Interrupt(err error) { t.Fatalf("%v", err) }

// Fatalf records a failure and ends the check.
func (t *T) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
}

// SkipPart records that a part of the check did not run because it needs
// something the run lacks; the check then ends Incomplete unless it fails.
func (t *T) SkipPart(name, needs, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.res.Skipped = append(t.res.Skipped, Part{Name: name, Needs: needs, Why: why})
	t.res.Entries = append(t.res.Entries, Entry{Name: name, Value: "not run: " + why})
}

// Skipf ends the check as skipped (not exercised); it does not count
// against the verdict.
func (t *T) Skipf(format string, args ...any) {
	t.mu.Lock()
	t.res.Status = Skipped
	t.res.Message = fmt.Sprintf(format, args...)
	t.mu.Unlock()
	runtime.Goexit()
}

// checkTimeout bounds one check; a check that overruns it has hung.
// interactiveTimeout bounds one that waits for an operator.
const (
	checkTimeout       = 4 * time.Minute
	interactiveTimeout = time.Hour
)

// RunState is shared by the checks of one run (NewRun).
type RunState struct {
	mu sync.Mutex
	// pins is the run's PIN budget (harness/pinbudget): a given PIN is
	// sent only with every try left, and never again once refused.
	pins *pinbudget.Budget
	ref  *reference
	// hangsAtStart is the process's hang count when the run began (R12
	// counts only this run's).
	hangsAtStart int64
	// Baseline scales the timing limits (Preflight measures it).
	Baseline Baseline
	// card is the card the run started with (NoteCard), for the health
	// probe's "same card".
	card cardID
}

// NoteCard records the card in cfg.Reader as the run's card: a check that
// fails later with another card in the reader is an environment fault, not
// the reader's (health). Run calls it after Preflight.
func (rs *RunState) NoteCard(cfg *Config) { rs.noteCard(cfg) }

// RunCheck runs one check with cfg (defaults filled in) and returns its result.
func RunCheck(c Check, cfg *Config, rs *RunState) Result {
	cfg.defaults()
	res := Result{Check: c, Start: time.Now(), Status: Passed}
	t := &T{cfg: cfg, run: rs, res: &res}
	if c.needsCard() && cfg.Reader != "" {
		settle(c, cfg)
	}
	tr := startTrace(cfg.Card == nil) // no card control: a physical card
	defer stopTrace()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(t)
	}()
	limit := checkTimeout
	if c.HasLabel(speclabel.Interactive) || (c.HasLabel(speclabel.CardControl) && cfg.Card == nil) {
		limit = interactiveTimeout // an operator sets the pace
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	finished := true
	select {
	case <-done:
	case <-timer.C:
		finished = false
		t.Errorf("the check did not finish within %v", limit)
	}
	res.Duration = time.Since(res.Start)
	trace := tr.lines()
	stopTrace() // the health probe's exchanges are not the check's
	t.mu.Lock()
	defer t.mu.Unlock()
	fault := t.fault
	if fault == nil && finished && len(t.fails) > 0 && cfg.Reader != "" {
		// Before the reader is blamed: is the environment still sound?
		fault = rs.health(cfg, c.ID)
	}
	switch {
	case fault != nil:
		res.Status, res.Fault = Interrupted, fault
		res.Message = "interrupted by an environment fault, no verdict on the reader: " + fault.Error()
		if len(t.fails) > 0 {
			res.Message += "\nwhat the check saw: " + strings.Join(t.fails, "\n")
		}
	case len(t.fails) > 0:
		res.Status = Failed
		res.Message = strings.Join(t.fails, "\n")
	case res.Status == Passed && len(res.Skipped) > 0:
		res.Status = Incomplete
		var parts []string
		for _, p := range res.Skipped {
			parts = append(parts, p.Name+" needs "+p.Needs)
		}
		res.Message = "not every part ran: " + strings.Join(parts, "; ")
	}
	if res.Status != Passed && res.Status != Skipped {
		res.Trace = trace
	}
	return res
}

// NewRun returns the state shared by the checks of one run.
func NewRun() *RunState {
	return &RunState{pins: pinbudget.New(), hangsAtStart: hangs.Load()}
}

// Selected returns the checks cfg asks for, in ID order: all of them, or
// those named in Only. Interactive checks are listed even without
// Interactive; they then end as skipped.
func Selected(cfg *Config) []Check {
	var out []Check
	for _, c := range Checks() {
		if len(cfg.Only) > 0 && !containsTrimmed(cfg.Only, c.ID) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Run checks the environment (Preflight), then runs every selected check
// and returns the results and the baseline. A *NotRunError means no check
// ran and no verdict applies.
func Run(cfg Config) ([]Result, Baseline, error) {
	cfg.defaults()
	if bad := UnknownIDs(cfg.Only); len(bad) > 0 {
		return nil, Baseline{}, fmt.Errorf("unknown check IDs %s", strings.Join(bad, ", "))
	}
	base, err := Preflight(&cfg)
	if err != nil {
		return nil, base, err
	}
	fmt.Fprintf(cfg.Log, "baseline: SELECT round trip median %v, max %v over %d exchanges\n",
		base.Median.Round(time.Microsecond), base.Max.Round(time.Microsecond), base.Exchanges)
	rs := NewRun()
	rs.Baseline = base
	rs.NoteCard(&cfg)
	checks := Order(Selected(&cfg), cfg.Interactive && cfg.Card == nil)
	if cfg.Interactive && cfg.Prompter != nil {
		cfg.Prompter = newStepPrompter(cfg.Prompter, plannedPrompts(checks, &cfg))
	}
	var out []Result
	for i, c := range checks {
		fmt.Fprintf(cfg.Log, "%s %s …\n", c.ID, c.Title)
		r := RunCheck(c, &cfg, rs)
		fmt.Fprintf(cfg.Log, "%s %s (%v)%s\n", c.ID, strings.ToUpper(string(r.Status)), r.Duration.Round(time.Millisecond), indent(r.Message))
		out = append(out, r)
		if r.Status == Interrupted {
			fmt.Fprintf(cfg.Log, "run stopped at %s: %s\n", c.ID, r.Fault.Cause)
			return stopAtFault(out, checks[i+1:]), base, nil
		}
	}
	return out, base, nil
}

// stopAtFault marks the results before an environment fault as finished
// before it, and lists the checks after it as not run.
func stopAtFault(out []Result, rest []Check) []Result {
	last := out[len(out)-1]
	for i := range out[:len(out)-1] {
		out[i].BeforeFault = true
	}
	for _, c := range rest {
		out = append(out, Result{Check: c, Status: Skipped, Start: time.Now(),
			Message: fmt.Sprintf("not run: the run stopped at %s's environment fault (%s)", last.Check.ID, last.Fault.Cause)})
	}
	return out
}

// Fault returns the environment fault that stopped the run, and the check
// that met it; nil if none did.
func Fault(results []Result) (*EnvFault, string) {
	for _, r := range results {
		if r.Status == Interrupted && r.Fault != nil {
			return r.Fault, r.Check.ID
		}
	}
	return nil, ""
}

// Conformant reports whether every mandatory check passed (R21): a
// mandatory check that was skipped or not run (Only) is not a pass.
func Conformant(results []Result) bool {
	return Verdict(results) == VerdictConformant
}

// Verdict is the verdict of a run: "conformant" when every part of every
// mandatory check ran and passed, "not conformant" when one failed, and
// "incomplete" when none failed but some were not exercised (a PIN or an
// operator missing, no card control, or left out with Only). A run an
// environment fault stopped has no verdict on the reader: "not run" when
// it stopped at its first check, else "incomplete", whatever the checks
// finished before the fault found (docs/conformance.md#environment-faults).
func Verdict(results []Result) string {
	if f, _ := Fault(results); f != nil {
		if len(results) > 0 && results[0].Status == Interrupted {
			return VerdictNotRun
		}
		return VerdictIncomplete
	}
	status := map[string]Status{}
	for _, r := range results {
		status[r.Check.ID] = r.Status
		if r.Check.Mandatory && r.Status == Failed {
			return VerdictNotConformant
		}
	}
	for _, c := range Checks() {
		if c.Mandatory && status[c.ID] != Passed {
			return VerdictIncomplete
		}
	}
	return VerdictConformant
}

// UnknownIDs returns the IDs in only that name no check.
func UnknownIDs(only []string) []string {
	var bad []string
	for _, id := range only {
		found := false
		for _, c := range Checks() {
			found = found || strings.EqualFold(c.ID, strings.TrimSpace(id))
		}
		if !found {
			bad = append(bad, id)
		}
	}
	return bad
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func containsTrimmed(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

func indent(msg string) string {
	if msg == "" {
		return ""
	}
	return "\n      " + strings.ReplaceAll(msg, "\n", "\n      ")
}
