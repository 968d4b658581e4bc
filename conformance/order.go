package conformance

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// needsCard reports whether the check starts with a card in the reader:
// every check but R03 (the reader itself is unplugged).
func (c Check) needsCard() bool { return c.ID != "R03" }

// Order returns the checks in the order a run takes them. With an operator
// (interactive, no card control) the checks that move the card come after
// those that only need it in the reader, and those that end with the card
// taken away (R18, R19) come last, so that no check starts without a card
// the operator was just told to take away.
func Order(checks []Check, operator bool) []Check {
	out := append([]Check(nil), checks...)
	if !operator {
		return out
	}
	rank := func(c Check) int {
		switch c.ID {
		case "R02", "R04":
			return 1
		case "R03":
			return 2
		case "R18":
			return 3
		case "R19":
			return 4
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}

// plannedPrompts counts the operator's steps of an interactive run.
func plannedPrompts(checks []Check, cfg *Config) int {
	n := 0
	for _, c := range checks {
		switch c.ID {
		case "R02":
			if cfg.Card == nil {
				n += 6
			}
		case "R04":
			if cfg.Card == nil {
				n += 2
			}
		case "R03":
			n += 2
		case "R18":
			n += 4
		case "R19":
			n += 8 * cfg.Placements
		}
	}
	return n
}

// stepPrompter numbers the operator's steps: "[step 3/12]". A step the plan
// did not foresee (the card asked back) raises the total.
type stepPrompter struct {
	inner Prompter
	mu    sync.Mutex
	n     int
	total int
}

func newStepPrompter(p Prompter, total int) *stepPrompter {
	return &stepPrompter{inner: p, total: total}
}

func (p *stepPrompter) label(msg string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.total = max(p.total, p.n)
	return fmt.Sprintf("[step %d/%d] %s", p.n, p.total, msg)
}

func (p *stepPrompter) Prompt(msg string) error { return p.inner.Prompt(p.label(msg)) }

func (p *stepPrompter) Notify(msg string) {
	if n, ok := p.inner.(Notifier); ok {
		n.Notify(p.label(msg))
		return
	}
	_ = p.inner.Prompt(p.label(msg))
}

// settle makes sure the card is in the reader and answering before check
// c starts. A previous check may have made the reader drop it (R11 against
// a reader that gives up on a slow card) or moved it; pcscd then reports
// the removal and the re-insertion with some delay, longer on a busy
// machine, and a check started in between would fail for the previous
// check's fault. Worse, right after a drop pcscd may still report the card
// present (it polls the reader), so the next check connects to a card whose
// link is gone and its first exchange fails ("Transaction failed"). settle
// therefore always probes: it waits until SELECT of the JPKI AP answers 9000
// on a fresh connection with the reader's event count unchanged across it,
// waking on pcscd's reader events. When the card is gone, the simulator puts
// it back or the operator is asked for it. It never fails a check: what it
// cannot settle (a card that stays put and does not answer), the check
// reports.
func settle(c Check, cfg *Config) {
	ctx, err := within(cfg.APDUTimeout, "establishing PC/SC context", pcsc.Establish)
	if err != nil {
		return
	}
	defer func() { _ = ctx.Close() }()
	state := func() (pcsc.StateFlag, int64, bool) {
		st := []pcsc.ReaderState{{Reader: cfg.Reader, CurrentState: pcsc.StateUnaware}}
		if err := ctx.GetStatusChange(st, 0); err != nil {
			return 0, 0, false
		}
		return st[0].EventState, int64(st[0].EventState >> 16), true
	}
	flags, _, ok := state()
	if !ok || flags&pcsc.StateMute != 0 {
		return // a card the reader cannot power: R01 reports it
	}
	if flags&pcsc.StatePresent == 0 {
		switch {
		case cfg.Card != nil:
			cfg.Card.Insert()
		case cfg.Interactive && cfg.Prompter != nil:
			msg := fmt.Sprintf("Put the card back into %q: %s needs it (the run waits %v).", cfg.Reader, c.ID, presenceWait)
			if cfg.Prompter.Prompt(msg) != nil {
				return
			}
		}
	}
	deadline := time.Now().Add(presenceWait)
	for steady := 0; steady < 5 && time.Now().Before(deadline); {
		if _, _, err := waitState(ctx, cfg.Reader, pcsc.StatePresent, time.Until(deadline)); err != nil {
			return
		}
		_, before, _ := state()
		good := probe(cfg)
		flags, after, ok := state()
		switch {
		case !ok:
			return
		case after != before || flags&pcsc.StatePresent == 0:
			// still moving: wait for pcscd to report the next event
		case good:
			return
		default:
			steady++ // the card stays put and does not answer: a reader fault for the checks to report
		}
		// Until pcscd reports the next event (or a short while passes).
		next := []pcsc.ReaderState{{Reader: cfg.Reader, CurrentState: flags &^ pcsc.StateChanged}}
		_, _ = within(time.Second, "waiting for a reader event", func() (struct{}, error) {
			return struct{}{}, ctx.GetStatusChange(next, 250*time.Millisecond)
		})
	}
}

// probe connects afresh and sends SELECT of the JPKI AP.
func probe(cfg *Config) bool {
	s, err := openSession(cfg.Reader, cfg.APDUTimeout)
	if err != nil {
		return false
	}
	defer func() { _ = s.close() }()
	if s.connect(pcsc.Shared) != nil {
		return false
	}
	resp, _, err := s.transmit(selectAID(jpkiclient.AID, 0x0C))
	sw, _ := swOf(resp)
	return err == nil && sw == 0x9000
}
