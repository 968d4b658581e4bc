// Package conformance is the reader conformance suite for the My Number Card
// (JPKI): the checks R01–R21 of docs/conformance-checklist.md §8 that can
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
	"strings"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/jpki"
)

// Status is the outcome of one check.
type Status string

// Check outcomes.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Labels used on checks.
const (
	LabelInteractive = "interactive" // needs a person at the reader; off unless asked for
	LabelPIN         = "pin"         // sends the auth PIN when one is given
	LabelCardControl = "card-control"
	LabelSlow        = "slow"
)

// Check is one conformance check.
type Check struct {
	ID        string // R01 … R21
	Title     string
	Mandatory bool // mandatory checks decide the verdict (R21; testpcsc PANIC)
	Labels    []string
	// Procedure says in a sentence or two what is done and what passes.
	Procedure string
	run       func(*T)
}

// HasLabel reports whether the check carries label l.
func (c Check) HasLabel(l string) bool {
	for _, x := range c.Labels {
		if x == l {
			return true
		}
	}
	return false
}

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
	Reader  string   // PC/SC reader name; "" picks the only reader with a card
	AuthPIN jpki.PIN // "" for none: the PIN-dependent parts are skipped
	SignPIN jpki.PIN // "" for none: the sign certificate is only checked to be protected (6982)
	// SoakCount is the number of APDUs in R16's soak (default 1000).
	SoakCount int
	// APDUTimeout bounds every PC/SC call (default 5 s); a call that takes
	// longer counts as a hang (R12).
	APDUTimeout time.Duration
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
	if c.DetectBudget <= 0 {
		c.DetectBudget = 1500 * time.Millisecond
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
}

// T is what a check's body works with: it records entries and ends the
// check on failure or skip (like testing.T, by leaving the goroutine).
type T struct {
	cfg   *Config
	run   *RunState
	res   *Result
	mu    sync.Mutex
	fails []string
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

// Errorf records a failure and lets the check go on.
func (t *T) Errorf(format string, args ...any) {
	t.mu.Lock()
	t.fails = append(t.fails, fmt.Sprintf(format, args...))
	t.mu.Unlock()
}

// Fatalf records a failure and ends the check.
func (t *T) Fatalf(format string, args ...any) {
	t.Errorf(format, args...)
	runtime.Goexit()
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
	// pinRefused is set once the card refused a given PIN: the suite never
	// sends it again (at most one wrong try per PIN and run).
	pinRefused map[jpki.PINRef]bool
	ref        *reference
	// hangsAtStart is the process's hang count when the run began (R12
	// counts only this run's).
	hangsAtStart int64
}

// RunCheck runs one check with cfg (defaults filled in) and returns its result.
func RunCheck(c Check, cfg *Config, rs *RunState) Result {
	cfg.defaults()
	res := Result{Check: c, Start: time.Now(), Status: Passed}
	t := &T{cfg: cfg, run: rs, res: &res}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.run(t)
	}()
	limit := checkTimeout
	if c.HasLabel(LabelInteractive) || (c.HasLabel(LabelCardControl) && cfg.Card == nil) {
		limit = interactiveTimeout // an operator sets the pace
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Errorf("the check did not finish within %v", limit)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	res.Duration = time.Since(res.Start)
	if len(t.fails) > 0 {
		res.Status = Failed
		res.Message = strings.Join(t.fails, "\n")
	}
	return res
}

// NewRun returns the state shared by the checks of one run.
func NewRun() *RunState {
	return &RunState{pinRefused: map[jpki.PINRef]bool{}, hangsAtStart: hangs.Load()}
}

// Selected returns the checks cfg asks for, in ID order: all of them, or
// those named in Only. Interactive checks are listed even without
// Interactive; they then end as skipped.
func Selected(cfg *Config) []Check {
	var out []Check
	for _, c := range Checks() {
		if len(cfg.Only) > 0 && !contains(cfg.Only, c.ID) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Run runs every selected check in order and returns the results.
func Run(cfg Config) []Result {
	cfg.defaults()
	rs := NewRun()
	var out []Result
	for _, c := range Selected(&cfg) {
		fmt.Fprintf(cfg.Log, "%s %s …\n", c.ID, c.Title)
		r := RunCheck(c, &cfg, rs)
		fmt.Fprintf(cfg.Log, "%s %s (%v)%s\n", c.ID, strings.ToUpper(string(r.Status)), r.Duration.Round(time.Millisecond), indent(r.Message))
		out = append(out, r)
	}
	return out
}

// Conformant reports whether every mandatory check passed (R21): a
// mandatory check that was skipped or not run (Only) is not a pass.
func Conformant(results []Result) bool {
	return Verdict(results) == "conformant"
}

// Verdict is the verdict of a run: "conformant" when every mandatory check
// ran and passed, "not conformant" when one failed, and "incomplete" when
// none failed but some were not exercised (no operator, no card control, or
// left out with Only).
func Verdict(results []Result) string {
	status := map[string]Status{}
	for _, r := range results {
		status[r.Check.ID] = r.Status
		if r.Check.Mandatory && r.Status == Failed {
			return "not conformant"
		}
	}
	for _, c := range Checks() {
		if c.Mandatory && status[c.ID] != Passed {
			return "incomplete"
		}
	}
	return "conformant"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
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
