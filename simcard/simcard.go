// Package simcard issues simulated My Number Cards: it turns a card profile
// into a chip (package card) holding the JPKI applet, with certificates from
// the simulator's test authority, validity to the holder's 5th birthday after
// issuance, and no signing certificate for holders under 15 or under adult
// guardianship (docs/lifecycle-rules.md §1–§3).
package simcard

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/rules"
)

// Issuer issues cards: an authority, a clock and a key source.
type Issuer struct {
	Authority *authority.Authority
	Clock     clock.Clock
	Keys      keypool.Source
	// Extra are further applets written at issuance (the card-info applets).
	Extra []AppletSet
}

// AppletSet builds applets from a profile, and rewrites them when the
// municipal office changes the holder's facts, so the four facts stay one
// source of truth across applets.
type AppletSet interface {
	// Build returns the applets for a new card; salt gives PIN salts.
	Build(p profile.Profile, salt func() []byte) ([]*card.DF, error)
	// Refresh rewrites what depends on the profile in an issued card's state.
	Refresh(st *card.State, p profile.Profile) error
}

// NewIssuer returns an issuer with a fresh test authority whose cards carry
// the JPKI applet and the card-info applets (package cardinfo). keys may be
// nil for the process-wide pools: one for the roots, another for the cards,
// so that no card key equals a root's.
func NewIssuer(c clock.Clock, keys keypool.Source) (*Issuer, error) {
	rootKeys := keys
	if keys == nil {
		keys, rootKeys = keypool.Shared(), keypool.SharedRoots()
	}
	a, err := authority.New(c, rootKeys)
	if err != nil {
		return nil, err
	}
	info, err := cardinfo.NewWithKeys(rootKeys, keys)
	if err != nil {
		return nil, fmt.Errorf("creating card-info applets: %w", err)
	}
	return &Issuer{Authority: a, Clock: c, Keys: keys, Extra: []AppletSet{info}}, nil
}

// tokenLabels maps a profile's token variant to the label in EF 0006.
var tokenLabels = map[string]string{
	"":                   jpki.TokenLabel,
	profile.TokenCard:    jpki.TokenLabel,
	profile.TokenAndroid: jpki.TokenAndroid,
	profile.TokenIPhone:  jpki.TokenIPhone,
	profile.TokenJuki:    jpki.TokenJuki,
}

// MFFiller is an AppletSet that also writes MF-level data objects, such as
// the card-verifiable certificate chain the card-info applets' keys sign.
type MFFiller interface {
	FillMF(st *card.State, p profile.Profile, cardExpiry time.Time) error
}

// fillMF writes the MF level: the first MFFiller among the extra applets
// does it all, else the plain objects of cardinfo.MF.
func fillMF(extra []AppletSet, st *card.State, p profile.Profile, cardExp time.Time) error {
	for _, e := range extra {
		if f, ok := e.(MFFiller); ok {
			return f.FillMF(st, p, cardExp)
		}
	}
	return cardinfo.MF(st, p, cardExp)
}

// Issued is a freshly issued card and what was written on it.
type Issued struct {
	Card     *card.Card
	Profile  profile.Profile
	AuthCert *x509.Certificate // nil when declined
	SignCert *x509.Certificate // nil when declined or not allowed
	// CardExpiry is the last moment the card itself is valid.
	CardExpiry time.Time

	authority *authority.Authority
}

// Authority returns the authority that issued the card's certificates.
func (i *Issued) Authority() *authority.Authority { return i.authority }

// Snapshot returns the card's persistent state (files, PIN counters, keys)
// for Restore: suites take one before a spec that changes the card and put
// it back afterwards, instead of writing the chip's internal state.
func (i *Issued) Snapshot() (card.Snapshot, error) { return i.Card.Snapshot() }

// Restore puts back a snapshot taken with Snapshot. Like an office visit,
// it resets the card's volatile state (selected applet, verified PINs).
func (i *Issued) Restore(s card.Snapshot) error { return i.Card.Restore(s) }

// Salt returns a fresh random PIN salt.
func Salt() []byte {
	b := make([]byte, 16)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return b
}

// Issue makes a card from a profile. Certificates are issued at the profile's
// issue date (which must not lie after the issuer's clock), valid to the 5th
// birthday after it.
func (is *Issuer) Issue(p profile.Profile, opts ...card.Option) (*Issued, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("issuing card: %w", err)
	}
	keys := is.Keys
	if p.FreshKeys {
		keys = keypool.Fresh{}
	}
	issued := p.IssueDate.Time
	cardExp := rules.CardExpiry(p.Holder.BirthDate.Time, issued)
	notBefore, notAfter := authority.Validity(issued, p.Holder.BirthDate.Time, cardExp)

	c := jpki.Contents{
		AuthCA:  is.Authority.AuthCA.Cert.Raw,
		SignCA:  is.Authority.SignCA.Cert.Raw,
		AuthPIN: p.PINs.Auth,
		SignPIN: p.PINs.Sign,
		Token:   tokenLabels[p.Token],
	}
	out := &Issued{Profile: p, CardExpiry: cardExp, authority: is.Authority}
	credential := func(kind authority.Kind) (*jpki.Credential, *x509.Certificate, error) {
		key, err := keys.Key()
		if err != nil {
			return nil, nil, err
		}
		cert, err := is.Authority.Issue(authority.Request{Kind: kind, PublicKey: &key.PublicKey,
			Holder: p.Holder, NotBefore: notBefore, NotAfter: notAfter, Office: p.Municipality})
		if err != nil {
			return nil, nil, err
		}
		return &jpki.Credential{Cert: cert.Raw, Key: key}, cert, nil
	}
	var err error
	if !p.DeclineAuth {
		if c.Auth, out.AuthCert, err = credential(authority.Auth); err != nil {
			return nil, fmt.Errorf("issuing authentication certificate: %w", err)
		}
	}
	if !p.DeclineSign && rules.MaySign(p.Holder.BirthDate.Time, issued, p.UnderGuardianship) {
		if c.Sign, out.SignCert, err = credential(authority.Sign); err != nil {
			return nil, fmt.Errorf("issuing signing certificate: %w", err)
		}
	}
	st, err := is.chip(p, c, cardExp)
	if err != nil {
		return nil, err
	}
	if out.Card, err = card.New(st, opts...); err != nil {
		return nil, fmt.Errorf("issuing card: %w", err)
	}
	return out, nil
}

// chip is the state of a new card's chip: the JPKI applet holding c, the
// issuer's other applets, the MF's objects and the profile's ATR.
func (is *Issuer) chip(p profile.Profile, c jpki.Contents, cardExp time.Time) (card.State, error) {
	st := card.State{DFs: []*card.DF{jpki.NewDF(c, Salt)}}
	for _, extra := range is.Extra {
		dfs, err := extra.Build(p, Salt)
		if err != nil {
			return card.State{}, fmt.Errorf("issuing card applets: %w", err)
		}
		st.DFs = append(st.DFs, dfs...)
	}
	atr, err := p.ATRBytes()
	if err != nil {
		return card.State{}, fmt.Errorf("issuing card: %w", err)
	}
	if atr != nil {
		if err := card.CheckATR(atr); err != nil {
			return card.State{}, fmt.Errorf("issuing card: %w", err)
		}
		st.ATR = atr
	}
	st.LastCommandIndicator = p.Token == profile.TokenIPhone
	st.Timing = p.Timing
	if err := fillMF(is.Extra, &st, p, cardExp); err != nil {
		return card.State{}, fmt.Errorf("issuing card: %w", err)
	}
	return st, nil
}
