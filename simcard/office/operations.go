package office

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/rules"
)

// Revocation reasons the office uses (RFC 5280 §5.3.1 codes; docs/lifecycle-rules.md
// §1, §3, §4; docs/card.md §6 lists affiliationChanged, cessationOfOperation,
// superseded and certificateHold as the codes J-LIS uses).
const (
	ReasonFactsChanged = authority.AffiliationChanged   // name, address, birth date, sex, former surname
	ReasonLost         = authority.KeyCompromise        // the key is in unknown hands
	ReasonHolderAsks   = authority.CessationOfOperation // the holder gives the certificate up
	ReasonDeath        = authority.CessationOfOperation // resident record deleted
	ReasonAbroad       = authority.CessationOfOperation // resident record deleted
	ReasonInvalidated  = authority.CessationOfOperation // the card is invalid
	ReasonRenewal      = authority.Superseded           // replaced by renewal
)

func dateString(t time.Time) string { return t.In(clock.JST).Format(time.DateOnly) }

func kindName(k authority.Kind) string {
	if k == authority.Sign {
		return "signing"
	}
	return "authentication"
}

func checkKind(k authority.Kind) error {
	if k != authority.Auth && k != authority.Sign {
		return refuse(RuleUnknownKind, "certificate kind %q: want auth or sign", k)
	}
	return nil
}

func (o *Office) event(r *cardRecord, format string, args ...any) {
	o.eventAt(r, o.clock.Now(), format, args...)
}

func (o *Office) eventAt(r *cardRecord, at time.Time, format string, args ...any) {
	r.History = append(r.History, Event{At: at, What: fmt.Sprintf(format, args...)})
}

// visit is the one path of every operation that may change a card, in this
// order (docs/daemon.md, "The visit path", and its lock order):
//
//  1. the card is held (Readers.Hold): nothing else moves it meanwhile;
//  2. under the office's lock, fn: the operation's checks, then — right
//     before its first change to the chip — the card leaves its reader
//     (visit.modify, Readers.TakeOut), then the changes; then every state
//     file they touched is stored at once (commit);
//  3. the lock released, the card goes back into its reader
//     (Readers.PutBack), which may wait seconds for the reader: a card
//     changed but not back is a *simapi.NotBackError, the change kept;
//  4. the hold is released.
//
// A refusal decided before any change leaves the card in its reader.
func (o *Office) visit(cardID string, fn func(v *visit) error) error {
	o.mu.Lock()
	readers := o.readers
	o.mu.Unlock()
	if readers != nil {
		defer readers.Hold(cardID)()
	}
	v := &visit{card: cardID, readers: readers}
	o.mu.Lock()
	err := o.commit(cardID, func() error { return fn(v) })
	o.mu.Unlock()
	if v.out {
		if nb := readers.PutBack(cardID); nb != nil && err == nil {
			err = &simapi.NotBackError{NotBack: *nb}
		}
	}
	return err
}

// visit is one operation's visit to the counter with one card.
type visit struct {
	card    string
	readers Readers
	out     bool // taken out of its reader
}

// modify changes the visiting card's chip under the chip's lock, so never
// in the middle of a command, the card out of its reader first.
func (v *visit) modify(c *Card, fn func(st *card.State) error) error {
	if c.ID != v.card {
		return fmt.Errorf("changing card %s during a visit of card %s", c.ID, v.card)
	}
	if v.readers != nil && !v.out {
		v.out = v.readers.TakeOut(c.ID)
	}
	return c.Chip.Modify(fn)
}

// usableCard returns a card of the registry that accepts operations at now
// (usable).
func (o *Office) usableCard(id string, now time.Time) (*Card, error) {
	c, err := o.card(id)
	if err != nil {
		return nil, err
	}
	if err := o.usable(c, now); err != nil {
		return nil, err
	}
	return c, nil
}

// usable refuses operations on a card that is not active or has expired.
func (o *Office) usable(c *Card, now time.Time) error {
	r := c.rec
	switch r.Status {
	case Lost:
		return refuse(RuleCardLost, "card %s was reported lost: apply for a new card", c.ID)
	case Deceased:
		return refuse(RuleCardDeceased, "card %s: the holder's resident record was deleted (death)", c.ID)
	case Abroad:
		return refuse(RuleCardAbroad, "card %s: the holder's resident record was deleted (moved abroad)", c.ID)
	case Invalidated:
		return refuse(RuleCardInvalidated, "card %s has been invalidated: apply for a new card", c.ID)
	}
	if now.After(r.Expiry) {
		return refuse(RuleCardExpired, "card %s expired on %s: apply for a new card", c.ID, dateString(r.Expiry))
	}
	return nil
}

func (r *cardRecord) serial(k authority.Kind, dev authority.Device) *int64 {
	switch {
	case k == authority.Sign && dev == authority.Smartphone:
		return &r.PhoneSign
	case k == authority.Auth && dev == authority.Smartphone:
		return &r.PhoneAuth
	case k == authority.Sign:
		return &r.Sign
	}
	return &r.Auth
}

// current returns the authority's record of the card's certificate of a kind.
func (o *Office) current(r *cardRecord, k authority.Kind, dev authority.Device) (authority.Record, bool) {
	s := *r.serial(k, dev)
	if s == 0 {
		return authority.Record{}, false
	}
	return o.issuer.Authority.Lookup(s)
}

func (r *cardRecord) keys(o *Office) keypool.Source {
	if r.Profile.FreshKeys {
		return keypool.Fresh{}
	}
	return o.issuer.Keys
}

// newKey draws a key that is neither a root's nor one the card ever had a
// certificate for: the shared
// pool hands keys out in turn, so after enough draws it would repeat one,
// and renewal and re-issue promise new keys (docs/lifecycle-rules.md §3).
func (o *Office) newKey(r *cardRecord) (*rsa.PrivateKey, error) {
	a := o.issuer.Authority
	used := []*rsa.PublicKey{&a.AuthCA.Key.PublicKey, &a.SignCA.Key.PublicKey}
	for _, rec := range o.issuer.Authority.Records(func(x authority.Record) bool { return x.CardID == r.ID }) {
		if c, err := rec.Certificate(); err == nil {
			if pub, ok := c.PublicKey.(*rsa.PublicKey); ok {
				used = append(used, pub)
			}
		}
	}
	src := r.keys(o)
	for range 64 {
		key, err := src.Key()
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(used, func(p *rsa.PublicKey) bool { return p.Equal(&key.PublicKey) }) {
			return key, nil
		}
	}
	return keypool.Fresh{}.Key()
}

// newCredential signs a certificate for the card with a new key.
func (o *Office) newCredential(r *cardRecord, k authority.Kind, dev authority.Device, notAfter time.Time) (*jpki.Credential, *x509.Certificate, error) {
	key, err := o.newKey(r)
	if err != nil {
		return nil, nil, err
	}
	now := o.clock.Now()
	cert, err := o.issuer.Authority.Issue(authority.Request{Kind: k, PublicKey: &key.PublicKey, Holder: r.Profile.Holder,
		NotBefore: now, NotAfter: notAfter, Office: r.Profile.Municipality, CardID: r.ID, Device: dev})
	if err != nil {
		return nil, nil, fmt.Errorf("issuing %s certificate: %w", kindName(k), err)
	}
	return &jpki.Credential{Cert: cert.Raw, Key: key}, cert, nil
}

func pinEF(k authority.Kind) uint16 {
	if k == authority.Sign {
		return jpki.EFSignPIN
	}
	return jpki.EFAuthPIN
}

func checkPIN(k authority.Kind, pin string) error {
	f := jpki.AuthPINFormat
	if k == authority.Sign {
		f = jpki.SignPINFormat
	}
	if err := f.Check([]byte(pin)); err != nil {
		return refuse(RulePINFormat, "%s PIN: %v", kindName(k), err)
	}
	return nil
}

func jpkiDF(st *card.State) (*card.DF, error) {
	df := st.DF(jpki.AID)
	if df == nil {
		return nil, fmt.Errorf("the card has no JPKI applet")
	}
	return df, nil
}

// writeCredential puts a certificate and key on the chip and, when pin is
// set, re-sets the kind's PIN (which also restores its tries).
func writeCredential(v *visit, c *Card, k authority.Kind, cred *jpki.Credential, pin string) error {
	return v.modify(c, func(st *card.State) error {
		df, err := jpkiDF(st)
		if err != nil {
			return err
		}
		jpki.SetCredential(df, k == authority.Sign, cred)
		if pin != "" {
			df.File(pinEF(k)).PIN.SetPIN(pin)
		}
		return nil
	})
}

// blockCredential blocks a certificate's PIN and leaves the certificate
// and key on the chip: what a card holds after the holder gave the
// certificate up at the counter, as the simulator models it (docs/card.md
// §6.1: the revoked certificate stays readable, as after a revocation
// online, and its key unusable).
func blockCredential(st *card.State, k authority.Kind) error {
	df, err := jpkiDF(st)
	if err != nil {
		return err
	}
	if f := df.File(pinEF(k)); f != nil && f.PIN != nil {
		f.PIN.Left = 0
	}
	return nil
}

// removeCredential takes a certificate and key off the chip and blocks the
// PIN, which is how a card without that certificate leaves the factory
// (jpki.NewDF).
func removeCredential(st *card.State, k authority.Kind) error {
	df, err := jpkiDF(st)
	if err != nil {
		return err
	}
	jpki.RemoveCredential(df, k == authority.Sign)
	if f := df.File(pinEF(k)); f != nil && f.PIN != nil {
		f.PIN.Left = 0
	}
	return nil
}

// revoke revokes the card's certificate of a kind and the smartphone
// certificate of the same kind (docs/lifecycle-rules.md §4: they follow the
// card's). Expired or already revoked certificates are left alone.
func (o *Office) revoke(r *cardRecord, k authority.Kind, reason authority.Reason) error {
	now := o.clock.Now()
	for _, dev := range []authority.Device{authority.OnCard, authority.Smartphone} {
		rec, ok := o.current(r, k, dev)
		if !ok || rec.State(now) != "valid" {
			continue
		}
		if _, err := o.issuer.Authority.Revoke(rec.Serial, reason); err != nil {
			return err
		}
		what := "card"
		if dev == authority.Smartphone {
			what = "smartphone"
		}
		o.event(r, "%s %s certificate #%d revoked (%s)", what, kindName(k), rec.Serial, reason)
	}
	return nil
}

// IssueCard issues a new card from a profile (docs/lifecycle-rules.md §2), with
// the certificates the profile does not decline and the rules allow, and
// registers it. The issue date is the profile's, which must not lie after
// the office's clock: it is the card's one issue date, the notBefore of its
// certificates and the date of its first history lines. The new card is in
// no reader (Readers.Added).
func (o *Office) IssueCard(p profile.Profile) (*Card, error) {
	if err := p.Validate(); err != nil {
		return nil, refuse(RuleBadProfile, "issuing card: %v", err)
	}
	now := o.clock.Now()
	if p.IssueDate.After(now) {
		return nil, refuse(RuleIssueDate, "issuing card: issue date %s is after today (%s)", dateString(p.IssueDate.Time), dateString(now))
	}
	o.mu.Lock()
	id := fmt.Sprintf("card-%d", o.state.NextID+1)
	var c *Card
	err := o.commit(id, func() (err error) {
		c, err = o.issueCard(id, p)
		return err
	})
	readers := o.readers
	o.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if readers != nil {
		readers.Added(c)
	}
	return c, nil
}

// issueCard issues card id within a commit; callers hold o.mu.
func (o *Office) issueCard(id string, p profile.Profile) (*Card, error) {
	var opts []card.Option
	f := o.cardFile(id)
	if f.Path != "" {
		if err := refuseExisting(f.Path); err != nil {
			return nil, fmt.Errorf("issuing card: %w", err)
		}
		opts = append(opts, card.WithPersister(f.Save))
	}
	issued, err := o.issuer.Issue(p, opts...)
	if err != nil {
		return nil, err
	}
	stored := p
	stored.PINs = profile.PINs{}
	day := p.IssueDate.Time
	r := &cardRecord{ID: id, Profile: stored, Status: Active, IssuedAt: day, Expiry: issued.CardExpiry}
	o.eventAt(r, day, "card issued to %s (born %s), valid to %s", p.Holder.Name, dateString(p.Holder.BirthDate.Time), dateString(issued.CardExpiry))
	for _, ic := range []struct {
		cert *x509.Certificate
		kind authority.Kind
	}{{issued.AuthCert, authority.Auth}, {issued.SignCert, authority.Sign}} {
		if ic.cert == nil {
			continue
		}
		s := ic.cert.SerialNumber.Int64()
		if err := o.issuer.Authority.Bind(s, id, authority.OnCard); err != nil {
			return nil, fmt.Errorf("issuing card: %w", err)
		}
		*r.serial(ic.kind, authority.OnCard) = s
		o.eventAt(r, day, "%s certificate #%d written, valid to %s", kindName(ic.kind), s, dateString(ic.cert.NotAfter))
	}
	if issued.SignCert == nil {
		o.eventAt(r, day, "no signing certificate (%s)", signAbsence(p, day))
	}
	if f.Path != "" {
		b, err := issued.Card.Marshal()
		if err != nil {
			return nil, fmt.Errorf("issuing card: %w", err)
		}
		if err := f.Save(b); err != nil {
			return nil, fmt.Errorf("issuing card: %w", err)
		}
	}
	c := &Card{ID: id, Chip: issued.Card, rec: r}
	o.state.NextID++
	o.state.Cards = append(o.state.Cards, r)
	o.cards[id] = c
	return c, o.save()
}

func signAbsence(p profile.Profile, at time.Time) string {
	switch {
	case p.DeclineSign:
		return "declined"
	case p.UnderGuardianship:
		return "under adult guardianship"
	case rules.Age(p.Holder.BirthDate.Time, at) < rules.SignMinAge:
		return fmt.Sprintf("holder aged %d, under %d", rules.Age(p.Holder.BirthDate.Time, at), rules.SignMinAge)
	}
	return "not issued"
}

// IssueCertificate writes a new certificate of a kind on the card, with new
// keys and the PIN the holder (or a legal representative, who may act at
// once) sets now (docs/lifecycle-rules.md §2, later issuance): after declining at
// issuance, after a revocation, after expiry (new issuance), or on turning
// 15. Refused while the card holds a valid certificate of the kind, and for
// a signing certificate under 15 or under adult guardianship.
func (o *Office) IssueCertificate(id string, k authority.Kind, pin string) error {
	return o.visit(id, func(v *visit) error {
		if err := o.issueCertificate(v, id, k, pin); err != nil {
			return err
		}
		return o.save()
	})
}

func (o *Office) issueCertificate(v *visit, id string, k authority.Kind, pin string) error {
	if err := checkKind(k); err != nil {
		return err
	}
	now := o.clock.Now()
	c, err := o.usableCard(id, now)
	if err != nil {
		return err
	}
	r := c.rec
	if cur, ok := o.current(r, k, authority.OnCard); ok && cur.State(now) == "valid" {
		return refuse(RuleOnePerKind, "card %s already holds a valid %s certificate (#%d, valid to %s)", id, kindName(k), cur.Serial, dateString(cur.NotAfter))
	}
	if k == authority.Sign {
		if r.Profile.UnderGuardianship {
			return refuse(RuleGuardianship, "no signing certificate for a holder under adult guardianship")
		}
		if age := rules.Age(r.Profile.Holder.BirthDate.Time, now); age < rules.SignMinAge {
			return refuse(RuleSignMinAge, "the holder is %d: signing certificates are issued from age %d (from %s)", age, rules.SignMinAge,
				dateString(rules.Birthday(r.Profile.Holder.BirthDate.Time, r.Profile.Holder.BirthDate.In(clock.JST).Year()+rules.SignMinAge)))
		}
	}
	if err := checkPIN(k, pin); err != nil {
		return err
	}
	_, notAfter := authority.Validity(now, r.Profile.Holder.BirthDate.Time, r.Expiry)
	if !notAfter.After(now) {
		return refuse(RuleCardExpired, "card %s expires on %s: apply for a new card", id, dateString(r.Expiry))
	}
	cred, cert, err := o.newCredential(r, k, authority.OnCard, notAfter)
	if err != nil {
		return err
	}
	if err := writeCredential(v, c, k, cred, pin); err != nil {
		return fmt.Errorf("writing %s certificate on card %s: %w", kindName(k), id, err)
	}
	*r.serial(k, authority.OnCard) = cert.SerialNumber.Int64()
	o.event(r, "%s certificate #%d issued, valid to %s; %s PIN set", kindName(k), cert.SerialNumber.Int64(), dateString(cert.NotAfter), k)
	return nil
}

// ResetPIN re-sets a locked or forgotten PIN of the card's certificate of a
// kind to a new value and restores its tries (docs/lifecycle-rules.md §1: only
// the office can unlock). The two PINs are separate.
func (o *Office) ResetPIN(id string, k authority.Kind, pin string) error {
	return o.visit(id, func(v *visit) error {
		if err := o.resetPIN(v, id, k, pin); err != nil {
			return err
		}
		return o.save()
	})
}

func (o *Office) resetPIN(v *visit, id string, k authority.Kind, pin string) error {
	if err := checkKind(k); err != nil {
		return err
	}
	c, err := o.usableCard(id, o.clock.Now())
	if err != nil {
		return err
	}
	if err := checkPIN(k, pin); err != nil {
		return err
	}
	certEF := jpki.EFAuthCert
	if k == authority.Sign {
		certEF = jpki.EFSignCert
	}
	// Refuse before the card leaves its reader; the office holds its lock
	// and the card is held, so nothing else changes the chip in between.
	var refused error
	c.Chip.Inspect(func(st *card.State) {
		df, err := jpkiDF(st)
		switch {
		case err != nil:
			refused = err
		case df.File(certEF) == nil:
			refused = refuse(RuleNoCertificate, "card %s holds no %s certificate: issue one instead", id, kindName(k))
		}
	})
	if refused != nil {
		return refused
	}
	err = v.modify(c, func(st *card.State) error {
		df, err := jpkiDF(st)
		if err != nil {
			return err
		}
		df.File(pinEF(k)).PIN.SetPIN(pin)
		return nil
	})
	if err != nil {
		return err
	}
	o.event(c.rec, "%s PIN re-set at the office", k)
	return nil
}

// ChangeFacts records new facts of the holder (name, address, date of birth,
// sex, or a former surname added): the signing certificate, which carries
// them, is revoked at once (affiliationChanged) with the smartphone one and
// taken off the card; the authentication certificate stays valid; the
// card-info applets are rewritten (docs/lifecycle-rules.md §1). A new signing
// certificate can then be issued with IssueCertificate.
func (o *Office) ChangeFacts(id string, f profile.Facts) error {
	return o.visit(id, func(v *visit) error {
		c, err := o.usableCard(id, o.clock.Now())
		if err != nil {
			return err
		}
		r := c.rec
		changed := changedFacts(r.Profile.Holder, f)
		if len(changed) == 0 {
			return refuse(RuleFactsUnchanged, "card %s: the new facts are the recorded ones", id)
		}
		next := r.Profile
		next.Holder = f
		next.PINs = placeholderPINs
		if err := next.Validate(); err != nil {
			return refuse(RuleBadFacts, "card %s: %v", id, err)
		}
		if err := o.revoke(r, authority.Sign, ReasonFactsChanged); err != nil {
			return fmt.Errorf("changing facts of card %s: %w", id, err)
		}
		err = v.modify(c, func(st *card.State) error {
			if err := removeCredential(st, authority.Sign); err != nil {
				return err
			}
			for _, extra := range o.issuer.Extra {
				if err := extra.Refresh(st, next); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("changing facts of card %s: %w", id, err)
		}
		r.Profile.Holder = f
		o.event(r, "facts changed (%s); signing certificate taken off the card", strings.Join(changed, ", "))
		return o.save()
	})
}

// placeholderPINs satisfy profile.Validate for AppletSet.Refresh, which
// rewrites facts only: the office never keeps the holder's PINs.
var placeholderPINs = profile.PINs{Auth: "0000", Sign: "000000", CardInfo: "0000", Resident: "0000", Common: "0000"}

func changedFacts(a, b profile.Facts) []string {
	var out []string
	if a.Name != b.Name {
		out = append(out, "name")
	}
	if a.Address != b.Address {
		out = append(out, "address")
	}
	if !a.BirthDate.Equal(b.BirthDate.Time) {
		out = append(out, "date of birth")
	}
	if a.Sex != b.Sex {
		out = append(out, "sex")
	}
	if a.FormerSurname != b.FormerSurname {
		out = append(out, "former surname")
	}
	return out
}

// RevokeCertificate revokes a certificate at the holder's request
// (cessationOfOperation) and blocks its PIN; the certificate and its key
// stay on the chip (docs/card.md §6.1) and the card stays usable.
func (o *Office) RevokeCertificate(id string, k authority.Kind) error {
	if err := checkKind(k); err != nil {
		return err
	}
	return o.visit(id, func(v *visit) error {
		now := o.clock.Now()
		c, err := o.usableCard(id, now)
		if err != nil {
			return err
		}
		if cur, ok := o.current(c.rec, k, authority.OnCard); !ok || cur.State(now) != "valid" {
			return refuse(RuleNoCertificate, "card %s holds no valid %s certificate", id, kindName(k))
		}
		if err := o.revoke(c.rec, k, ReasonHolderAsks); err != nil {
			return fmt.Errorf("revoking %s certificate of card %s: %w", kindName(k), id, err)
		}
		if err := v.modify(c, func(st *card.State) error { return blockCredential(st, k) }); err != nil {
			return fmt.Errorf("revoking %s certificate of card %s: %w", kindName(k), id, err)
		}
		return o.save()
	})
}

// end revokes both certificates (and the smartphone ones) and sets the
// card's final status. A lost card's chip is left as it is: the office does
// not hold it, and revocation is what protects relying parties; any other
// card is back at the counter and its certificates are taken off the chip.
func (o *Office) end(id string, st Status, reason authority.Reason, what string) error {
	return o.visit(id, func(v *visit) error {
		c, err := o.usableCard(id, o.clock.Now())
		if err != nil {
			return err
		}
		r := c.rec
		for _, k := range []authority.Kind{authority.Sign, authority.Auth} {
			if err := o.revoke(r, k, reason); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if st != Lost {
			err := v.modify(c, func(s *card.State) error {
				for _, k := range []authority.Kind{authority.Sign, authority.Auth} {
					if err := removeCredential(s, k); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		r.Status = st
		o.event(r, "%s", what)
		return o.save()
	})
}

// ReportLoss records a lost card: both certificates revoked (keyCompromise),
// the card no longer accepted at the office (docs/lifecycle-rules.md §1).
func (o *Office) ReportLoss(id string) error {
	return o.end(id, Lost, ReasonLost, "card reported lost")
}

// RecordDeath deletes the holder's resident record: both certificates
// revoked (cessationOfOperation), the card dead.
func (o *Office) RecordDeath(id string) error {
	return o.end(id, Deceased, ReasonDeath, "holder deceased: resident record deleted")
}

// MoveAbroad deletes the resident record of a holder leaving Japan: both
// certificates revoked (cessationOfOperation).
func (o *Office) MoveAbroad(id string) error {
	return o.end(id, Abroad, ReasonAbroad, "holder moved abroad: resident record deleted")
}

// InvalidateCard invalidates the card itself (returned, replaced, damaged):
// both certificates revoked (cessationOfOperation).
func (o *Office) InvalidateCard(id string) error {
	return o.end(id, Invalidated, ReasonInvalidated, "card invalidated")
}

// RenewPINs optionally sets new PINs at renewal; empty keeps the old ones.
type RenewPINs struct {
	Auth, Sign string
}

// Renew replaces each of the card's certificates whose renewal window is
// open — from 3 months before its expiry (rules.RenewalOpens) to the expiry
// — with a new key and a certificate valid to the 5th birthday from now, and
// revokes the old one as superseded (docs/lifecycle-rules.md §3). Certificates
// not yet in their window are left as they are; when none is due the
// renewal is refused, and an expired certificate is never renewed (the
// holder applies for a new one with IssueCertificate). Smartphone
// certificates are not renewed: they are revoked with the card's (§4).
func (o *Office) Renew(id string, pins RenewPINs) error {
	return o.visit(id, func(v *visit) error {
		now := o.clock.Now()
		c, err := o.usableCard(id, now)
		if err != nil {
			return err
		}
		r := c.rec
		due, err := o.dueForRenewal(id, r, now)
		if err != nil {
			return err
		}
		_, notAfter := authority.Validity(now, r.Profile.Holder.BirthDate.Time, r.Expiry)
		for _, old := range due {
			if !notAfter.After(old.NotAfter) {
				return refuse(RuleRenewalCard, "the card itself expires on %s: renewal would not extend the certificates, apply for a new card", dateString(r.Expiry))
			}
		}
		for _, k := range []authority.Kind{authority.Auth, authority.Sign} {
			if pin := pins.of(k); pin != "" {
				if err := checkPIN(k, pin); err != nil {
					return err
				}
			}
		}
		for _, old := range due {
			k := old.Kind
			if k == authority.Sign && !rules.MaySign(r.Profile.Holder.BirthDate.Time, now, r.Profile.UnderGuardianship) {
				continue
			}
			cred, cert, err := o.newCredential(r, k, authority.OnCard, notAfter)
			if err != nil {
				return fmt.Errorf("renewing card %s: %w", id, err)
			}
			if err := writeCredential(v, c, k, cred, pins.of(k)); err != nil {
				return fmt.Errorf("renewing card %s: %w", id, err)
			}
			if err := o.revoke(r, k, ReasonRenewal); err != nil {
				return fmt.Errorf("renewing card %s: %w", id, err)
			}
			*r.serial(k, authority.OnCard) = cert.SerialNumber.Int64()
			o.event(r, "%s certificate renewed: #%d valid to %s replaces #%d", kindName(k), cert.SerialNumber.Int64(), dateString(cert.NotAfter), old.Serial)
		}
		return o.save()
	})
}

// dueForRenewal returns the card's certificates in their renewal window, or
// the refusal that names why none is: the window not yet open, only an
// expired certificate, or no certificate at all (docs/lifecycle-rules.md §3).
func (o *Office) dueForRenewal(id string, r *cardRecord, now time.Time) ([]authority.Record, error) {
	var due []authority.Record
	var expired, pending *authority.Record
	for _, k := range []authority.Kind{authority.Auth, authority.Sign} {
		cur, ok := o.current(r, k, authority.OnCard)
		switch {
		case !ok || cur.Status == authority.Revoked:
		case now.After(cur.NotAfter):
			expired = &cur
		case now.Before(rules.RenewalOpens(cur.NotAfter)):
			if pending == nil || cur.NotAfter.Before(pending.NotAfter) {
				pending = &cur
			}
		default:
			due = append(due, cur)
		}
	}
	switch {
	case len(due) == 0 && pending != nil:
		return nil, refuse(RuleRenewalWindow, "renewal opens on %s (%d months before the %s certificate expires on %s)",
			dateString(rules.RenewalOpens(pending.NotAfter)), rules.RenewalWindowMonth, kindName(pending.Kind), dateString(pending.NotAfter))
	case len(due) == 0 && expired != nil:
		return nil, refuse(RuleRenewalExpired, "the %s certificate expired on %s: renewal is closed, apply for a new certificate", kindName(expired.Kind), dateString(expired.NotAfter))
	case len(due) == 0:
		return nil, refuse(RuleNothingToRenew, "card %s holds no certificate to renew", id)
	}
	return due, nil
}

// of returns the new PIN of a kind ("" keeps the old one).
func (p RenewPINs) of(k authority.Kind) string {
	if k == authority.Sign {
		return p.Sign
	}
	return p.Auth
}

// IssueSmartphone issues smartphone signing and authentication certificates,
// set up with the card's signing certificate, which must be valid
// (docs/lifecycle-rules.md §4). They expire with the card's signing certificate
// and are revoked whenever the card's certificate of the same kind is.
func (o *Office) IssueSmartphone(id string) (simapi.Smartphone, error) {
	var out simapi.Smartphone
	err := o.visit(id, func(*visit) error {
		now := o.clock.Now()
		c, err := o.usableCard(id, now)
		if err != nil {
			return err
		}
		r := c.rec
		sign, ok := o.current(r, authority.Sign, authority.OnCard)
		if !ok || sign.State(now) != "valid" {
			return refuse(RuleSmartphoneSign, "card %s holds no valid signing certificate: smartphone certificates are set up with it", id)
		}
		for _, k := range []authority.Kind{authority.Sign, authority.Auth} {
			if cur, ok := o.current(r, k, authority.Smartphone); ok && cur.State(now) == "valid" {
				return refuse(RuleOnePerKind, "a valid smartphone %s certificate (#%d) exists already", kindName(k), cur.Serial)
			}
		}
		for _, k := range []authority.Kind{authority.Sign, authority.Auth} {
			_, cert, err := o.newCredential(r, k, authority.Smartphone, sign.NotAfter)
			if err != nil {
				return fmt.Errorf("issuing smartphone certificates for card %s: %w", id, err)
			}
			*r.serial(k, authority.Smartphone) = cert.SerialNumber.Int64()
			if k == authority.Sign {
				out.Sign = cert.Raw
			} else {
				out.Auth = cert.Raw
			}
			o.event(r, "smartphone %s certificate #%d issued, valid to %s", kindName(k), cert.SerialNumber.Int64(), dateString(cert.NotAfter))
		}
		return o.save()
	})
	if err != nil {
		return simapi.Smartphone{}, err
	}
	return out, nil
}

// FileProxy files a proxy's application (任意代理人) for an operation that
// sets a PIN: the office mails an inquiry/answer form to the holder and
// returns the inquiry; AnswerInquiry completes it on a later visit
// (docs/lifecycle-rules.md §2). Holders and legal representatives call
// IssueCertificate or ResetPIN directly.
func (o *Office) FileProxy(id string, op simapi.ProxyOperation, k authority.Kind) (simapi.Inquiry, error) {
	if err := checkKind(k); err != nil {
		return simapi.Inquiry{}, err
	}
	if op != simapi.ProxyIssueCertificate && op != simapi.ProxyResetPIN {
		return simapi.Inquiry{}, refuse(RuleProxyOperation, "%q cannot be applied for by proxy: want %s or %s", op, simapi.ProxyIssueCertificate, simapi.ProxyResetPIN)
	}
	var q inquiry
	err := o.visit(id, func(*visit) error {
		c, err := o.usableCard(id, o.clock.Now())
		if err != nil {
			return err
		}
		o.state.NextInquiry++
		q = inquiry{ID: fmt.Sprintf("inquiry-%d", o.state.NextInquiry), CardID: id, Operation: op, Kind: k, FiledAt: o.clock.Now()}
		o.state.Inquiries = append(o.state.Inquiries, &q)
		o.event(c.rec, "proxy application %s (%s %s); inquiry/answer form mailed to the holder", q.ID, op, k)
		return o.save()
	})
	if err != nil {
		return simapi.Inquiry{}, err
	}
	return q.view(), nil
}

// Inquiries returns the open proxy applications.
func (o *Office) Inquiries() []simapi.Inquiry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]simapi.Inquiry, 0, len(o.state.Inquiries))
	for _, q := range o.state.Inquiries {
		out = append(out, q.view())
	}
	return out
}

// InquiryCard returns the card an open inquiry is for.
func (o *Office) InquiryCard(inquiryID string) (string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, q := range o.state.Inquiries {
		if q.ID == inquiryID {
			return q.CardID, nil
		}
	}
	return "", refuse(RuleUnknownInquiry, "no open inquiry %q", inquiryID)
}

// AnswerInquiry completes a proxy application with the PIN the holder wrote,
// sealed, on the inquiry/answer form. Refused on the day it was filed: the
// form has to travel by post.
func (o *Office) AnswerInquiry(inquiryID, pin string) error {
	cardID, err := o.InquiryCard(inquiryID)
	if err != nil {
		return err
	}
	return o.visit(cardID, func(v *visit) error {
		// Answered by another call while this one waited for the card?
		i := slices.IndexFunc(o.state.Inquiries, func(q *inquiry) bool { return q.ID == inquiryID })
		if i < 0 {
			return refuse(RuleUnknownInquiry, "no open inquiry %q", inquiryID)
		}
		q := o.state.Inquiries[i]
		if dateString(o.clock.Now()) == dateString(q.FiledAt) {
			return refuse(RuleProxyTwoVisits, "inquiry %s was filed today: a proxy completes on a later visit with the holder's sealed answer", q.ID)
		}
		var err error
		switch q.Operation {
		case simapi.ProxyIssueCertificate:
			err = o.issueCertificate(v, q.CardID, q.Kind, pin)
		case simapi.ProxyResetPIN:
			err = o.resetPIN(v, q.CardID, q.Kind, pin)
		}
		if err != nil {
			return err
		}
		o.state.Inquiries = slices.Delete(o.state.Inquiries, i, i+1)
		o.event(o.cards[q.CardID].rec, "proxy application %s completed with the holder's sealed answer", q.ID)
		return o.save()
	})
}

// MoveClock applies TimeParams to a virtual clock, then returns the
// office's time; a wall clock refuses to move (rule real-clock). The new
// time is stored (KeepClock) before the clock moves, under the office's
// lock: a client is never told a time that a restart would lose, and
// concurrent moves are serialised with each other and with operations.
func (o *Office) MoveClock(p simapi.TimeParams) (simapi.TimeResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	v, virtual := o.clock.(*clock.Virtual)
	if p == (simapi.TimeParams{}) {
		return simapi.TimeResult{Now: o.clock.Now(), Virtual: virtual}, nil
	}
	if !virtual {
		return simapi.TimeResult{}, refuse(RuleRealClock, "the office runs on the wall clock, which it cannot move: start 'mynahil sim --clock virtual:2026-04-01' on a new state directory for a virtual clock")
	}
	t := v.Now()
	if p.Set != "" {
		var err error
		if t, err = time.Parse(time.RFC3339, p.Set); err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, p.Set, clock.JST); err != nil {
				return simapi.TimeResult{}, refuse(RuleBadTime, "time %q: want RFC 3339 or YYYY-MM-DD", p.Set)
			}
		}
	}
	t = t.In(clock.JST).AddDate(p.Years, p.Months, p.Days)
	if o.keepClock != nil {
		if err := o.keepClock(t); err != nil {
			return simapi.TimeResult{}, fmt.Errorf("moving the office's clock: %w", err)
		}
	}
	v.Set(t)
	return simapi.TimeResult{Now: t, Virtual: true}, nil
}
