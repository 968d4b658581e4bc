package office

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// Handler is what RegisterControl needs of a control server
// (control.Server has this method).
type Handler interface {
	Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error))
}

// Params of the office.* control methods. PINs travel only in these
// bodies over the local control socket, never on a command line.
type (
	// CardParams names a card.
	CardParams struct {
		Card string `json:"card"`
	}
	// CertParams names a card and a certificate kind ("auth" or "sign").
	CertParams struct {
		Card string         `json:"card"`
		Kind authority.Kind `json:"kind"`
	}
	// PINParams names a card, a kind and the PIN to set.
	PINParams struct {
		Card string         `json:"card"`
		Kind authority.Kind `json:"kind"`
		PIN  string         `json:"pin"`
	}
	// FactsParams changes the given facts; absent ones stay.
	FactsParams struct {
		Card          string        `json:"card"`
		Name          *string       `json:"name,omitempty"`
		Address       *string       `json:"address,omitempty"`
		BirthDate     *profile.Date `json:"birth_date,omitempty"`
		Sex           *profile.Sex  `json:"sex,omitempty"`
		FormerSurname *string       `json:"former_surname,omitempty"`
	}
	// RenewParams renews a card's certificates, optionally with new PINs.
	RenewParams struct {
		Card    string `json:"card"`
		AuthPIN string `json:"auth_pin,omitempty"`
		SignPIN string `json:"sign_pin,omitempty"`
	}
	// ProxyParams files a proxy application.
	ProxyParams struct {
		Card      string         `json:"card"`
		Operation ProxyOperation `json:"operation"`
		Kind      authority.Kind `json:"kind"`
	}
	// AnswerParams completes a proxy application.
	AnswerParams struct {
		Inquiry string `json:"inquiry"`
		PIN     string `json:"pin"`
	}
	// IssueParams issues a card: a profile (as in profile files; fields left
	// out keep profile.Default's values, except the issue date, which is
	// the office's today).
	IssueParams struct {
		Profile json.RawMessage `json:"profile,omitempty"`
	}
)

// TimeParams moves a virtual clock: Set (RFC 3339, or YYYY-MM-DD for
// midnight JST) first, then Years, Months and Days added in JST.
type TimeParams struct {
	Set    string `json:"set,omitempty"`
	Years  int    `json:"years,omitempty"`
	Months int    `json:"months,omitempty"`
	Days   int    `json:"days,omitempty"`
}

// TimeResult is the office's time after office.time.
type TimeResult struct {
	Now     time.Time `json:"now"`
	Virtual bool      `json:"virtual"`
}

// CardSummary is one line of office.cards.
type CardSummary struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	Name   string `json:"name"`
}

// Endpoints are where relying parties find the authority.
type Endpoints struct {
	CRLAuth  string `json:"crl_auth"`
	CRLSign  string `json:"crl_sign"`
	OCSPAuth string `json:"ocsp_auth"`
	OCSPSign string `json:"ocsp_sign"`
	CAAuth   string `json:"ca_auth"`
	CASign   string `json:"ca_sign"`
	// CardInfoTextCA and CardInfoVisualCA are the public keys (PEM, PKIX)
	// of the CAs that certify EF 0004 of the card-info text and visual
	// applets (docs/card.md §5.3, §5.4): a card-info reader's trust anchors.
	CardInfoTextCA   string `json:"cardinfo_text_ca,omitempty"`
	CardInfoVisualCA string `json:"cardinfo_visual_ca,omitempty"`
}

// OK is the result of operations that return nothing else.
type OK struct {
	OK bool `json:"ok"`
}

// hasKey reports whether the JSON object obj has the key.
func hasKey(obj json.RawMessage, key string) bool {
	var m map[string]json.RawMessage
	if len(obj) == 0 || json.Unmarshal(obj, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func decode(params json.RawMessage, v any) error {
	if len(params) == 0 || string(params) == "null" {
		return fmt.Errorf("decoding params: missing")
	}
	if err := jsonUnmarshalStrict(params, v); err != nil {
		return fmt.Errorf("decoding params: %w", err)
	}
	return nil
}

// Methods lists the control methods RegisterControl registers.
var Methods = []string{
	"office.issue-card", "office.cards", "office.status", "office.issue-certificate", "office.reset-pin",
	"office.change-facts", "office.revoke", "office.report-loss", "office.death", "office.move-abroad",
	"office.invalidate", "office.renew", "office.smartphone", "office.proxy-file", "office.proxy-answer",
	"office.inquiries", "office.endpoints", "office.time",
}

// RegisterControl registers the office.* methods (Methods) on a control
// server. Refusals keep their *RefusedError, whose Rule the server sends to
// the client.
func (o *Office) RegisterControl(h Handler) {
	card := func(fn func(id string) error) func(context.Context, json.RawMessage) (any, error) {
		return func(_ context.Context, params json.RawMessage) (any, error) {
			var p CardParams
			if err := decode(params, &p); err != nil {
				return nil, err
			}
			if err := fn(p.Card); err != nil {
				return nil, err
			}
			return o.Report(p.Card)
		}
	}
	h.Handle("office.issue-card", func(_ context.Context, params json.RawMessage) (any, error) {
		var p IssueParams
		if len(params) > 0 && string(params) != "null" {
			if err := decode(params, &p); err != nil {
				return nil, err
			}
		}
		prof := profile.Default()
		if len(p.Profile) > 0 {
			var err error
			if prof, err = profile.Parse(p.Profile); err != nil {
				return nil, refuse(RuleBadProfile, "issuing card: %v", err)
			}
		}
		if !hasKey(p.Profile, "issue_date") {
			// A card handed over at the counter is issued today, by the
			// office's clock (virtual or not).
			now := o.clock.Now().In(clock.JST)
			prof.IssueDate = profile.NewDate(now.Year(), now.Month(), now.Day())
		}
		c, err := o.IssueCard(prof)
		if err != nil {
			return nil, err
		}
		return o.Report(c.ID)
	})
	h.Handle("office.cards", func(context.Context, json.RawMessage) (any, error) {
		o.mu.Lock()
		defer o.mu.Unlock()
		out := []CardSummary{}
		for _, r := range o.state.Cards {
			out = append(out, CardSummary{ID: r.ID, Status: r.Status, Name: r.Profile.Holder.Name})
		}
		return out, nil
	})
	h.Handle("office.status", card(func(string) error { return nil }))
	h.Handle("office.issue-certificate", func(_ context.Context, params json.RawMessage) (any, error) {
		var p PINParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if err := o.IssueCertificate(p.Card, p.Kind, p.PIN); err != nil {
			return nil, err
		}
		return o.Report(p.Card)
	})
	h.Handle("office.reset-pin", func(_ context.Context, params json.RawMessage) (any, error) {
		var p PINParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if err := o.ResetPIN(p.Card, p.Kind, p.PIN); err != nil {
			return nil, err
		}
		return o.Report(p.Card)
	})
	h.Handle("office.change-facts", func(_ context.Context, params json.RawMessage) (any, error) {
		var p FactsParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		rep, err := o.Report(p.Card)
		if err != nil {
			return nil, err
		}
		f := rep.Holder
		if p.Name != nil {
			f.Name = *p.Name
		}
		if p.Address != nil {
			f.Address = *p.Address
		}
		if p.BirthDate != nil {
			f.BirthDate = *p.BirthDate
		}
		if p.Sex != nil {
			f.Sex = *p.Sex
		}
		if p.FormerSurname != nil {
			f.FormerSurname = *p.FormerSurname
		}
		if err := o.ChangeFacts(p.Card, f); err != nil {
			return nil, err
		}
		return o.Report(p.Card)
	})
	h.Handle("office.revoke", func(_ context.Context, params json.RawMessage) (any, error) {
		var p CertParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if err := o.RevokeCertificate(p.Card, p.Kind); err != nil {
			return nil, err
		}
		return o.Report(p.Card)
	})
	h.Handle("office.report-loss", card(o.ReportLoss))
	h.Handle("office.death", card(o.RecordDeath))
	h.Handle("office.move-abroad", card(o.MoveAbroad))
	h.Handle("office.invalidate", card(o.InvalidateCard))
	h.Handle("office.renew", func(_ context.Context, params json.RawMessage) (any, error) {
		var p RenewParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if err := o.Renew(p.Card, RenewPINs{Auth: p.AuthPIN, Sign: p.SignPIN}); err != nil {
			return nil, err
		}
		return o.Report(p.Card)
	})
	h.Handle("office.smartphone", func(_ context.Context, params json.RawMessage) (any, error) {
		var p CardParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return o.IssueSmartphone(p.Card)
	})
	h.Handle("office.proxy-file", func(_ context.Context, params json.RawMessage) (any, error) {
		var p ProxyParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		return o.FileProxy(p.Card, p.Operation, p.Kind)
	})
	h.Handle("office.proxy-answer", func(_ context.Context, params json.RawMessage) (any, error) {
		var p AnswerParams
		if err := decode(params, &p); err != nil {
			return nil, err
		}
		if err := o.AnswerInquiry(p.Inquiry, p.PIN); err != nil {
			return nil, err
		}
		return OK{true}, nil
	})
	h.Handle("office.inquiries", func(context.Context, json.RawMessage) (any, error) {
		return o.Inquiries(), nil
	})
	h.Handle("office.time", func(_ context.Context, params json.RawMessage) (any, error) {
		var p TimeParams
		if len(params) > 0 && string(params) != "null" {
			if err := decode(params, &p); err != nil {
				return nil, err
			}
		}
		if err := o.moveClock(p); err != nil {
			return nil, err
		}
		_, virtual := o.clock.(*clock.Virtual)
		return TimeResult{Now: o.clock.Now(), Virtual: virtual}, nil
	})
	h.Handle("office.endpoints", func(context.Context, json.RawMessage) (any, error) {
		s, err := o.StartResponder("")
		if err != nil {
			return nil, err
		}
		ep := Endpoints{
			CRLAuth: s.CRLURL(authority.Auth), CRLSign: s.CRLURL(authority.Sign),
			OCSPAuth: s.OCSPURL(authority.Auth), OCSPSign: s.OCSPURL(authority.Sign),
			CAAuth: s.CAURL(authority.Auth), CASign: s.CAURL(authority.Sign),
		}
		for _, x := range o.issuer.Extra {
			if a, ok := x.(*cardinfo.Applets); ok {
				if ep.CardInfoTextCA, err = publicPEM(a.TextCA()); err != nil {
					return nil, err
				}
				if ep.CardInfoVisualCA, err = publicPEM(a.VisualCA()); err != nil {
					return nil, err
				}
			}
		}
		return ep, nil
	})
}

// moveClock applies TimeParams to a virtual clock; a wall clock refuses.
func (o *Office) moveClock(p TimeParams) error {
	if p == (TimeParams{}) {
		return nil
	}
	v, ok := o.clock.(*clock.Virtual)
	if !ok {
		return refuse(RuleRealClock, "the office runs on the wall clock, which it cannot move: start 'mynahil sim --clock virtual:2026-04-01' on a new state directory for a virtual clock")
	}
	if p.Set != "" {
		t, err := time.Parse(time.RFC3339, p.Set)
		if err != nil {
			if t, err = time.ParseInLocation(time.DateOnly, p.Set, clock.JST); err != nil {
				return refuse(RuleBadTime, "time %q: want RFC 3339 or YYYY-MM-DD", p.Set)
			}
		}
		v.Set(t)
	}
	v.AddDate(p.Years, p.Months, p.Days)
	return nil
}

// publicPEM encodes a public key as a PEM "PUBLIC KEY" block (PKIX).
func publicPEM(k *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
