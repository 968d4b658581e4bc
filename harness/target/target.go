// Package target chooses the card a suite runs against and opens a
// harness.Transport to it, so that every suite runs unchanged on each:
//
//   - sim (default): the simulated card in process (harness.InProcess);
//   - vpcd: the simulated card over the real vpcd wire format, through the
//     Go reader side of package vpcd (no pcscd; docs/vpcd-pcscd.md §2, §3);
//   - pcsc: through pcscd (package pcsc). Without MYNAHIL_READER the suite
//     serves the simulated card on a vpcd slot itself (starting pcscd with
//     pcscdenv if none runs); with MYNAHIL_READER it is a physical card in
//     that reader.
//
// A physical card is guarded: see Decide and the Label constants. Its PINs
// come from MYNAHIL_AUTH_PIN / MYNAHIL_SIGN_PIN or a no-echo prompt on the
// terminal, never from the command line, and never appear in logs or errors
// (they are jpkiclient.PIN values, which print as "****"). physical.go adds what
// a physical test card needs beyond that (docs/physical-cards.md): the
// card-info PIN, the operator who plays the office (Office, then a fresh
// connection to the card), the PINs the card reports blocked, the
// destructive pass, and the card's final state in the suite's report.
//
// The simulator is never imported here: the suite framework
// (scenarios/framework) registers the opener of simulated cards with
// RegisterSimulator, so the harness stays independent of the card it tests.
package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/pcscdenv"
)

// Kind names how the card is reached.
type Kind string

// The target kinds.
const (
	Sim  Kind = "sim"
	VPCD Kind = "vpcd"
	PCSC Kind = "pcsc"
)

// Environment variables read by FromEnv.
const (
	EnvTarget           = "MYNAHIL_TARGET"            // sim | vpcd | pcsc
	EnvReader           = "MYNAHIL_READER"            // reader name, index or substring: a physical card
	EnvPhysical         = "MYNAHIL_PHYSICAL"          // 1: treat the card as physical (guards apply)
	EnvAllowDestructive = "MYNAHIL_ALLOW_DESTRUCTIVE" // 1: destructive specs may run on the named physical card
	EnvFingerprint      = "MYNAHIL_CARD_FINGERPRINT"  // SHA-256 hex of the auth certificate DER
	EnvAuthPIN          = "MYNAHIL_AUTH_PIN"
	EnvSignPIN          = "MYNAHIL_SIGN_PIN"
	EnvSlot             = "MYNAHIL_VPCD_SLOT" // pcsc target, simulated card: vpcd slot (default: ProcessSlot)
	EnvNoPrompt         = "MYNAHIL_NO_PROMPT" // 1: never prompt for PINs
)

// Config says which card to open. The zero value is the sim target.
type Config struct {
	Kind     Kind
	Reader   string // pcsc: reader selector (pcsc.Select); set means physical
	Physical bool   // guards apply (implied by Reader)
	// AllowDestructive and Fingerprint are the physical opt-in (Decide).
	AllowDestructive bool
	Fingerprint      string
	// AuthPIN and SignPIN are the physical card's PINs, if given.
	AuthPIN, SignPIN jpkiclient.PIN
	// Prompt asks on the terminal for PINs not given (physical only).
	Prompt bool
	// Slot is the vpcd slot of the pcsc target's simulated card.
	Slot int
	// CardInfoPIN is the physical card's card-info PIN, if given.
	CardInfoPIN jpkiclient.PIN
	// Operator performs the office's part (MYNAHIL_OPERATOR), nil for none.
	Operator operator.Operator
}

// ErrConfig marks an invalid target configuration.
var ErrConfig = errors.New("invalid target configuration")

func truthy(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%w: %s=%q is not a boolean", ErrConfig, name, v)
	}
	return b, nil
}

// FromEnv reads the configuration from the environment (the Env constants).
// MYNAHIL_TARGET defaults to pcsc when MYNAHIL_READER is set, else sim.
func FromEnv() (Config, error) {
	c := Config{
		Kind:        Kind(strings.ToLower(os.Getenv(EnvTarget))),
		Reader:      os.Getenv(EnvReader),
		Fingerprint: os.Getenv(EnvFingerprint),
		AuthPIN:     jpkiclient.PIN(os.Getenv(EnvAuthPIN)),
		SignPIN:     jpkiclient.PIN(os.Getenv(EnvSignPIN)),
		Slot:        ProcessSlot(),
	}
	var err error
	if c.Physical, err = truthy(EnvPhysical); err != nil {
		return Config{}, err
	}
	if c.AllowDestructive, err = truthy(EnvAllowDestructive); err != nil {
		return Config{}, err
	}
	noPrompt, err := truthy(EnvNoPrompt)
	if err != nil {
		return Config{}, err
	}
	c.Prompt = !noPrompt && !pcscdenv.InCI()
	if s := os.Getenv(EnvSlot); s != "" {
		if c.Slot, err = strconv.Atoi(s); err != nil {
			return Config{}, fmt.Errorf("%w: %s=%q is not a number", ErrConfig, EnvSlot, s)
		}
	}
	if err := c.readPhysicalEnv(); err != nil {
		return Config{}, err
	}
	if c.Kind == "" {
		c.Kind = Sim
		if c.Reader != "" {
			c.Kind = PCSC
		}
	}
	return c, c.normalise()
}

// normalise validates c and puts the fingerprint in canonical form.
func (c *Config) normalise() error {
	if c.Kind == "" {
		c.Kind = Sim
	}
	switch c.Kind {
	case Sim, VPCD, PCSC:
	default:
		return fmt.Errorf("%w: %s=%q: want sim, vpcd or pcsc", ErrConfig, EnvTarget, c.Kind)
	}
	if c.Reader != "" {
		if c.Kind != PCSC {
			return fmt.Errorf("%w: a reader (%s) needs the pcsc target, not %s", ErrConfig, EnvReader, c.Kind)
		}
		c.Physical = true
	}
	if c.Physical && c.Reader == "" {
		return fmt.Errorf("%w: a physical card needs %s naming its reader (run 'mynahil readers')", ErrConfig, EnvReader)
	}
	if c.Fingerprint != "" {
		fp, err := NormaliseFingerprint(c.Fingerprint)
		if err != nil {
			return err
		}
		c.Fingerprint = fp
	}
	if c.Kind == PCSC && !c.Physical {
		slots, err := pcscdenv.Slots()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
		if c.Slot < 0 || c.Slot >= slots {
			return fmt.Errorf("%w: vpcd slot %d: the pcscd serves slots 0 to %d (%s=%d); ginkgo -p with N processes needs 2N slots: scripts/with-pcscd --slots 2N (docs/suites.md, \"In parallel\")",
				ErrConfig, c.Slot, slots-1, pcscdenv.EnvSlots, slots)
		}
	}
	return nil
}

// ProcessSlot is the vpcd slot of this Ginkgo process's simulated card on
// the pcsc target: each process has the two slots of one vpcd reader
// entry, 2(p−1) for its target and 2(p−1)+1 for a world beside it
// (docs/suites.md, "In parallel"), so that processes never share a reader.
func ProcessSlot() int { return 2 * (ginkgo.GinkgoParallelProcess() - 1) }

// NormaliseFingerprint accepts a SHA-256 fingerprint as hex with optional
// colons or spaces (as openssl prints it) and returns lower-case hex
// (cardid.Normalise).
func NormaliseFingerprint(s string) (string, error) {
	fp, err := cardid.Normalise(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrConfig, EnvFingerprint, err)
	}
	return fp, nil
}

// PINs are the card's PINs as known to the suite; empty means unknown.
type PINs struct {
	Auth, Sign jpkiclient.PIN
	CardInfo   jpkiclient.PIN // the card-info input support applet's PIN
}

// Target is an opened card.
type Target struct {
	cfg         Config
	t           harness.Transport
	sim         any
	pins        PINs
	fingerprint string
	desc        string
	closers     []func() error
	ph          physical // physical.go
}

// Open opens the card cfg names. ctx bounds the opening (pcscd start-up,
// card insertion), not the Target's life; Close releases everything.
func Open(ctx context.Context, cfg Config) (*Target, error) {
	if err := cfg.normalise(); err != nil {
		return nil, err
	}
	t := &Target{cfg: cfg, ph: physical{op: cfg.Operator}}
	var err error
	switch {
	case cfg.Kind == PCSC && cfg.Physical:
		err = t.openPhysical(ctx)
	default:
		err = t.openSimulated(ctx)
	}
	if err != nil {
		_ = t.Close()
		return nil, fmt.Errorf("opening %s target: %w", cfg.Kind, err)
	}
	t.identify()
	if cfg.Physical {
		t.preflight()
	}
	return t, nil
}

// Simulated is a simulated card opened for a target by the simulator
// registered with RegisterSimulator.
type Simulated struct {
	Transport harness.Transport
	PINs      PINs
	Desc      string
	// Sim is the simulator's handle on the card, for the framework that
	// registered it; the harness never looks inside.
	Sim any
	// Close releases the card and whatever serves it.
	Close func() error
}

// Simulator opens a simulated card for the sim, vpcd or pcsc target.
type Simulator func(ctx context.Context, cfg Config) (*Simulated, error)

var simulator Simulator

// RegisterSimulator installs the simulator that opens the sim, vpcd and
// pcsc targets without a reader. The harness never imports the simulator
// itself (docs/suites.md, "One-way imports"): the suite framework,
// scenarios/framework, registers it when imported.
func RegisterSimulator(s Simulator) { simulator = s }

func (t *Target) openSimulated(ctx context.Context) error {
	if simulator == nil {
		return fmt.Errorf("%w: no simulator registered: import scenarios/framework to open a simulated card, or name a reader (%s)", ErrConfig, EnvReader)
	}
	s, err := simulator(ctx, t.cfg)
	if err != nil {
		return err
	}
	t.closers = append(t.closers, s.Close)
	t.t, t.pins, t.desc, t.sim = s.Transport, s.PINs, s.Desc, s.Sim
	return nil
}

func (t *Target) openPhysical(ctx context.Context) error {
	// One card, held exclusively, one prompt: parallel processes would
	// fight over it.
	if sc, _ := ginkgo.GinkgoConfiguration(); sc.ParallelTotal > 1 {
		return fmt.Errorf("%w: a physical card runs in one process; drop ginkgo -p", ErrConfig)
	}
	c, err := pcsc.Establish()
	if err != nil {
		return err
	}
	r, err := c.Reader(t.cfg.Reader)
	_ = c.Close()
	if err != nil {
		return err
	}
	if !r.Present() {
		return fmt.Errorf("reader %q: %w", r.Name, pcsc.ErrNoCard)
	}
	// Exclusive: no other middleware may interleave with a test on a real card.
	if err := t.connectPhysical(r.Name); err != nil {
		return err
	}
	t.desc = fmt.Sprintf("pcsc: physical card in %q", r.Name)
	t.pins = PINs{Auth: t.cfg.AuthPIN, Sign: t.cfg.SignPIN, CardInfo: t.cfg.CardInfoPIN}
	if t.cfg.Prompt {
		if t.pins.Auth == "" {
			t.pins.Auth = t.prompt("auth PIN (4 digits)")
		}
		if t.pins.Sign == "" {
			t.pins.Sign = t.prompt("sign PIN (6-16 characters)")
		}
	}
	return ctx.Err()
}

func (t *Target) prompt(label string) jpkiclient.PIN {
	pin, err := promptPIN(label)
	if err != nil && !errors.Is(err, errNoTerminal) {
		fmt.Fprintf(os.Stderr, "mynahil: %v; continuing without it\n", err)
	}
	return pin
}

// identify reads the card's identity (harness/cardid: the auth
// certificate, no PIN needed), then warm-resets the card so specs start
// from a clean state. A card without a readable auth certificate has no
// fingerprint.
func (t *Target) identify() {
	if fp, err := cardid.Read(t.t); err == nil {
		t.fingerprint = fp
	}
	_ = harness.Reset(t.t)
}

// Transport is the open connection to the card.
func (t *Target) Transport() harness.Transport { return t.t }

// Kind is how the card is reached.
func (t *Target) Kind() Kind { return t.cfg.Kind }

// Physical reports whether the card is a physical one (guards apply).
func (t *Target) Physical() bool { return t.cfg.Physical }

// Sim is the simulator's handle on a simulated card (see Simulated); nil
// for a physical card. The suite framework reads it; specs that use it must
// be labelled sim-only.
func (t *Target) Sim() any { return t.sim }

// PINs returns the card's PINs as far as they are known.
func (t *Target) PINs() PINs { return t.pins }

// Fingerprint is the SHA-256 (hex) of the auth certificate read from the
// card at Open, "" if it could not be read.
func (t *Target) Fingerprint() string { return t.fingerprint }

// String describes the target for logs (never with PINs).
func (t *Target) String() string { return t.desc }

// Facts returns what the guard decides on for this target.
func (t *Target) Facts() Facts {
	return Facts{
		Physical:         t.cfg.Physical,
		AllowDestructive: t.cfg.AllowDestructive,
		WantFingerprint:  t.cfg.Fingerprint,
		CardFingerprint:  t.fingerprint,
		HaveAuthPIN:      t.pins.Auth != "",
		HaveSignPIN:      t.pins.Sign != "",
		HaveCardInfoPIN:  t.pins.CardInfo != "",
		HaveOperator:     t.ph.op != nil,
		DestructivePass:  destructivePass(),
		AuthWithheld:     t.ph.withheld[pinbudget.Auth.Name],
		SignWithheld:     t.ph.withheld[pinbudget.Sign.Name],
		CardInfoWithheld: t.ph.withheld[pinbudget.CardInfo.Name],
	}
}

// Close releases the transport, the card side, the reader and a pcscd
// that Open started, in reverse order of acquisition.
func (t *Target) Close() error {
	var errs []error
	for i := len(t.closers) - 1; i >= 0; i-- {
		if err := t.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	t.closers = nil
	return errors.Join(errs...)
}

// OpenFromEnv is FromEnv then Open, with a minute to get the card ready.
func OpenFromEnv() (*Target, error) {
	cfg, err := FromEnv()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return Open(ctx, cfg)
}

// OpenForSuite opens the target the environment names, for a Ginkgo
// suite: call it in BeforeSuite. It skips when the target needs pcscd and
// pcscd is not installed (outside CI), fails on any other error, closes
// the target when the calling node's cleanup runs, and records which card
// ran in the report (never a PIN).
//
//	var tgt *target.Target
//	var _ = BeforeSuite(func() { tgt = target.OpenForSuite() })
//	var _ = BeforeEach(func() { tgt.Guard() })
func OpenForSuite() *Target {
	ginkgo.GinkgoHelper()
	t, err := OpenFromEnv()
	if reason, ok := pcscdenv.SkipReason(err); ok {
		ginkgo.Skip(reason)
	}
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	problems := t.PINProblems()
	if len(problems) > 0 {
		// Registered first, it runs last: the run fails after every spec
		// that could run has run, and says why in its last lines.
		ginkgo.DeferCleanup(func() {
			ginkgo.Fail("this run fails: " + strings.Join(problems, "; "))
		})
	}
	ginkgo.DeferCleanup(t.Close)
	// Cleanups run last-in first-out: the state is read before Close.
	ginkgo.DeferCleanup(t.reportCardState)
	for _, p := range problems {
		// The run's first line: before any spec, on stdout, on a line of
		// its own (Ginkgo's progress header ends without a newline).
		fmt.Fprintf(os.Stdout, "\nmynahil: THIS RUN FAILS: %s\n", p)
		ginkgo.AddReportEntry(runsummary.EntryPINBudget, p)
	}
	desc := t.String()
	if t.fingerprint != "" {
		desc += ", auth certificate SHA-256 " + t.fingerprint
	}
	ginkgo.AddReportEntry("target", desc)
	return t
}
