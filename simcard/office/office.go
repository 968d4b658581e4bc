// Package office is the municipal office (市区町村窓口) of the simulator: it
// keeps the registry of issued cards and performs every counter operation of
// the card's life — issuance, later certificate issuance, PIN re-set, changes
// of the four facts, loss and death reports, moving abroad, invalidation,
// renewal, smartphone certificates and proxy applications — following
// docs/lifecycle-rules.md §1–§4. Each refusal is a *RefusedError naming the rule
// (the Rule* constants).
//
// What each event does (reasons are RFC 5280 CRLReason codes; docs/card.md
// §6 lists the ones J-LIS uses):
//
//	event                         auth cert             sign cert             smartphone   chip afterwards
//	change of the four facts,     stays valid           affiliationChanged    sign only    sign cert and key removed,
//	  former surname added                                                                 card-info applets rewritten
//	holder gives one up           cessationOfOperation (that kind only)       same kind    that cert and key removed
//	loss report                   keyCompromise         keyCompromise         both         untouched (not at the office)
//	death, moving abroad,         cessationOfOperation  cessationOfOperation  both         both removed (EF 0008 00 00 00)
//	  card invalidated
//	renewal (each cert in its     superseded            superseded            same kind,   new keys and certificates
//	  own window)                                                             not renewed
//	validity ends                 expired, not listed on the CRL
//
// A lost, deceased, abroad or invalidated card refuses every further
// operation; so does a card past its own expiry.
//
// The office changes the chip only through card.Card.Modify, as a counter
// terminal would, and certificates only through the authority's database,
// so what a holder's client reads and what a relying party sees both follow
// from the same operation.
package office

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/store"
)

// RefusedError is an operation the rules do not allow. RuleName is one of
// the Rule* constants (a field cannot share the name of the Rule method);
// Reason says why in words and never quotes a PIN.
type RefusedError struct {
	RuleName string
	Reason   string
}

func (e *RefusedError) Error() string { return e.Reason + " (rule " + e.RuleName + ")" }

// Rule returns the name of the refusing rule; the control server passes it
// to the client.
func (e *RefusedError) Rule() string { return e.RuleName }

func refuse(rule, format string, args ...any) error {
	return &RefusedError{RuleName: rule, Reason: fmt.Sprintf(format, args...)}
}

// The rules that refuse operations (docs/lifecycle-rules.md section in brackets).
const (
	RuleUnknownCard     = "unknown-card"     // no such card in the registry
	RuleCardLost        = "card-lost"        // reported lost: a new card is needed (§1)
	RuleCardDeceased    = "card-deceased"    // resident record deleted by death (§1)
	RuleCardAbroad      = "card-abroad"      // resident record deleted by moving abroad (§1)
	RuleCardInvalidated = "card-invalidated" // the card itself is invalid (§1)
	RuleCardExpired     = "card-expired"     // past the card's own expiry (§3)
	RuleIssueDate       = "issue-date"       // a card cannot be issued in the future
	RuleOnePerKind      = "one-per-kind"     // a valid certificate of the kind is already there (§1)
	RuleSignMinAge      = "sign-min-age"     // no signing certificate under 15 (§1)
	RuleGuardianship    = "guardianship"     // no signing certificate under adult guardianship (§1)
	RulePINFormat       = "pin-format"       // sign 6–16 of A–Z 0–9, auth 4 digits (§1)
	RuleNoCertificate   = "no-certificate"   // the operation needs a certificate the card lacks
	RuleFactsUnchanged  = "facts-unchanged"  // a change of facts that changes nothing
	RuleBadFacts        = "bad-facts"        // new facts that a resident record cannot hold
	RuleRenewalWindow   = "renewal-window"   // renewal opens 3 months before expiry (§3)
	RuleRenewalExpired  = "renewal-expired"  // expired certificates are issued anew, not renewed (§3)
	RuleRenewalCard     = "renewal-card"     // renewal would not outlive the card: a new card is needed (§3)
	RuleSmartphoneSign  = "smartphone-sign"  // a smartphone needs the card's valid signing certificate (§4)
	RuleProxyTwoVisits  = "proxy-two-visits" // a proxy completes on a later visit with the sealed answer (§2)
	RuleUnknownInquiry  = "unknown-inquiry"  // no open inquiry with that ID
	RuleProxyOperation  = "proxy-operation"  // the operation cannot be applied for by proxy
	RuleUnknownKind     = "unknown-kind"     // certificate kind is neither auth nor sign
	RuleBadProfile      = "bad-profile"      // the profile fails validation
	RuleNothingToRenew  = "nothing-to-renew" // the card holds no certificate to renew
	RuleRealClock       = "real-clock"       // only a virtual clock can be moved (office.time)
	RuleBadTime         = "bad-time"         // a time that does not parse
)

// Status is where a card stands.
type Status string

// Card statuses. Only an Active card accepts operations.
const (
	Active      Status = "active"
	Lost        Status = "lost"        // reported lost; the office does not hold the chip, so it is left as it is
	Deceased    Status = "deceased"    // certificates taken off the chip
	Abroad      Status = "abroad"      // certificates taken off the chip
	Invalidated Status = "invalidated" // certificates taken off the chip
)

// Card is one card of the registry. ID and Chip never change; the rest of
// what the office knows is read with Office.Report.
type Card struct {
	ID   string
	Chip *card.Card

	rec *cardRecord
}

// Event is one line of a card's history.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// cardRecord is the office's persistent record of one card.
type cardRecord struct {
	ID string `json:"id"`
	// Profile never holds PINs: the chip keeps their salted hashes.
	Profile  profile.Profile `json:"profile"`
	Status   Status          `json:"status"`
	IssuedAt time.Time       `json:"issued_at"`
	Expiry   time.Time       `json:"expiry"` // last moment the card itself is valid
	// Serials of the latest certificates (revoked ones included, so the
	// report can say why a certificate is gone); 0 when none was issued.
	Auth      int64   `json:"auth,omitempty"`
	Sign      int64   `json:"sign,omitempty"`
	PhoneAuth int64   `json:"phone_auth,omitempty"`
	PhoneSign int64   `json:"phone_sign,omitempty"`
	History   []Event `json:"history"`
}

// Inquiry is a proxy application waiting for the holder's sealed answer
// (照会書兼回答書, docs/lifecycle-rules.md §2).
type Inquiry struct {
	ID        string         `json:"id"`
	CardID    string         `json:"card"`
	Operation ProxyOperation `json:"operation"`
	Kind      authority.Kind `json:"kind"`
	FiledAt   time.Time      `json:"filed_at"`
}

// ProxyOperation is what a proxy may apply for: the operations where the
// holder sets a PIN.
type ProxyOperation string

// Proxy operations.
const (
	ProxyIssueCertificate ProxyOperation = "issue-certificate"
	ProxyResetPIN         ProxyOperation = "reset-pin"
)

type officeState struct {
	Version     int           `json:"version"`
	NextID      int           `json:"next_id"`
	NextInquiry int           `json:"next_inquiry"`
	Cards       []*cardRecord `json:"cards"`
	Inquiries   []*Inquiry    `json:"inquiries,omitempty"`
}

const stateVersion = 1

// Office is the municipal office. It is safe for concurrent use.
type Office struct {
	clock  clock.Clock
	issuer *simcard.Issuer
	dir    string // "" in memory

	mu        sync.Mutex
	cards     map[string]*Card
	state     officeState
	responder *authority.Server
	// counter and out: see SetCounter; out holds the put-back functions of
	// the cards taken out during the current operation.
	counter func(cardID string) (putBack func())
	out     map[string]func()
}

// SetCounter tells the office how to reach a card that may sit in a
// reader, as a clerk takes the card from the holder: before an
// operation's first change to a card's chip, takeOut(cardID) takes the
// card out of its reader, and the function it returns puts it back once
// the operation is over (stored, or refused half-way). Operations that do
// not touch the chip (loss reports, smartphone certificates, refusals
// before any change) leave the card where it is. The simulator daemon
// uses this so that PC/SC clients see the card leave and come back
// (docs/daemon.md) instead of a card changed under their open session.
// Call it before the office serves operations; nil restores the default
// (changes in place, for in-process suites).
func (o *Office) SetCounter(takeOut func(cardID string) (putBack func())) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counter = takeOut
}

// modify changes a card's chip under the chip's lock, so never in the
// middle of a command, after taking the card out of its reader when a
// counter is set (SetCounter); callers hold o.mu and defer o.putBack.
func (o *Office) modify(c *Card, fn func(st *card.State) error) error {
	if o.counter != nil && o.out[c.ID] == nil {
		if o.out == nil {
			o.out = map[string]func(){}
		}
		o.out[c.ID] = o.counter(c.ID)
		if o.out[c.ID] == nil {
			o.out[c.ID] = func() {}
		}
	}
	return c.Chip.Modify(fn)
}

// putBack returns the cards taken out during an operation; callers hold
// o.mu.
func (o *Office) putBack() {
	for id, back := range o.out {
		back()
		delete(o.out, id)
	}
}

// New returns an office kept in memory only, for suites. The issuer's
// authority is the office's authority.
func New(c clock.Clock, issuer *simcard.Issuer) *Office {
	return &Office{clock: c, issuer: issuer, cards: map[string]*Card{}, state: officeState{Version: stateVersion}}
}

// State directory layout.
const (
	officeFile    = "office.json"
	authorityFile = "authority.json"
	cardsDir      = "cards"
)

// Open loads the office kept in dir, or creates it there. Every change is
// stored crash-safely (store.WriteFile): the office registry in office.json,
// the authority (root keys, certificate database, CRL numbers) in
// authority.json, each chip in cards/<id>.json through card.WithPersister.
// Opening an existing office replaces issuer.Authority with the stored
// authority, so the cards issued before a restart still chain to the roots
// they hold.
func Open(dir string, c clock.Clock, issuer *simcard.Issuer) (*Office, error) {
	if issuer == nil || issuer.Authority == nil {
		return nil, fmt.Errorf("opening office: no issuer")
	}
	o := New(c, issuer)
	o.dir = dir
	if err := checkStateFiles(dir, o.appletKeyFiles()); err != nil {
		return nil, fmt.Errorf("opening office: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, cardsDir), 0o700); err != nil {
		return nil, fmt.Errorf("opening office: %w", err)
	}
	if err := o.keepAppletKeys(); err != nil {
		return nil, fmt.Errorf("opening office: %w", err)
	}
	authFile := store.File{Path: filepath.Join(dir, authorityFile)}
	b, err := loadState(store.File{Path: filepath.Join(dir, officeFile)})
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := issuer.Authority.Persist(authFile.Save); err != nil {
			return nil, fmt.Errorf("opening office: %w", err)
		}
		if err := o.save(); err != nil {
			return nil, fmt.Errorf("opening office: %w", err)
		}
		return o, nil
	case err != nil:
		return nil, fmt.Errorf("opening office: %w", err)
	}
	if err := o.load(b, authFile); err != nil {
		return nil, fmt.Errorf("opening office in %s: %w", dir, err)
	}
	return o, nil
}

// keyedApplets is an applet set with keys of its own (the card-info CAs),
// which must outlive a restart for records re-signed later to verify against
// the certificates already on the cards.
type keyedApplets interface {
	MarshalKeys() ([]byte, error)
	LoadKeys([]byte) error
}

// keepAppletKeys loads each keyed applet set's keys from the state
// directory, or stores them there on first use.
func (o *Office) keepAppletKeys() error {
	for i, extra := range o.issuer.Extra {
		k, ok := extra.(keyedApplets)
		if !ok {
			continue
		}
		f := store.File{Path: filepath.Join(o.dir, appletKeyFile(i))}
		b, err := f.Load()
		switch {
		case err == nil:
			if err := k.LoadKeys(b); err != nil {
				return err
			}
		case errors.Is(err, os.ErrNotExist):
			b, err := k.MarshalKeys()
			if err != nil {
				return err
			}
			if err := f.Save(b); err != nil {
				return err
			}
		default:
			return err
		}
	}
	return nil
}

func (o *Office) load(b []byte, authFile store.File) error {
	officePath := filepath.Join(o.dir, officeFile)
	if err := jsonUnmarshalStrict(b, &o.state); err != nil {
		return damaged(officePath, fmt.Errorf("decoding office state: %w", err))
	}
	if err := o.state.validate(); err != nil {
		return damaged(officePath, err)
	}
	ab, err := loadState(authFile)
	if err != nil {
		return damaged(authFile.Path, err)
	}
	a, err := authority.Load(ab, o.clock)
	if err != nil {
		return damaged(authFile.Path, err)
	}
	if err := a.Persist(authFile.Save); err != nil {
		return err
	}
	o.issuer.Authority = a
	for _, r := range o.state.Cards {
		if r == nil || r.ID == "" || strings.ContainsAny(r.ID, `/\.`) || o.cards[r.ID] != nil {
			return damaged(officePath, fmt.Errorf("decoding office state: malformed card record"))
		}
		f := o.cardFile(r.ID)
		cb, err := loadState(f)
		if err != nil {
			return damaged(f.Path, fmt.Errorf("loading card %s: %w", r.ID, err))
		}
		chip, err := card.Load(cb, card.WithPersister(f.Save))
		if err != nil {
			return damaged(f.Path, fmt.Errorf("loading card %s: %w", r.ID, err))
		}
		o.cards[r.ID] = &Card{ID: r.ID, Chip: chip, rec: r}
	}
	o.reconcile()
	return nil
}

// reconcile takes the serials of each card's latest certificates from the
// authority's database, which is written before the office's registry: a
// crash between the two leaves the registry behind, never ahead.
func (o *Office) reconcile() {
	for _, rec := range o.issuer.Authority.Records(nil) {
		c := o.cards[rec.CardID]
		if c == nil {
			continue
		}
		if s := c.rec.serial(rec.Kind, rec.Device); rec.Serial > *s {
			*s = rec.Serial
		}
	}
}

func (o *Office) cardFile(id string) store.File {
	return store.File{Path: filepath.Join(o.dir, cardsDir, id+".json")}
}

// save stores the registry; callers hold o.mu (or own o exclusively).
func (o *Office) save() error {
	if o.dir == "" {
		return nil
	}
	b, err := jsonMarshal(&o.state)
	if err != nil {
		return fmt.Errorf("encoding office state: %w", err)
	}
	if err := store.WriteFile(filepath.Join(o.dir, officeFile), b); err != nil {
		return fmt.Errorf("saving office state: %w", err)
	}
	return nil
}

// Authority is the office's certificate authority.
func (o *Office) Authority() *authority.Authority { return o.issuer.Authority }

// Issuer is the issuer the office writes cards with (its authority and
// card-info applets).
func (o *Office) Issuer() *simcard.Issuer { return o.issuer }

// Now is the office's clock.
func (o *Office) Now() time.Time { return o.clock.Now() }

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

// Card returns a card of the registry.
func (o *Office) Card(id string) (*Card, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.card(id)
}

func (o *Office) card(id string) (*Card, error) {
	c, ok := o.cards[id]
	if !ok {
		return nil, refuse(RuleUnknownCard, "no card %q in the registry", id)
	}
	return c, nil
}

// StartResponder starts the authority's CRL and OCSP endpoints on addr (""
// for 127.0.0.1:0), once; later calls return the running server.
func (o *Office) StartResponder(addr string) (*authority.Server, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.responder != nil {
		return o.responder, nil
	}
	s, err := o.issuer.Authority.Serve(addr)
	if err != nil {
		return nil, err
	}
	o.responder = s
	return s, nil
}

// Close stops the responder, if started. The state on disk is always
// current: there is nothing to flush.
func (o *Office) Close() error {
	o.mu.Lock()
	s := o.responder
	o.responder = nil
	o.mu.Unlock()
	if s != nil {
		return s.Close()
	}
	return nil
}
