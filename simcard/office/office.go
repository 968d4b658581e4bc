// Package office is the municipal office (市区町村窓口) of the simulator: it
// keeps the registry of issued cards and performs every counter operation of
// the card's life — issuance, later certificate issuance, PIN re-set, changes
// of the four facts, loss and death reports, moving abroad, invalidation,
// renewal, smartphone certificates and proxy applications — following
// lifecycle-rules.md §1–§4. Each refusal is a *RefusedError naming the rule.
//
// The office drives the chip only through card.Card.Modify (as a counter
// terminal would) and the authority only through its database API, so what a
// holder's client reads and what a relying party sees both follow from the
// same operation.
package office

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// RefusedError is an operation the rules do not allow. RuleName is a short
// stable name (a field cannot share the name of the Rule method); Reason says
// why in words and never quotes a PIN.
type RefusedError struct {
	RuleName string
	Reason   string
}

func (e *RefusedError) Error() string { return e.Reason + " (rule " + e.RuleName + ")" }

// Rule returns the name of the refusing rule; the control server passes it
// to the client.
func (e *RefusedError) Rule() string { return e.RuleName }

// Status is where a card stands.
type Status string

// Card statuses.
const (
	Active      Status = "active"
	Lost        Status = "lost"        // reported lost: certificates revoked, chip untouched (the office does not hold it)
	Deceased    Status = "deceased"    // resident record deleted by death
	Abroad      Status = "abroad"      // resident record deleted by moving abroad
	Invalidated Status = "invalidated" // the card itself returned or invalidated
)

// Card is one card of the registry. ID and Chip never change; everything
// else is read through Office.Report, under the office's lock.
type Card struct {
	ID   string
	Chip *card.Card

	rec *cardRecord
}

// Office is the municipal office. It is safe for concurrent use.
type Office struct {
	clock  clock.Clock
	issuer *simcard.Issuer
	dir    string // "" in memory

	mu    sync.Mutex
	cards map[string]*Card
	state officeState
}

// ErrNotImplemented is returned by operations not written yet.
var ErrNotImplemented = errors.New("not implemented yet")

// cardRecord is the office's persistent record of one card.
type cardRecord struct {
	ID      string          `json:"id"`
	Profile profile.Profile `json:"profile"` // PINs are never stored
	Status  Status          `json:"status"`
	Expiry  time.Time       `json:"expiry"`
}

type officeState struct {
	NextID int           `json:"next_id"`
	Cards  []*cardRecord `json:"cards"`
}

// New returns an office kept in memory only, for suites.
func New(c clock.Clock, issuer *simcard.Issuer) *Office {
	return &Office{clock: c, issuer: issuer, cards: map[string]*Card{}}
}

// Open loads the office kept in dir, or creates it. A loaded office replaces
// issuer.Authority with the persisted authority, so cards issued before a
// restart still chain to the roots they hold.
func Open(dir string, c clock.Clock, issuer *simcard.Issuer) (*Office, error) {
	return nil, fmt.Errorf("opening office: %w", ErrNotImplemented)
}

// IssueCard issues a new card from a profile, with the certificates the
// profile does not decline and the rules allow (lifecycle-rules.md §2).
func (o *Office) IssueCard(p profile.Profile) (*Card, error) {
	return nil, fmt.Errorf("issuing card: %w", ErrNotImplemented)
}

// Cards returns every card of the registry, in issuance order.
func (o *Office) Cards() []*Card {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*Card, 0, len(o.state.Cards))
	for _, r := range o.state.Cards {
		out = append(out, o.cards[r.ID])
	}
	return out
}

// Handler is what RegisterControl needs of a control server.
type Handler interface {
	Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error))
}

// RegisterControl registers the office.* methods on a control server.
func (o *Office) RegisterControl(h Handler) {}
