package framework

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
)

// Environment of a suite run against a simulator daemon that is already
// running (docs/suites.md, "Against a running daemon").
const (
	// EnvControl is the daemon's control address, unix:/path or
	// tcp:127.0.0.1:PORT; set, vpcd and pcsc worlds use that daemon instead
	// of starting one.
	EnvControl = "MYNAHIL_CONTROL"
	// EnvControlToken is the TCP control token; without it the token is
	// read from $MYNAHIL_STATE's control.token.
	EnvControlToken = "MYNAHIL_CONTROL_TOKEN"
	// EnvState is the daemon's state directory (for its token).
	EnvState = "MYNAHIL_STATE"
)

// dialExisting connects to the daemon $MYNAHIL_CONTROL names, with the
// token from $MYNAHIL_CONTROL_TOKEN or $MYNAHIL_STATE.
func dialExisting(addr string) (*simapi.Client, error) {
	var opts []control.DialOption
	if tok := os.Getenv(EnvControlToken); tok != "" {
		opts = append(opts, control.WithToken(tok))
	} else if dir := os.Getenv(EnvState); dir != "" {
		opts = append(opts, control.WithStateToken(dir))
	}
	c, err := simapi.Dial(addr, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to the simulator daemon at %s=%s: %w", EnvControl, addr, err)
	}
	return c, nil
}

// attachExisting gives a world its card from the running daemon: it sets
// the daemon's virtual clock to the world's time, issues the card, puts it
// in the world's slot (taking out the card that was there) and, on vpcd,
// listens as that slot's reader. The daemon is never stopped; the card
// leaves the reader when the world ends.
func (d *daemon) attachExisting(addr string, p profile.Profile, now time.Time) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := dialExisting(addr)
	if err != nil {
		return "", err
	}
	d.ctl = c
	d.cl.add(c.Close)
	tr, err := c.SetTime(ctx, now)
	var re *simapi.RefusedError
	if (err == nil && !tr.Virtual) || (errors.As(err, &re) && re.RuleName == office.RuleRealClock) {
		return "", fmt.Errorf("the simulator daemon at %s runs on the wall clock; the suites move its clock: start it on a new state directory with 'mynahil sim --clock virtual:2026-04-01'", addr)
	}
	if err != nil {
		return "", fmt.Errorf("setting the daemon's clock: %w", err)
	}
	prof, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	issued, err := c.IssueCard(ctx, simapi.IssueParams{Profile: prof})
	if err != nil {
		return "", fmt.Errorf("issuing the world's card: %w", err)
	}
	if d.kind == target.VPCD {
		// The Go reader stands where vpcd would: the daemon's vpcd port
		// for slot 0 plus the world's slot.
		st, err := c.Status(ctx)
		if err != nil {
			return "", err
		}
		host, port, err := net.SplitHostPort(st.VPCD)
		if err != nil {
			return "", fmt.Errorf("the daemon's vpcd address %q: %w", st.VPCD, err)
		}
		p0, _ := strconv.Atoi(port)
		if d.reader, err = vpcd.Listen(net.JoinHostPort(host, strconv.Itoa(p0+d.slot)), vpcd.WithLogger(vpcdslot.QuietLogger())); err != nil {
			return "", fmt.Errorf("listening as the daemon's vpcd slot %d (is a vpcd already there?): %w", d.slot, err)
		}
		d.cl.add(d.reader.Close)
		d.cl.add(poll(d.reader))
	}
	slot := d.slot
	if _, err := c.Place(ctx, simapi.Placement{Card: issued.ID, Slot: &slot}); err != nil {
		return "", fmt.Errorf("placing the world's card in slot %d: %w", d.slot, err)
	}
	d.existingCard = issued.ID
	d.cl.add(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		_, err := c.Remove(ctx, simapi.Selector{Card: issued.ID})
		return err
	})
	return issued.ID, nil
}

// parseCardInfoCA decodes a PEM public key from office.endpoints.
func parseCardInfoCA(s string) (*rsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil {
		return nil, errors.New("office.endpoints gives no card-info CA key: the daemon is too old")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing a card-info CA key: %w", err)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("card-info CA key is %T, want RSA", k)
	}
	return rk, nil
}
