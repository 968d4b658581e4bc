package office

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// API returns the office as the control API's office (simapi.Office), which
// the daemon registers on its control socket (simapi.Register). Refusals
// keep their *RefusedError, whose rule the control server sends to the
// client.
func (o *Office) API() simapi.Office { return api{o} }

type api struct{ o *Office }

// visited returns the card's report after an operation on it. A card that
// the operation changed but whose reader did not take it back in time is
// said in the report (the change is kept), not as a failure.
func (a api) visited(id string, err error) (simapi.Report, error) {
	var nb *simapi.NotBackError
	if err != nil && !errors.As(err, &nb) {
		return simapi.Report{}, err
	}
	rep, err := a.o.Report(id)
	if nb != nil {
		rep.NotBack = &nb.NotBack
	}
	return rep, err
}

func (a api) IssueCard(_ context.Context, p simapi.IssueParams) (simapi.Report, error) {
	prof := profile.Default()
	if len(p.Profile) > 0 {
		var err error
		if prof, err = profile.Parse(p.Profile); err != nil {
			return simapi.Report{}, refuse(RuleBadProfile, "issuing card: %v", err)
		}
	}
	if !hasKey(p.Profile, "issue_date") {
		// A card handed over at the counter is issued today, by the
		// office's clock (virtual or not).
		now := a.o.clock.Now().In(clock.JST)
		prof.IssueDate = profile.NewDate(now.Year(), now.Month(), now.Day())
	}
	c, err := a.o.IssueCard(prof)
	if err != nil {
		return simapi.Report{}, err
	}
	return a.o.Report(c.ID)
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

func (a api) Cards(context.Context) ([]simapi.CardSummary, error) {
	a.o.mu.Lock()
	defer a.o.mu.Unlock()
	out := []simapi.CardSummary{}
	for _, r := range a.o.state.Cards {
		out = append(out, simapi.CardSummary{ID: r.ID, Status: string(r.Status), Name: r.Profile.Holder.Name})
	}
	return out, nil
}

func (a api) Report(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.o.Report(p.Card)
}

func (a api) IssueCertificate(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.IssueCertificate(p.Card, authority.Kind(p.Kind), p.PIN))
}

func (a api) ResetPIN(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.ResetPIN(p.Card, authority.Kind(p.Kind), p.PIN))
}

func (a api) ChangeFacts(_ context.Context, p simapi.FactsParams) (simapi.Report, error) {
	f, err := a.o.holder(p.Card)
	if err != nil {
		return simapi.Report{}, err
	}
	if p.Name != nil {
		f.Name = *p.Name
	}
	if p.Address != nil {
		f.Address = *p.Address
	}
	if p.BirthDate != nil {
		if err := f.BirthDate.UnmarshalJSON([]byte(fmt.Sprintf("%q", *p.BirthDate))); err != nil {
			return simapi.Report{}, refuse(RuleBadFacts, "card %s: birth_date: %v", p.Card, err)
		}
	}
	if p.Sex != nil {
		f.Sex = profile.Sex(*p.Sex)
	}
	if p.FormerSurname != nil {
		f.FormerSurname = *p.FormerSurname
	}
	return a.visited(p.Card, a.o.ChangeFacts(p.Card, f))
}

// holder returns the recorded facts of a card's holder.
func (o *Office) holder(id string) (profile.Facts, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, err := o.card(id)
	if err != nil {
		return profile.Facts{}, err
	}
	return c.rec.Profile.Holder, nil
}

func (a api) Revoke(_ context.Context, p simapi.CertParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.RevokeCertificate(p.Card, authority.Kind(p.Kind)))
}

func (a api) ReportLoss(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.ReportLoss(p.Card))
}

func (a api) CardFound(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.CardFound(p.Card))
}

func (a api) ResetCardInfoPIN(_ context.Context, p simapi.CardPINParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.ResetCardInfoPIN(p.Card, p.PIN))
}

func (a api) Death(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.RecordDeath(p.Card))
}

func (a api) MoveAbroad(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.MoveAbroad(p.Card))
}

func (a api) Invalidate(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.InvalidateCard(p.Card))
}

func (a api) Renew(_ context.Context, p simapi.RenewParams) (simapi.Report, error) {
	return a.visited(p.Card, a.o.Renew(p.Card, RenewPINs{Auth: p.AuthPIN, Sign: p.SignPIN}))
}

func (a api) Smartphone(_ context.Context, p simapi.CardParams) (simapi.Smartphone, error) {
	return a.o.IssueSmartphone(p.Card)
}

func (a api) ProxyFile(_ context.Context, p simapi.ProxyParams) (simapi.Inquiry, error) {
	return a.o.FileProxy(p.Card, p.Operation, authority.Kind(p.Kind))
}

func (a api) ProxyAnswer(_ context.Context, p simapi.AnswerParams) (simapi.Report, error) {
	id, err := a.o.InquiryCard(p.Inquiry)
	if err != nil {
		return simapi.Report{}, err
	}
	return a.visited(id, a.o.AnswerInquiry(p.Inquiry, p.PIN))
}

func (a api) Inquiries(context.Context) ([]simapi.Inquiry, error) { return a.o.Inquiries(), nil }

func (a api) Time(_ context.Context, p simapi.TimeParams) (simapi.TimeResult, error) {
	return a.o.MoveClock(p)
}

func (a api) Endpoints(context.Context) (simapi.Endpoints, error) {
	s, err := a.o.StartResponder("")
	if err != nil {
		return simapi.Endpoints{}, err
	}
	ep := simapi.Endpoints{
		CRLAuth: s.CRLURL(authority.Auth), CRLSign: s.CRLURL(authority.Sign),
		OCSPAuth: s.OCSPURL(authority.Auth), OCSPSign: s.OCSPURL(authority.Sign),
		CAAuth: s.CAURL(authority.Auth), CASign: s.CAURL(authority.Sign),
	}
	for _, x := range a.o.issuer.Extra {
		if ap, ok := x.(*cardinfo.Applets); ok {
			if ep.CardInfoTextCA, err = publicPEM(ap.TextCA()); err != nil {
				return simapi.Endpoints{}, err
			}
			if ep.CardInfoVisualCA, err = publicPEM(ap.VisualCA()); err != nil {
				return simapi.Endpoints{}, err
			}
		}
	}
	return ep, nil
}

// publicPEM encodes a public key as a PEM "PUBLIC KEY" block (PKIX).
func publicPEM(k *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}
