package simapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mynahil/mynahil/control"
)

// Client drives a running 'mynahil sim' through its control socket: every
// method of Office and Sim, typed. A refusal comes back as *RefusedError,
// whatever refused it (the office's rules, the daemon's, the control
// channel's); anything else is a transport error. A Client is safe for
// concurrent use.
type Client struct {
	c *control.Client
}

var (
	_ Office = (*Client)(nil)
	_ Sim    = (*Client)(nil)
)

// Dial connects to the daemon at a control address ("unix:/path" or
// "tcp:127.0.0.1:PORT"); a TCP address needs the daemon's token
// (control.WithStateToken, control.WithToken or $MYNAHIL_CONTROL_TOKEN).
func Dial(addr string, opts ...control.DialOption) (*Client, error) {
	c, err := control.Dial(addr, opts...)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Call invokes a method by name with raw params (nil sends none) and
// decodes its result into result (nil discards it): for 'mynahil sim call'
// and for methods a program names at run time.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	return refusal(c.c.Call(ctx, method, params, result))
}

func call[S, P, R any](ctx context.Context, c *Client, m op[S, P, R], p P) (R, error) {
	var params any = p
	if _, takesNone := params.(none); takesNone {
		params = nil
	}
	var out R
	err := c.Call(ctx, m.Name, params, &out)
	return out, err
}

// visit is call for the methods that may take a card out of its reader: a
// card changed but not back in its reader is a *NotBackError beside the
// report.
func visit[P any](ctx context.Context, c *Client, m op[Office, P, Report], p P) (Report, error) {
	r, err := call(ctx, c, m, p)
	if err == nil && r.NotBack != nil {
		err = &NotBackError{NotBack: *r.NotBack}
	}
	return r, err
}

// List returns every card with its slot (sim.list).
func (c *Client) List(ctx context.Context) ([]SlotInfo, error) { return call(ctx, c, opList, none{}) }

// Status describes the daemon (sim.status).
func (c *Client) Status(ctx context.Context) (SimStatus, error) {
	return call(ctx, c, opStatus, none{})
}

// Insert puts the selected cards into their readers (sim.insert).
func (c *Client) Insert(ctx context.Context, sel Selector) ([]SlotInfo, error) {
	return call(ctx, c, opInsert, sel)
}

// Remove takes the selected cards out of their readers (sim.remove).
func (c *Client) Remove(ctx context.Context, sel Selector) ([]SlotInfo, error) {
	return call(ctx, c, opRemove, sel)
}

// Place puts a card into a slot, taking out the card there (sim.place).
func (c *Client) Place(ctx context.Context, p Placement) ([]SlotInfo, error) {
	return call(ctx, c, opPlace, p)
}

// Time shows the office's time and moves a virtual clock (office.time); a
// daemon on the wall clock refuses a move (rule real-clock).
func (c *Client) Time(ctx context.Context, p TimeParams) (TimeResult, error) {
	return call(ctx, c, opTime, p)
}

// SetTime sets the virtual clock to t.
func (c *Client) SetTime(ctx context.Context, t time.Time) (TimeResult, error) {
	return c.Time(ctx, TimeParams{Set: t.Format(time.RFC3339Nano)})
}

// IssueCard issues a card (office.issue-card); it starts removed.
func (c *Client) IssueCard(ctx context.Context, p IssueParams) (Report, error) {
	return call(ctx, c, opIssueCard, p)
}

// Cards lists the registry (office.cards).
func (c *Client) Cards(ctx context.Context) ([]CardSummary, error) {
	return call(ctx, c, opCards, none{})
}

// Report returns the office's report of a card (office.status).
func (c *Client) Report(ctx context.Context, p CardParams) (Report, error) {
	return call(ctx, c, opReport, p)
}

// IssueCertificate issues a certificate with a new PIN
// (office.issue-certificate).
func (c *Client) IssueCertificate(ctx context.Context, p PINParams) (Report, error) {
	return visit(ctx, c, opIssueCertificate, p)
}

// ResetPIN re-sets a PIN (office.reset-pin).
func (c *Client) ResetPIN(ctx context.Context, p PINParams) (Report, error) {
	return visit(ctx, c, opResetPIN, p)
}

// ChangeFacts records new facts of the holder (office.change-facts).
func (c *Client) ChangeFacts(ctx context.Context, p FactsParams) (Report, error) {
	return visit(ctx, c, opChangeFacts, p)
}

// Revoke revokes a certificate at the holder's request (office.revoke).
func (c *Client) Revoke(ctx context.Context, p CertParams) (Report, error) {
	return visit(ctx, c, opRevoke, p)
}

// ReportLoss records a lost card (office.report-loss).
func (c *Client) ReportLoss(ctx context.Context, p CardParams) (Report, error) {
	return call(ctx, c, opReportLoss, p)
}

// CardFound withdraws a loss report: the card is active again, its
// revoked certificates stay revoked (office.card-found).
func (c *Client) CardFound(ctx context.Context, p CardParams) (Report, error) {
	return call(ctx, c, opCardFound, p)
}

// ResetCardInfoPIN re-sets the card-info input support applet's PIN
// (office.reset-cardinfo-pin).
func (c *Client) ResetCardInfoPIN(ctx context.Context, p CardPINParams) (Report, error) {
	return visit(ctx, c, opResetCardInfoPIN, p)
}

// Death records the holder's death (office.death).
func (c *Client) Death(ctx context.Context, p CardParams) (Report, error) {
	return visit(ctx, c, opDeath, p)
}

// MoveAbroad records the holder moving abroad (office.move-abroad).
func (c *Client) MoveAbroad(ctx context.Context, p CardParams) (Report, error) {
	return visit(ctx, c, opMoveAbroad, p)
}

// Invalidate invalidates the card (office.invalidate).
func (c *Client) Invalidate(ctx context.Context, p CardParams) (Report, error) {
	return visit(ctx, c, opInvalidate, p)
}

// Renew renews the certificates whose renewal window is open
// (office.renew).
func (c *Client) Renew(ctx context.Context, p RenewParams) (Report, error) {
	return visit(ctx, c, opRenew, p)
}

// Smartphone issues smartphone certificates (office.smartphone).
func (c *Client) Smartphone(ctx context.Context, p CardParams) (Smartphone, error) {
	return call(ctx, c, opSmartphone, p)
}

// ProxyFile files a proxy application (office.proxy-file).
func (c *Client) ProxyFile(ctx context.Context, p ProxyParams) (Inquiry, error) {
	return call(ctx, c, opProxyFile, p)
}

// ProxyAnswer completes a proxy application (office.proxy-answer) and
// returns the report of its card.
func (c *Client) ProxyAnswer(ctx context.Context, p AnswerParams) (Report, error) {
	return visit(ctx, c, opProxyAnswer, p)
}

// Inquiries lists the open proxy applications (office.inquiries).
func (c *Client) Inquiries(ctx context.Context) ([]Inquiry, error) {
	return call(ctx, c, opInquiries, none{})
}

// Endpoints starts (once) and returns the authority's endpoints
// (office.endpoints).
func (c *Client) Endpoints(ctx context.Context) (Endpoints, error) {
	return call(ctx, c, opEndpoints, none{})
}

// RefusedError is a refusal: RuleName names the rule that refused
// (docs/lifecycle-rules.md for the office's, docs/daemon.md for the
// daemon's and the control channel's) and Reason says why, never quoting a
// PIN. The office returns it, the control server carries its rule, and
// Client returns it again, so a caller matches one type on every path.
type RefusedError struct {
	RuleName string
	Reason   string
}

func (e *RefusedError) Error() string { return e.Reason + " (rule " + e.RuleName + ")" }

// Rule returns the name of the refusing rule; the control server passes it
// to the client.
func (e *RefusedError) Rule() string { return e.RuleName }

// refusal turns a control error with a rule into a *RefusedError.
func refusal(err error) error {
	var ce *control.Error
	if !errors.As(err, &ce) || ce.Rule == "" {
		return err
	}
	return &RefusedError{RuleName: ce.Rule, Reason: strings.TrimSuffix(ce.Message, " (rule "+ce.Rule+")")}
}

// ErrCardNotBack: an office operation changed a card, but the card's
// reader did not power it up again in time (pcscd not running, say). The
// change is kept.
var ErrCardNotBack = errors.New("the card is not back in its reader")

// NotBackError is ErrCardNotBack with the reader and the time waited.
type NotBackError struct{ NotBack }

func (e *NotBackError) Error() string {
	return fmt.Sprintf("card %s was changed, but %q did not power it up again within %s (is pcscd running?); the change is kept",
		e.Card, e.Reader, e.Waited)
}

// Is makes errors.Is(err, ErrCardNotBack) hold.
func (e *NotBackError) Is(target error) bool { return target == ErrCardNotBack }
