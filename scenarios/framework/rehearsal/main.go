// Command rehearsal runs the physical-card path against the simulated card
// (docs/physical-cards.md, "The rehearsal"): it starts 'mynahil sim' with a
// fresh state directory, waits for its card in the vpcd reader through
// pcscd, reads the card's fingerprint as a user would, and runs the scenario
// suites twice with MYNAHIL_READER naming that reader, both PINs, the
// destructive opt-in, the fingerprint, the sim's revocation endpoints and
// the sim's office as the scripted operator: first every spec but the
// destructive ones, then the destructive ones alone. Before them, a pass
// with a mistyped auth PIN (wrongpin.go; the example suite too) proves
// the PIN budget: one try
// spent in the whole run, the reason first and last. It then checks the
// two JSON reports: every spec labelled physical-safe, destructive or
// interactive (and not sim-only) must have passed in one of the passes.
//
// Run it inside a private pcscd: make rehearsal does
//
//	scripts/with-pcscd --isolate -- go run ./scenarios/framework/rehearsal -mynahil bin/mynahil ./scenarios/...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/profile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rehearsal:", err)
		os.Exit(1)
	}
}

type options struct {
	mynahil, reports, ginkgo string
	pkgs                     []string
}

func run() error {
	o, err := parseOptions()
	if err != nil {
		return err
	}
	state, err := os.MkdirTemp("", "mynahil-rehearsal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)

	ctl := "unix:" + filepath.Join(state, "control.sock")
	stop, err := startSim(o.mynahil, state, ctl)
	if err != nil {
		return err
	}
	defer stop()
	reader, env, err := prepare(o, ctl)
	if err != nil {
		return err
	}
	pins := profile.Default().PINs
	var failed []string
	if err := wrongPINPass(o, env, reader, pins.Auth); err != nil {
		failed = append(failed, "the pass with a mistyped auth PIN: "+err.Error())
	}
	reports, passFailures := passes(o, env)
	failed = append(failed, passFailures...)
	counts, judged, err := judge(o, reports, reader, pins)
	if err != nil {
		return err
	}
	failed = append(failed, judged...)
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "\n  "))
	}
	fmt.Printf("rehearsal: every physical-safe, destructive and interactive spec ran and passed (%s); the reports show none of the holder's personal data; the card is left with every try of its seven keys, and its original PINs\n", counts.overall())
	return nil
}

// parseOptions reads the flags; the reports directory is made absolute,
// since Ginkgo runs each suite in its package's directory.
func parseOptions() (options, error) {
	var o options
	flag.StringVar(&o.mynahil, "mynahil", "bin/mynahil", "the mynahil binary")
	flag.StringVar(&o.reports, "reports", "reports", "directory for the JSON reports and the summary")
	flag.StringVar(&o.ginkgo, "ginkgo", "go tool ginkgo", "the ginkgo command")
	flag.Parse()
	o.pkgs = flag.Args()
	if len(o.pkgs) == 0 {
		o.pkgs = []string{"./scenarios/..."}
	}
	if err := os.MkdirAll(o.reports, 0o755); err != nil {
		return o, err
	}
	var err error
	o.reports, err = filepath.Abs(o.reports)
	return o, err
}

// prepare finds the sim's card in its reader and builds the environment
// the passes run in: the reader, the card's PINs and fingerprint, the
// opt-in, the scripted operator and the sim's revocation endpoints, as a QA
// engineer would give them for a physical card.
func prepare(o options, ctl string) (reader string, env []string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := dial(ctx, ctl)
	if err != nil {
		return "", nil, err
	}
	defer c.Close()
	if reader, err = cardReader(ctx, c); err != nil {
		return "", nil, err
	}
	fp, err := fingerprint(ctx, reader)
	if err != nil {
		return "", nil, err
	}
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("asking the sim for its revocation endpoints: %w", err)
	}
	fmt.Printf("rehearsal: the simulated card in %q as a physical card, auth certificate SHA-256 %s\n", reader, fp)
	pins := profile.Default().PINs
	summary := filepath.Join(o.reports, "rehearsal-summary.txt")
	_ = os.Remove(summary)
	env = append(cleanEnv(),
		target.EnvReader+"="+reader,
		target.EnvAuthPIN+"="+pins.Auth,
		target.EnvSignPIN+"="+pins.Sign,
		target.EnvCardInfoPIN+"="+pins.CardInfo,
		// The security code printed on the card (framework.EnvSecurityCode).
		"MYNAHIL_SECURITY_CODE="+profile.Default().SecurityCode,
		target.EnvAllowDestructive+"=1",
		target.EnvFingerprint+"="+fp,
		target.EnvNoPrompt+"=1",
		target.EnvOperator+"=sim:"+ctl,
		"MYNAHIL_STRICT=1",
		"MYNAHIL_SUMMARY_FILE="+summary,
		"MYNAHIL_AUTH_CRL_URL="+ep.CRLAuth,
		"MYNAHIL_SIGN_CRL_URL="+ep.CRLSign,
		"MYNAHIL_AUTH_OCSP_URL="+ep.OCSPAuth,
		"MYNAHIL_SIGN_OCSP_URL="+ep.OCSPSign,
	)
	return reader, env, nil
}

// passes runs the suites twice, without and then with the destructive
// specs, and returns the two JSON reports and what failed.
func passes(o options, env []string) (reports, failed []string) {
	for i, filter := range []string{"!destructive", "destructive"} {
		name := fmt.Sprintf("rehearsal-%d.json", i+1)
		reports = append(reports, filepath.Join(o.reports, name))
		fmt.Printf("rehearsal: pass %d, --label-filter=%s\n", i+1, filter)
		args := append(strings.Fields(o.ginkgo)[1:], "--keep-going", "--label-filter="+filter, "--output-dir="+o.reports, "--json-report="+name)
		cmd := exec.Command(strings.Fields(o.ginkgo)[0], append(args, o.pkgs...)...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			failed = append(failed, fmt.Sprintf("pass %d (%s): %v", i+1, filter, err))
		}
	}
	return reports, failed
}

// judge reads the passes' reports: every spec passed in one of them, at
// least the share of specs the physical path must run, every suite given
// reported, no personal data, and the card left as issued with its
// original PINs. It prints and stores the counts.
func judge(o options, reports []string, reader string, pins profile.PINs) (counts, []string, error) {
	var failed []string
	missing, err := unpassed(reports)
	if err != nil {
		return nil, nil, err
	}
	counts, err := coverage(reports)
	if err != nil {
		return nil, nil, err
	}
	summary := filepath.Join(o.reports, "rehearsal-summary.txt")
	if err := appendFile(summary, counts.String()); err != nil {
		return nil, nil, err
	}
	if b, err := os.ReadFile(summary); err == nil {
		fmt.Printf("rehearsal: summary\n%s", b)
	}
	for _, m := range missing {
		failed = append(failed, "did not pass in either pass: "+m)
	}
	if err := counts.check(); err != nil {
		failed = append(failed, err.Error())
	}
	if explicit(o.pkgs) && len(counts) != len(o.pkgs) {
		failed = append(failed, fmt.Sprintf("the reports hold %d suites of the %d packages given: a suite that did not report cannot be counted", len(counts), len(o.pkgs)))
	}
	leaks, err := personalData(reports, profile.Default())
	if err != nil {
		return nil, nil, err
	}
	failed = append(failed, leaks...)
	if err := leftAsIssued(reader); err != nil {
		failed = append(failed, err.Error())
	} else if err := originalPINsWork(reader, pins); err != nil {
		failed = append(failed, err.Error())
	}
	return counts, failed, nil
}

// explicit reports whether pkgs name packages one by one (no "..." pattern).
func explicit(pkgs []string) bool {
	for _, p := range pkgs {
		if strings.Contains(p, "...") {
			return false
		}
	}
	return true
}

// personalData names the holder's facts (name, address, birth date, My
// Number) that a report shows, as UTF-8 or as a trace's hex: a physical
// card's reports must show none (docs/physical-cards.md, "Personal data in
// reports"). The card is the simulated one issued from p.
func personalData(paths []string, p profile.Profile) ([]string, error) {
	facts := map[string]string{
		"name":       p.Holder.Name,
		"address":    p.Holder.Address,
		"birth date": p.Holder.BirthDate.Format("20060102"),
		"My Number":  p.MyNumber,
	}
	var leaks []string
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading report: %w", err)
		}
		for _, what := range slices.Sorted(maps.Keys(facts)) {
			v := facts[what]
			if strings.Contains(string(b), v) || strings.Contains(string(b), fmt.Sprintf("% X", v)) {
				leaks = append(leaks, fmt.Sprintf("%s shows the holder's %s", filepath.Base(path), what))
			}
		}
	}
	return leaks, nil
}

// leftAsIssued fails unless the card in reader shows every try of all
// seven keys (docs/card.md §3.2, §3.3, §4.1), asked without spending any:
// whatever a destructive spec spent, a cleanup must have restored.
func leftAsIssued(reader string) error {
	card, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		return fmt.Errorf("reading the card's PIN status after the passes: %w", err)
	}
	defer card.Close()
	st, err := cardinfoclient.New(card).PINStatus()
	if err != nil {
		return fmt.Errorf("reading the card's PIN status after the passes: %w", err)
	}
	full := cardinfoclient.PINStatus{
		TextPIN: 3, TextCodeA: 10, TextCodeB: 10, VisualCodeA: 10, VisualCodeB: 10, JPKIAuthPIN: 3, JPKISignPIN: 5,
	}
	if st != full {
		return fmt.Errorf("the passes left the card with tries spent: %+v, want %+v", st, full)
	}
	return nil
}

// originalPINsWork fails unless the card in reader still takes the PINs
// it was issued with, the auth, sign and card-info PINs: a destructive
// spec that changed one must have set it back (docs/physical-cards.md,
// "Destructive specs set the card back"). It runs after leftAsIssued, so
// each PIN shows every try, and sends each once under the PIN budget.
func originalPINsWork(reader string, pins profile.PINs) error {
	card, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		return fmt.Errorf("verifying the original PINs after the passes: %w", err)
	}
	defer card.Close()
	b := pinbudget.Preflight(card,
		pinbudget.Given{Key: pinbudget.Auth, PIN: jpkiclient.PIN(pins.Auth)},
		pinbudget.Given{Key: pinbudget.Sign, PIN: jpkiclient.PIN(pins.Sign)},
		pinbudget.Given{Key: pinbudget.CardInfo, PIN: jpkiclient.PIN(pins.CardInfo)})
	var bad []string
	for _, k := range pinbudget.Keys() {
		if r := b.Result(k); r.State != pinbudget.Accepted {
			bad = append(bad, fmt.Sprintf("%s: %s", k, r.Reason()))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the passes left the card without its original PINs (a set-back missing?): %s", strings.Join(bad, "; "))
	}
	return nil
}

// cleanEnv is the environment without the variables the rehearsal sets or
// that would change the target.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "MYNAHIL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startSim starts 'mynahil sim' on a fresh state directory; stop ends it.
func startSim(bin, state, ctl string) (stop func(), err error) {
	log, err := os.Create(filepath.Join(state, "sim.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "sim", "--state", state, "--control", ctl)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("starting %s sim: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		log.Close()
	}, nil
}

// dial connects to the sim's control socket once it listens.
func dial(ctx context.Context, addr string) (*simapi.Client, error) {
	for {
		c, err := simapi.Dial(addr)
		if err == nil {
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the sim's control socket: %w", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cardReader is the reader of the sim's first card.
func cardReader(ctx context.Context, c *simapi.Client) (string, error) {
	slots, err := c.List(ctx)
	if err != nil {
		return "", fmt.Errorf("listing the sim's cards: %w", err)
	}
	if len(slots) == 0 {
		return "", errors.New("the sim has no card")
	}
	return slots[0].Reader, nil
}

// fingerprint waits for the card in reader and reads its identity
// (harness/cardid), as 'mynahil readers -fingerprint' does for a user.
func fingerprint(ctx context.Context, reader string) (string, error) {
	pc, err := pcsc.Establish()
	if err != nil {
		return "", err
	}
	defer pc.Close()
	if _, err := pc.WaitCard(ctx, reader); err != nil {
		return "", fmt.Errorf("waiting for the simulated card in %q: %w", reader, err)
	}
	card, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		return "", err
	}
	defer card.Close()
	return cardid.Read(card)
}

// unpassed lists the specs labelled physical-safe, destructive or
// interactive (not sim-only) that passed in none of the reports.
func unpassed(paths []string) ([]string, error) {
	seen := map[string]bool{} // spec → passed somewhere
	var order []string
	for _, p := range paths {
		reports, err := readReports(p)
		if err != nil {
			return nil, err
		}
		for _, r := range reports {
			for _, sr := range r.SpecReports {
				if sr.LeafNodeType != types.NodeTypeIt {
					continue
				}
				labels := sr.Labels()
				if speclabel.Has(labels, speclabel.SimOnly) ||
					!(speclabel.Has(labels, speclabel.PhysicalSafe) || speclabel.Has(labels, speclabel.Destructive) || speclabel.Has(labels, speclabel.Interactive)) {
					continue
				}
				key := r.SuiteDescription + ": " + sr.FullText()
				if _, ok := seen[key]; !ok {
					order = append(order, key)
				}
				seen[key] = seen[key] || sr.State == types.SpecStatePassed
			}
		}
	}
	var out []string
	for _, k := range order {
		if !seen[k] {
			out = append(out, k)
		}
	}
	if len(order) == 0 {
		return nil, errors.New("the reports hold no physical-safe, destructive or interactive spec")
	}
	return out, nil
}
