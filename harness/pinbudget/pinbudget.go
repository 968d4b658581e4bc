// Package pinbudget is the one place that decides whether a PIN may go to a
// physical card (docs/physical-cards.md, "The PIN budget"). Its rule:
//
//   - a PIN is sent only when the card shows every try left (the status
//     query, VERIFY without data, answers 63C3 for the auth and card-info
//     PINs, 63C5 for the sign PIN; docs/card.md §3.1, §3.2);
//   - once the card refuses a PIN the run was given, that PIN is never sent
//     again in the run: a mistyped PIN costs the card one try, not three.
//
// Before any spec sends a PIN, Preflight sends each given PIN once under
// that rule; what it finds (accepted, refused with the tries left, not
// sent because tries were already spent, blocked) decides for the whole
// run: the guard (harness/target) skips every spec that needs a PIN that
// was not accepted, with the reason, and the run fails and says so in its
// first and last lines. Gate wraps a transport so that no VERIFY of such a
// PIN leaves the process, whoever sends it.
//
// The suites, the examples, 'mynahil record' (harness/transcript) and the
// conformance suite's PIN path all go through this package. The card
// itself carries the budget across processes: after one refusal it shows
// fewer than every try, so a later process (another suite of the same
// ginkgo run) does not send the PIN either.
package pinbudget

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// Key is one PIN of the card: the applet and EF it lives in and its retry
// counter's maximum (docs/card.md §3.1, §3.2).
type Key struct {
	Name string // "auth PIN"
	Env  string // the variable the run reads it from
	AID  []byte // the applet
	EF   uint16 // the PIN's internal EF, selected before VERIFY
	Max  int    // tries of a fresh PIN
}

func (k Key) String() string { return k.Name }

// The PINs a run may be given.
var (
	Auth     = Key{Name: "auth PIN", Env: "MYNAHIL_AUTH_PIN", AID: jpkiclient.AID, EF: uint16(jpkiclient.EFAuthPIN), Max: 3}
	Sign     = Key{Name: "sign PIN", Env: "MYNAHIL_SIGN_PIN", AID: jpkiclient.AID, EF: uint16(jpkiclient.EFSignPIN), Max: 5}
	CardInfo = Key{Name: "card-info PIN", Env: "MYNAHIL_CARDINFO_PIN", AID: textAID, EF: 0x0011, Max: 3}
)

// textAID is the card-info input support applet (券面事項入力補助AP,
// docs/card.md §3.2).
var textAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}

// Keys are the PINs a run may be given, in the order Preflight sends them.
func Keys() []Key { return []Key{Auth, Sign, CardInfo} }

// State is what the budget knows of one PIN.
type State int

// The states of a PIN.
const (
	Unchecked State = iota // not sent yet in this run
	Accepted               // the card answered 9000 to the given PIN
	Refused                // the card refused the given PIN (63Cx): never sent again
	NotFull                // the card showed fewer than every try: not sent
	Blocked                // the card showed 63C0: not sent
	Unknown                // the tries left could not be read: not sent
)

// Errors, matched with errors.Is; their text is Result.Reason.
var (
	ErrRefused = errors.New("the card refused the PIN given")
	ErrNotFull = errors.New("PIN not sent: the card does not show every try left")
	ErrBlocked = errors.New("PIN not sent: blocked on the card")
	ErrUnknown = errors.New("PIN not sent: its tries left could not be read")
)

// Result is the budget's finding on one PIN.
type Result struct {
	Key   Key
	State State
	Left  int   // tries left the card reported (Refused, NotFull)
	Err   error // why the tries could not be read (Unknown)
}

// Usable reports whether the PIN may be sent.
func (r Result) Usable() bool { return r.State == Unchecked || r.State == Accepted }

// Reason says, in the words a QA engineer reads in the run's first and
// last lines and in each skipped spec, why the PIN is not sent; "" when it
// may be. The text before the first ": " is the group the run's summary
// counts (harness/runsummary).
func (r Result) Reason() string {
	k := r.Key
	switch r.State {
	case Refused:
		return fmt.Sprintf("the %s given was refused; %d of %d tries left: no further try is spent in this run; check %s", k, r.Left, k.Max, k.Env)
	case NotFull:
		return fmt.Sprintf("the %s was not sent, the card shows %d of %d tries left: a PIN goes to a physical card only with every try left (was a wrong PIN given before?); one right VERIFY in your own software restores the tries", k, r.Left, k.Max)
	case Blocked:
		return fmt.Sprintf("%s blocked on the card: the office must re-set it", k)
	case Unknown:
		return fmt.Sprintf("the %s was not sent, its tries left could not be read: %v", k, r.Err)
	}
	return ""
}

// Error is Reason as an error wrapping the state's sentinel, nil when the
// PIN may be sent.
func (r Result) Error() error {
	var sentinel error
	switch r.State {
	case Refused:
		sentinel = ErrRefused
	case NotFull:
		sentinel = ErrNotFull
	case Blocked:
		sentinel = ErrBlocked
	case Unknown:
		sentinel = ErrUnknown
	default:
		return nil
	}
	return &reasonError{reason: r.Reason(), sentinel: sentinel}
}

type reasonError struct {
	reason   string
	sentinel error
}

func (e *reasonError) Error() string { return e.reason }
func (e *reasonError) Unwrap() error { return e.sentinel }

// Budget is one run's knowledge of the PINs it was given. It is safe for
// concurrent use. The zero value is not usable: call New or Preflight.
type Budget struct {
	mu      sync.Mutex
	results map[string]Result // by Key.Name
	given   map[string]bool
}

// New returns an empty budget.
func New() *Budget { return &Budget{results: map[string]Result{}, given: map[string]bool{}} }

// Result is what the budget knows of k.
func (b *Budget) Result(k Key) Result {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.results[k.Name]; ok {
		return r
	}
	return Result{Key: k}
}

func (b *Budget) set(r Result) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// A refusal is final for the run: nothing later turns it back.
	if b.results[r.Key.Name].State == Refused {
		return
	}
	b.results[r.Key.Name] = r
}

// Problems lists, in the order of Keys, the reason of every PIN the run
// was given that the budget does not let through: each fails the run.
func (b *Budget) Problems() []string {
	var out []string
	for _, k := range Keys() {
		b.mu.Lock()
		given := b.given[k.Name]
		b.mu.Unlock()
		if r := b.Result(k); given && !r.Usable() {
			out = append(out, r.Reason())
		}
	}
	return out
}

// Ready asks the card, without spending a try, whether k may be sent now:
// k's EF must be selected in its applet. It returns nil only when k was
// not refused earlier in the run and the card shows every try left;
// otherwise the reason, and k is not sent. A PIN not at full tries is
// recorded as such until the card shows every try again.
func (b *Budget) Ready(t harness.Transport, k Key) error {
	if r := b.Result(k); r.State == Refused {
		return r.Error()
	}
	left, err := TriesLeft(t)
	r := Result{Key: k, Left: left}
	switch {
	case err != nil:
		r.State, r.Err = Unknown, err
	case left == 0:
		r.State = Blocked
	case left != k.Max:
		r.State = NotFull
	default:
		b.mu.Lock()
		if old := b.results[k.Name]; old.State != Accepted {
			// Full again (the office re-set it): it may be sent.
			b.results[k.Name] = Result{Key: k}
		}
		b.mu.Unlock()
		return nil
	}
	b.set(r)
	return r.Error()
}

// Note records the card's answer sw to a VERIFY of the given k: 9000
// accepts it, 63Cx refuses it for the rest of the run.
func (b *Budget) Note(k Key, sw uint16) {
	switch {
	case sw == 0x9000:
		b.set(Result{Key: k, State: Accepted})
	case sw&0xFFF0 == 0x63C0:
		b.set(Result{Key: k, State: Refused, Left: int(sw & 0x0F)})
	case sw == 0x6984 || sw == 0x6983:
		b.set(Result{Key: k, State: Blocked})
	}
}

// Verify sends the given PIN of k to the card under the rule: Ready, then
// VERIFY, then Note. k's EF must be selected in its applet. It returns nil
// when the card accepted it; the reason when the PIN was not sent or was
// refused (errors.Is ErrRefused, ErrNotFull, ErrBlocked, ErrUnknown).
func (b *Budget) Verify(t harness.Transport, k Key, pin jpkiclient.PIN) error {
	if err := b.Ready(t, k); err != nil {
		return err
	}
	resp, err := t.Transmit(append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...))
	if err != nil {
		return fmt.Errorf("verifying the %s: %w", k, err)
	}
	sw, ok := statusWord(resp)
	if !ok {
		return fmt.Errorf("verifying the %s: response of %d bytes", k, len(resp))
	}
	b.Note(k, sw)
	if sw != 0x9000 {
		if err := b.Result(k).Error(); err != nil {
			return err
		}
		return fmt.Errorf("verifying the %s: card answered %04X", k, sw)
	}
	return nil
}

// TriesLeft sends the status query (VERIFY without data, docs/card.md §7)
// to the selected PIN EF: no try is spent.
func TriesLeft(t harness.Transport) (int, error) {
	resp, err := t.Transmit([]byte{0x00, 0x20, 0x00, 0x80})
	if err != nil {
		return 0, fmt.Errorf("asking the tries left: %w", err)
	}
	sw, ok := statusWord(resp)
	if !ok || sw&0xFFF0 != 0x63C0 {
		return 0, fmt.Errorf("asking the tries left: the card answered % X, want 63Cx", resp)
	}
	return int(sw & 0x0F), nil
}

func statusWord(resp []byte) (uint16, bool) {
	if len(resp) < 2 {
		return 0, false
	}
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1]), true
}
