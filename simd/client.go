package simd

import (
	"context"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
)

// Client drives a running daemon through its control socket: the typed
// form of the sim.* and office.* methods (docs/daemon.md), for suites and
// tools that work with a daemon in another process. Refusals come back as
// *control.Error whose Rule names the refusing rule (office.Rule*,
// simd.Rule*). A Client is safe for concurrent use.
type Client struct {
	c *control.Client
}

// DialClient connects to the daemon at a control address
// ("unix:/path/control.sock" or "tcp:127.0.0.1:PORT").
func DialClient(addr string) (*Client, error) {
	c, err := control.Dial(addr)
	if err != nil {
		return nil, err
	}
	return &Client{c: c}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Call invokes any method; result may be nil.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	return c.c.Call(ctx, method, params, result)
}

// List returns every card with its slot (sim.list).
func (c *Client) List(ctx context.Context) ([]SlotInfo, error) {
	var out []SlotInfo
	return out, c.c.Call(ctx, "sim.list", nil, &out)
}

// Insert and Remove put cards into their readers or take them out
// (sim.insert, sim.remove).
func (c *Client) Insert(ctx context.Context, sel Selector) ([]SlotInfo, error) {
	var out []SlotInfo
	return out, c.c.Call(ctx, "sim.insert", sel, &out)
}

// Remove takes the selected cards out of their readers (sim.remove).
func (c *Client) Remove(ctx context.Context, sel Selector) ([]SlotInfo, error) {
	var out []SlotInfo
	return out, c.c.Call(ctx, "sim.remove", sel, &out)
}

// Now returns the office's time and whether it is virtual (office.time
// without params).
func (c *Client) Now(ctx context.Context) (office.TimeResult, error) {
	var out office.TimeResult
	return out, c.c.Call(ctx, "office.time", nil, &out)
}

// SetTime sets the daemon's virtual clock (office.time {"set": …}); a
// daemon on the wall clock refuses with rule office.RuleRealClock.
func (c *Client) SetTime(ctx context.Context, t time.Time) (office.TimeResult, error) {
	var out office.TimeResult
	return out, c.c.Call(ctx, "office.time", office.TimeParams{Set: t.Format(time.RFC3339Nano)}, &out)
}

// AdvanceTime moves the virtual clock by calendar years, months and days
// in JST (office.time {"years": …, "months": …, "days": …}).
func (c *Client) AdvanceTime(ctx context.Context, years, months, days int) (office.TimeResult, error) {
	if years == 0 && months == 0 && days == 0 {
		return office.TimeResult{}, fmt.Errorf("advancing time: nothing to advance")
	}
	var out office.TimeResult
	return out, c.c.Call(ctx, "office.time", office.TimeParams{Years: years, Months: months, Days: days}, &out)
}

// Report returns the office's record of a card (office.status).
func (c *Client) Report(ctx context.Context, card string) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.status", office.CardParams{Card: card}, &out)
}

// ResetPIN re-sets a PIN at the office (office.reset-pin).
func (c *Client) ResetPIN(ctx context.Context, card string, kind authority.Kind, pin string) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.reset-pin", office.PINParams{Card: card, Kind: kind, PIN: pin}, &out)
}

// IssueCertificate issues a certificate of a kind with a new PIN
// (office.issue-certificate).
func (c *Client) IssueCertificate(ctx context.Context, card string, kind authority.Kind, pin string) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.issue-certificate", office.PINParams{Card: card, Kind: kind, PIN: pin}, &out)
}

// Renew renews the certificates whose renewal window is open
// (office.renew); empty PINs keep the old ones.
func (c *Client) Renew(ctx context.Context, p office.RenewParams) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.renew", p, &out)
}

// Revoke revokes a certificate at the holder's request (office.revoke).
func (c *Client) Revoke(ctx context.Context, card string, kind authority.Kind) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.revoke", office.CertParams{Card: card, Kind: kind}, &out)
}

// ChangeFacts records new facts of the holder (office.change-facts).
func (c *Client) ChangeFacts(ctx context.Context, p office.FactsParams) (office.Report, error) {
	var out office.Report
	return out, c.c.Call(ctx, "office.change-facts", p, &out)
}

// Endpoints starts (once) and returns the authority's CRL and OCSP
// endpoints (office.endpoints).
func (c *Client) Endpoints(ctx context.Context) (office.Endpoints, error) {
	var out office.Endpoints
	return out, c.c.Call(ctx, "office.endpoints", nil, &out)
}
