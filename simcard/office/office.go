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
// from the same operation. Every operation that may change a card takes one
// path (visit, operations.go): the card is held, taken out of its reader
// right before the first change, changed, every file the operation changed
// is stored at once, and the card is put back once the office's lock is
// released. API (api.go) serves the operations as the control API's office
// (package simapi).
package office

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/responder"
	"github.com/mynahil/mynahil/simcard/store"
)

// RefusedError is an operation the rules do not allow. RuleName is one of
// the Rule* constants; Reason says why in words and never quotes a PIN. It
// is the control API's refusal (simapi.RefusedError), so a client of the
// daemon gets back the very type the office returned.
type RefusedError = simapi.RefusedError

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
	RuleCardNotLost     = "card-not-lost"    // a card found must have been reported lost (§1)
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

// inquiry is a proxy application waiting for the holder's sealed answer
// (照会書兼回答書, docs/lifecycle-rules.md §2), as the registry keeps it.
type inquiry struct {
	ID        string                `json:"id"`
	CardID    string                `json:"card"`
	Operation simapi.ProxyOperation `json:"operation"`
	Kind      authority.Kind        `json:"kind"`
	FiledAt   time.Time             `json:"filed_at"`
}

func (q *inquiry) view() simapi.Inquiry {
	return simapi.Inquiry{ID: q.ID, CardID: q.CardID, Operation: q.Operation, Kind: simapi.Kind(q.Kind), FiledAt: q.FiledAt}
}

type officeState struct {
	Version     int           `json:"version"`
	NextID      int           `json:"next_id"`
	NextInquiry int           `json:"next_inquiry"`
	Cards       []*cardRecord `json:"cards"`
	Inquiries   []*inquiry    `json:"inquiries,omitempty"`
}

const stateVersion = 1

// Office is the municipal office. It is safe for concurrent use.
type Office struct {
	clock   clock.Clock
	issuer  *simcard.Issuer
	dir     string         // "" in memory
	journal *store.Journal // nil in memory

	mu        sync.Mutex
	cards     map[string]*Card
	state     officeState
	responder *responder.Server
	readers   Readers
	keepClock func(time.Time) error
}

// Readers is where the office's cards sit between visits: the daemon's vpcd
// readers. An office without Readers (in-process suites) changes its cards
// where they are. Every operation that may change a card goes through one
// path, visit (operations.go): Hold, then under the office's lock the
// checks, TakeOut right before the first change to the chip, the changes
// and one atomic save; then, the lock released, PutBack; then the hold
// released (docs/daemon.md, "The visit path", gives the lock order).
type Readers interface {
	// Hold keeps a card where it is, in its reader or out, until release
	// is called: nothing else inserts, removes or moves it meanwhile.
	Hold(cardID string) (release func())
	// TakeOut takes a held card out of its reader and reports whether it
	// was in one. It must not wait: the office holds its lock.
	TakeOut(cardID string) bool
	// PutBack puts back a card TakeOut took out and waits for its reader
	// to power it up; it returns what was missing when the reader did not
	// in time (the change is kept).
	PutBack(cardID string) *simapi.NotBack
	// Added is told of a card the office issued, once the office's lock is
	// released.
	Added(c *Card)
}

// SetReaders tells the office where its cards sit; call it before the
// office serves operations.
func (o *Office) SetReaders(r Readers) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.readers = r
}

// KeepClock makes office.time store a virtual clock's new time through
// save before the clock moves, under the office's lock, so that a
// restarted daemon continues from the last time a client was told and two
// moves never leave an older time on disk than the newer one.
func (o *Office) KeepClock(save func(time.Time) error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keepClock = save
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

// Open loads the office kept in dir, or creates it there. The registry is
// kept in office.json, the authority (root keys, certificate database, CRL
// numbers) in authority.json, each chip in cards/<id>.json; an operation
// stores every file it changed at once (store.Journal), so that after a
// crash at any moment the directory holds all of its changes or none. An
// intent record a crash left is completed first. Opening an existing
// office replaces issuer.Authority with the stored authority, so the cards
// issued before a restart still chain to the roots they hold.
func Open(dir string, c clock.Clock, issuer *simcard.Issuer) (*Office, error) {
	if issuer == nil || issuer.Authority == nil {
		return nil, fmt.Errorf("opening office: no issuer")
	}
	o := New(c, issuer)
	o.dir = dir
	o.journal = store.NewJournal(dir)
	if _, err := o.journal.Recover(); err != nil {
		return nil, fmt.Errorf("opening office: %w", damaged(filepath.Join(dir, store.IntentFile), err))
	}
	if err := checkStateFiles(dir, o.appletKeyFiles()); err != nil {
		return nil, fmt.Errorf("opening office: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, cardsDir), 0o700); err != nil {
		return nil, fmt.Errorf("opening office: %w", err)
	}
	authFile := o.journal.File(authorityFile)
	b, err := loadState(o.journal.File(officeFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// A new office: its authority, registry and card-info keys appear
		// together or not at all.
		o.mu.Lock()
		defer o.mu.Unlock()
		err := o.commit("", func() error {
			if err := o.keepAppletKeys(); err != nil {
				return err
			}
			if err := issuer.Authority.Persist(authFile.Save); err != nil {
				return err
			}
			return o.save()
		}, o.appletKeyFiles()...)
		if err != nil {
			return nil, fmt.Errorf("opening office: %w", err)
		}
		return o, nil
	case err != nil:
		return nil, fmt.Errorf("opening office: %w", err)
	}
	if err := o.keepAppletKeys(); err != nil {
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
		f := o.journal.File(appletKeyFile(i))
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
	return nil
}

// cardFile is a card's chip file; in memory its saves go nowhere.
func (o *Office) cardFile(id string) store.File {
	if o.journal == nil {
		return store.File{}
	}
	return o.journal.File(filepath.Join(cardsDir, id+".json"))
}

// save stores the registry, within the open transaction; callers hold o.mu.
func (o *Office) save() error {
	if o.journal == nil {
		return nil
	}
	b, err := jsonMarshal(&o.state)
	if err != nil {
		return fmt.Errorf("encoding office state: %w", err)
	}
	if err := o.journal.File(officeFile).Save(b); err != nil {
		return fmt.Errorf("saving office state: %w", err)
	}
	return nil
}

// commit runs fn, which changes the office, and stores every state file
// it changed at once: the registry, the authority, the card's chip (when
// cardID is given) and extra (store.Journal). Callers hold o.mu. The files
// follow memory even when fn fails half-way, so disk and memory never
// disagree; the operations make every check before their first change.
func (o *Office) commit(cardID string, fn func() error, extra ...string) error {
	if o.journal == nil {
		return fn()
	}
	files := []store.File{o.journal.File(officeFile), o.journal.File(authorityFile)}
	if cardID != "" {
		files = append(files, o.cardFile(cardID))
	}
	for _, name := range extra {
		files = append(files, o.journal.File(name))
	}
	o.journal.Begin(files...)
	err := fn()
	if cerr := o.journal.Commit(); cerr != nil && err == nil {
		err = fmt.Errorf("saving state: %w", cerr)
	}
	return err
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
func (o *Office) StartResponder(addr string) (*responder.Server, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.responder != nil {
		return o.responder, nil
	}
	s, err := responder.Serve(o.issuer.Authority, addr)
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
