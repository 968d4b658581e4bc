package framework

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// Office is the municipal office as a suite drives it (docs/lifecycle-rules.md):
// *office.Office in process, or the simulator daemon's office.* control
// methods. A refusal is an *office.RefusedError either way.
type Office interface {
	IssueCard(p profile.Profile) (*office.Card, error)
	Report(id string) (office.Report, error)
	IssueCertificate(id string, k authority.Kind, pin string) error
	ResetPIN(id string, k authority.Kind, pin string) error
	ChangeFacts(id string, f profile.Facts) error
	RevokeCertificate(id string, k authority.Kind) error
	ReportLoss(id string) error
	RecordDeath(id string) error
	MoveAbroad(id string) error
	InvalidateCard(id string) error
	Renew(id string, pins office.RenewPINs) error
	IssueSmartphone(id string) (*office.Smartphone, error)
	FileProxy(id string, op office.ProxyOperation, k authority.Kind) (office.Inquiry, error)
	AnswerInquiry(inquiryID, pin string) error
	Inquiries() ([]office.Inquiry, error)
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
type localOffice struct{ *office.Office }

func (o localOffice) Inquiries() ([]office.Inquiry, error) { return o.Office.Inquiries(), nil }

var _ Office = localOffice{}
var _ Clock = (*clock.Virtual)(nil)

// remoteOffice drives the daemon's office over the control API.
type remoteOffice struct {
	c *control.Client
	// issue starts the daemon with the card's profile (one card per world on
	// vpcd and pcsc, so that it sits in the world's reader).
	issue func(p profile.Profile) (*office.Card, error)
}

// callTimeout bounds one control call; the daemon answers in milliseconds.
const callTimeout = 30 * time.Second

func (o remoteOffice) call(method string, params, result any) error {
	if o.c == nil {
		return fmt.Errorf("calling %s: no card issued in this world yet, so no daemon runs", method)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	err := o.c.Call(ctx, method, params, result)
	if err == nil && changes(method) {
		logVisit(method)
	}
	return refusal(err)
}

// refusal turns the control server's rule-carrying error back into the
// office's refusal, so suites match one error type on every target.
func refusal(err error) error {
	var ce *control.Error
	if errors.As(err, &ce) && ce.Rule != "" {
		// The message ends in " (rule X)", which RefusedError adds again.
		return &office.RefusedError{RuleName: ce.Rule, Reason: strings.TrimSuffix(ce.Message, " (rule "+ce.Rule+")")}
	}
	return err
}

func (o remoteOffice) IssueCard(p profile.Profile) (*office.Card, error) { return o.issue(p) }

func (o remoteOffice) Report(id string) (office.Report, error) {
	var r office.Report
	err := o.call("office.status", office.CardParams{Card: id}, &r)
	return r, err
}

func (o remoteOffice) IssueCertificate(id string, k authority.Kind, pin string) error {
	return o.call("office.issue-certificate", office.PINParams{Card: id, Kind: k, PIN: pin}, nil)
}

func (o remoteOffice) ResetPIN(id string, k authority.Kind, pin string) error {
	return o.call("office.reset-pin", office.PINParams{Card: id, Kind: k, PIN: pin}, nil)
}

func (o remoteOffice) ChangeFacts(id string, f profile.Facts) error {
	return o.call("office.change-facts", office.FactsParams{
		Card: id, Name: &f.Name, Address: &f.Address, BirthDate: &f.BirthDate, Sex: &f.Sex, FormerSurname: &f.FormerSurname,
	}, nil)
}

func (o remoteOffice) RevokeCertificate(id string, k authority.Kind) error {
	return o.call("office.revoke", office.CertParams{Card: id, Kind: k}, nil)
}

func (o remoteOffice) ReportLoss(id string) error {
	return o.call("office.report-loss", office.CardParams{Card: id}, nil)
}

func (o remoteOffice) RecordDeath(id string) error {
	return o.call("office.death", office.CardParams{Card: id}, nil)
}

func (o remoteOffice) MoveAbroad(id string) error {
	return o.call("office.move-abroad", office.CardParams{Card: id}, nil)
}

func (o remoteOffice) InvalidateCard(id string) error {
	return o.call("office.invalidate", office.CardParams{Card: id}, nil)
}

func (o remoteOffice) Renew(id string, pins office.RenewPINs) error {
	return o.call("office.renew", office.RenewParams{Card: id, AuthPIN: pins.Auth, SignPIN: pins.Sign}, nil)
}

func (o remoteOffice) IssueSmartphone(id string) (*office.Smartphone, error) {
	var s office.Smartphone
	if err := o.call("office.smartphone", office.CardParams{Card: id}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

func (o remoteOffice) FileProxy(id string, op office.ProxyOperation, k authority.Kind) (office.Inquiry, error) {
	var q office.Inquiry
	err := o.call("office.proxy-file", office.ProxyParams{Card: id, Operation: op, Kind: k}, &q)
	return q, err
}

func (o remoteOffice) AnswerInquiry(inquiryID, pin string) error {
	return o.call("office.proxy-answer", office.AnswerParams{Inquiry: inquiryID, PIN: pin}, nil)
}

func (o remoteOffice) Inquiries() ([]office.Inquiry, error) {
	var qs []office.Inquiry
	err := o.call("office.inquiries", nil, &qs)
	return qs, err
}

// remoteClock is the daemon's virtual clock, moved with office.time.
type remoteClock struct{ o remoteOffice }

func (c remoteClock) time(p office.TimeParams) time.Time {
	var r office.TimeResult
	if err := c.o.call("office.time", p, &r); err != nil {
		ginkgo.Fail("moving the daemon's clock: "+err.Error(), 2)
	}
	if !r.Virtual {
		ginkgo.Fail("the daemon runs on the wall clock: the suite needs a virtual one", 2)
	}
	return r.Now
}

func (c remoteClock) Now() time.Time { return c.time(office.TimeParams{}) }
func (c remoteClock) Set(t time.Time) {
	c.time(office.TimeParams{Set: t.Format(time.RFC3339Nano)})
}
func (c remoteClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }
func (c remoteClock) AddDate(years, months, days int) {
	c.time(office.TimeParams{Years: years, Months: months, Days: days})
}

// changes reports whether an office method changes a card, so that the
// card leaves its reader and comes back (a visit to the office); a refused
// operation changes nothing.
func changes(method string) bool {
	switch method {
	case "office.status", "office.cards", "office.inquiries", "office.endpoints", "office.time", "office.smartphone", "office.proxy-file",
		"office.report-loss": // the chip is elsewhere: the office leaves it as it is
		return false
	}
	return true
}

// EnvVisitLog names a file to which every office visit of a daemon world
// (a new card in the reader, a change at the office) appends one line:
// the lifecycle benchmark counts the card's trips through pcscd's removal
// and insertion detection with it.
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
	fmt.Fprintln(f, what)
}
