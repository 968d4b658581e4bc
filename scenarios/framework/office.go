package framework

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// Office is the municipal office as a suite drives it (docs/lifecycle-rules.md):
// *office.Office in process, or the simulator daemon's office.* control
// methods through the control API's client (simapi.Client). A refusal is a
// *RefusedError either way.
type Office interface {
	IssueCard(p profile.Profile) (*Card, error)
	Report(id string) (Report, error)
	IssueCertificate(id string, k CertKind, pin string) error
	ResetPIN(id string, k CertKind, pin string) error
	ChangeFacts(id string, f profile.Facts) error
	RevokeCertificate(id string, k CertKind) error
	ReportLoss(id string) error
	CardFound(id string) error
	ResetCardInfoPIN(id, pin string) error
	RecordDeath(id string) error
	MoveAbroad(id string) error
	InvalidateCard(id string) error
	Renew(id string, pins RenewPINs) error
	IssueSmartphone(id string) (*Smartphone, error)
	FileProxy(id string, op simapi.ProxyOperation, k CertKind) (Inquiry, error)
	AnswerInquiry(inquiryID, pin string) error
	Inquiries() ([]Inquiry, error)
}

// Report is the office's view of a card (office.status), with the holder's
// facts as a profile holds them, so that a suite can edit them and hand
// them to ChangeFacts.
type Report struct {
	simapi.Report
	Holder profile.Facts
}

// reportOf gives a report of the control API the holder's facts of a
// profile.
func reportOf(r simapi.Report, err error) (Report, error) {
	if err != nil {
		return Report{}, err
	}
	f := profile.Facts{Name: r.Holder.Name, Address: r.Holder.Address, Sex: profile.Sex(r.Holder.Sex), FormerSurname: r.Holder.FormerSurname}
	if err := f.BirthDate.UnmarshalJSON([]byte(fmt.Sprintf("%q", r.Holder.BirthDate))); err != nil {
		return Report{}, fmt.Errorf("reading the report of card %s: %w", r.ID, err)
	}
	return Report{Report: r, Holder: f}, nil
}

// Clock is the world's clock: a virtual one, in process or the daemon's
// (office.time).
type Clock interface {
	Now() time.Time
	Set(t time.Time)
	Advance(d time.Duration)
	// AddDate moves by calendar years, months and days in JST.
	AddDate(years, months, days int)
}

// localOffice is the in-process office.
type localOffice struct{ o *office.Office }

var _ Office = localOffice{}
var _ Clock = (*clock.Virtual)(nil)

func (l localOffice) IssueCard(p profile.Profile) (*Card, error) { return l.o.IssueCard(p) }
func (l localOffice) Report(id string) (Report, error)           { return reportOf(l.o.Report(id)) }
func (l localOffice) IssueCertificate(id string, k CertKind, pin string) error {
	return l.o.IssueCertificate(id, authority.Kind(k), pin)
}
func (l localOffice) ResetPIN(id string, k CertKind, pin string) error {
	return l.o.ResetPIN(id, authority.Kind(k), pin)
}
func (l localOffice) ChangeFacts(id string, f profile.Facts) error { return l.o.ChangeFacts(id, f) }
func (l localOffice) RevokeCertificate(id string, k CertKind) error {
	return l.o.RevokeCertificate(id, authority.Kind(k))
}
func (l localOffice) ReportLoss(id string) error            { return l.o.ReportLoss(id) }
func (l localOffice) CardFound(id string) error             { return l.o.CardFound(id) }
func (l localOffice) ResetCardInfoPIN(id, pin string) error { return l.o.ResetCardInfoPIN(id, pin) }
func (l localOffice) RecordDeath(id string) error           { return l.o.RecordDeath(id) }
func (l localOffice) MoveAbroad(id string) error            { return l.o.MoveAbroad(id) }
func (l localOffice) InvalidateCard(id string) error        { return l.o.InvalidateCard(id) }
func (l localOffice) Renew(id string, pins RenewPINs) error { return l.o.Renew(id, pins) }
func (l localOffice) AnswerInquiry(inquiryID, pin string) error {
	return l.o.AnswerInquiry(inquiryID, pin)
}
func (l localOffice) Inquiries() ([]Inquiry, error) { return l.o.Inquiries(), nil }
func (l localOffice) IssueSmartphone(id string) (*Smartphone, error) {
	s, err := l.o.IssueSmartphone(id)
	if err != nil {
		return nil, err
	}
	return &s, nil
}
func (l localOffice) FileProxy(id string, op simapi.ProxyOperation, k CertKind) (Inquiry, error) {
	return l.o.FileProxy(id, op, authority.Kind(k))
}

// remoteOffice drives the daemon's office over the control API.
type remoteOffice struct {
	c *simapi.Client
	// issue starts the daemon with the card's profile (one card per world on
	// vpcd and pcsc, so that it sits in the world's reader).
	issue func(p profile.Profile) (*Card, error)
}

// callTimeout bounds one control call; an office visit takes at most a
// few seconds.
const callTimeout = 30 * time.Second

// call runs one call on the daemon with a deadline; a call that changed a
// card (it took the card out of its reader and put it back) is logged as a
// visit.
func call[R any](o remoteOffice, what string, fn func(ctx context.Context, c *simapi.Client) (R, error)) (R, error) {
	var zero R
	if o.c == nil {
		return zero, fmt.Errorf("%s: no card issued in this world yet, so no daemon runs", what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return fn(ctx, o.c)
}

// visited logs a visit when an operation that changes a chip succeeded.
func visited[R any](r R, err error) error {
	if err == nil {
		logVisit("office visit")
	}
	return err
}

func (o remoteOffice) IssueCard(p profile.Profile) (*Card, error) { return o.issue(p) }

func (o remoteOffice) Report(id string) (Report, error) {
	return reportOf(call(o, "reading the card's report", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.Report(ctx, simapi.CardParams{Card: id})
	}))
}

// visit calls an operation that may change the card's chip.
func (o remoteOffice) visit(what string, fn func(ctx context.Context, c *simapi.Client) (simapi.Report, error)) error {
	return visited(call(o, what, fn))
}

func (o remoteOffice) IssueCertificate(id string, k CertKind, pin string) error {
	return o.visit("issuing a certificate", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.IssueCertificate(ctx, simapi.PINParams{Card: id, Kind: k, PIN: pin})
	})
}

func (o remoteOffice) ResetPIN(id string, k CertKind, pin string) error {
	return o.visit("re-setting a PIN", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.ResetPIN(ctx, simapi.PINParams{Card: id, Kind: k, PIN: pin})
	})
}

func (o remoteOffice) ChangeFacts(id string, f profile.Facts) error {
	birth := f.BirthDate.Format(time.DateOnly)
	sex := string(f.Sex)
	return o.visit("changing facts", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.ChangeFacts(ctx, simapi.FactsParams{Card: id, Name: &f.Name, Address: &f.Address, BirthDate: &birth, Sex: &sex,
			FormerSurname: &f.FormerSurname})
	})
}

func (o remoteOffice) RevokeCertificate(id string, k CertKind) error {
	return o.visit("revoking a certificate", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.Revoke(ctx, simapi.CertParams{Card: id, Kind: k})
	})
}

// cardOp runs one of the operations that name a card only.
func (o remoteOffice) cardOp(id, what string, fn func(*simapi.Client, context.Context, simapi.CardParams) (simapi.Report, error)) error {
	_, err := call(o, what, func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return fn(c, ctx, simapi.CardParams{Card: id})
	})
	return err
}

// ReportLoss leaves the chip alone (the office does not hold a lost card):
// no visit.
func (o remoteOffice) ReportLoss(id string) error {
	return o.cardOp(id, "reporting a loss", (*simapi.Client).ReportLoss)
}

// CardFound leaves the chip alone too: the status only.
func (o remoteOffice) CardFound(id string) error {
	return o.cardOp(id, "withdrawing a loss report", (*simapi.Client).CardFound)
}

func (o remoteOffice) ResetCardInfoPIN(id, pin string) error {
	return o.visit("re-setting the card-info PIN", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.ResetCardInfoPIN(ctx, simapi.CardPINParams{Card: id, PIN: pin})
	})
}

func (o remoteOffice) RecordDeath(id string) error {
	return o.visit("recording a death", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.Death(ctx, simapi.CardParams{Card: id})
	})
}

func (o remoteOffice) MoveAbroad(id string) error {
	return o.visit("recording a move abroad", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.MoveAbroad(ctx, simapi.CardParams{Card: id})
	})
}

func (o remoteOffice) InvalidateCard(id string) error {
	return o.visit("invalidating a card", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.Invalidate(ctx, simapi.CardParams{Card: id})
	})
}

func (o remoteOffice) Renew(id string, pins RenewPINs) error {
	return o.visit("renewing", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.Renew(ctx, simapi.RenewParams{Card: id, AuthPIN: pins.Auth, SignPIN: pins.Sign})
	})
}

func (o remoteOffice) IssueSmartphone(id string) (*Smartphone, error) {
	s, err := call(o, "issuing smartphone certificates", func(ctx context.Context, c *simapi.Client) (simapi.Smartphone, error) {
		return c.Smartphone(ctx, simapi.CardParams{Card: id})
	})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (o remoteOffice) FileProxy(id string, op simapi.ProxyOperation, k CertKind) (Inquiry, error) {
	return call(o, "filing a proxy application", func(ctx context.Context, c *simapi.Client) (simapi.Inquiry, error) {
		return c.ProxyFile(ctx, simapi.ProxyParams{Card: id, Operation: op, Kind: k})
	})
}

func (o remoteOffice) AnswerInquiry(inquiryID, pin string) error {
	return o.visit("answering an inquiry", func(ctx context.Context, c *simapi.Client) (simapi.Report, error) {
		return c.ProxyAnswer(ctx, simapi.AnswerParams{Inquiry: inquiryID, PIN: pin})
	})
}

func (o remoteOffice) Inquiries() ([]Inquiry, error) {
	return call(o, "listing inquiries", func(ctx context.Context, c *simapi.Client) ([]simapi.Inquiry, error) { return c.Inquiries(ctx) })
}

// remoteClock is the daemon's virtual clock, moved with office.time.
type remoteClock struct{ o remoteOffice }

func (c remoteClock) time(p simapi.TimeParams) time.Time {
	r, err := call(c.o, "moving the daemon's clock", func(ctx context.Context, cl *simapi.Client) (simapi.TimeResult, error) {
		return cl.Time(ctx, p)
	})
	if err != nil {
		ginkgo.Fail("moving the daemon's clock: "+err.Error(), 2)
	}
	if !r.Virtual {
		ginkgo.Fail("the daemon runs on the wall clock: the suite needs a virtual one", 2)
	}
	return r.Now
}

func (c remoteClock) Now() time.Time { return c.time(simapi.TimeParams{}) }
func (c remoteClock) Set(t time.Time) {
	c.time(simapi.TimeParams{Set: t.Format(time.RFC3339Nano)})
}
func (c remoteClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }
func (c remoteClock) AddDate(years, months, days int) {
	c.time(simapi.TimeParams{Years: years, Months: months, Days: days})
}

// EnvVisitLog names a file to which every office visit of a daemon world
// (a new card in the reader, a change at the office) appends one line:
// the lifecycle benchmark counts the card's trips through pcscd's removal
// and insertion detection with it. Each line is the Ginkgo process number,
// a space and the visit ("new card", or the change).
const EnvVisitLog = "MYNAHIL_VISIT_LOG"

var visitMu sync.Mutex

func logVisit(what string) {
	path := os.Getenv(EnvVisitLog)
	if path == "" {
		return
	}
	visitMu.Lock()
	defer visitMu.Unlock()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		ginkgo.Fail("logging an office visit: " + err.Error())
	}
	defer f.Close()
	fmt.Fprintln(f, ginkgo.GinkgoParallelProcess(), what)
}
