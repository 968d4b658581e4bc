package pinbudget_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/pinbudget/fakecard"
)

// card is a fake card with the three PINs a run may be given, the auth
// PIN showing authLeft tries.
func card(authLeft int) *fakecard.Card {
	k := pinbudget.Auth
	return fakecard.New(
		&fakecard.PIN{AID: k.AID, EF: k.EF, Value: "1234", Max: 3, Left: authLeft},
		&fakecard.PIN{AID: pinbudget.Sign.AID, EF: pinbudget.Sign.EF, Value: "SIGN2026", Max: 5, Left: 5},
		&fakecard.PIN{AID: pinbudget.CardInfo.AID, EF: pinbudget.CardInfo.EF, Value: "1234", Max: 3, Left: 3},
	)
}

func given(auth, sign, cardInfo string) []pinbudget.Given {
	return []pinbudget.Given{
		{Key: pinbudget.Auth, PIN: jpkiclient.PIN(auth)},
		{Key: pinbudget.Sign, PIN: jpkiclient.PIN(sign)},
		{Key: pinbudget.CardInfo, PIN: jpkiclient.PIN(cardInfo)},
	}
}

func TestPreflightRightPINs(t *testing.T) {
	c := card(3)
	b := pinbudget.Preflight(c, given("1234", "SIGN2026", "1234")...)
	if p := b.Problems(); len(p) != 0 {
		t.Fatalf("problems with the right PINs: %q", p)
	}
	for _, k := range pinbudget.Keys() {
		if r := b.Result(k); r.State != pinbudget.Accepted {
			t.Errorf("%s: state %v, want accepted", k, r.State)
		}
		if n := c.Verifies(k.EF); n != 1 {
			t.Errorf("%s: %d VERIFYs sent, want one pre-flight VERIFY", k, n)
		}
	}
}

func TestPreflightSkipsPINsNotGiven(t *testing.T) {
	c := card(3)
	b := pinbudget.Preflight(c, given("1234", "", "")...)
	if n := c.Verifies(pinbudget.Sign.EF) + c.Verifies(pinbudget.CardInfo.EF); n != 0 {
		t.Errorf("%d VERIFYs sent for PINs not given", n)
	}
	if p := b.Problems(); len(p) != 0 {
		t.Errorf("PINs not given are problems: %q", p)
	}
}

// A mistyped PIN costs one try, once in the run: neither a second Verify
// nor a VERIFY through the gate reaches the card.
func TestRefusedPINIsNeverSentAgain(t *testing.T) {
	c := card(3)
	b := pinbudget.Preflight(c, given("9999", "SIGN2026", "1234")...)
	r := b.Result(pinbudget.Auth)
	if r.State != pinbudget.Refused || r.Left != 2 {
		t.Fatalf("auth PIN: state %v, %d left; want refused, 2 left", r.State, r.Left)
	}
	const want = "the auth PIN given was refused; 2 of 3 tries left"
	if p := b.Problems(); len(p) != 1 || !strings.HasPrefix(p[0], want+":") {
		t.Errorf("problems = %q, want one starting %q", p, want)
	}
	if strings.Contains(r.Reason(), "9999") {
		t.Errorf("the reason shows the PIN: %s", r.Reason())
	}
	// A later spec sends the PIN under the budget: not sent.
	if err := pinbudget.Select(c, pinbudget.Auth); err != nil {
		t.Fatal(err)
	}
	if err := b.Verify(c, pinbudget.Auth, "9999"); !errors.Is(err, pinbudget.ErrRefused) {
		t.Errorf("second Verify: %v, want ErrRefused", err)
	}
	// A spec that sends VERIFY itself, through the gated transport, in
	// both forms (current EF, short EF id).
	g := b.Gate(c)
	for _, cmd := range [][]byte{
		append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A}, pinbudget.Auth.AID...),
		{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18},
	} {
		if _, err := g.Transmit(cmd); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range [][]byte{
		{0x00, 0x20, 0x00, 0x80, 0x04, '9', '9', '9', '9'},
		{0x00, 0x20, 0x00, 0x98, 0x04, '1', '2', '3', '4'},
	} {
		if _, err := g.Transmit(cmd); !errors.Is(err, pinbudget.ErrRefused) {
			t.Errorf("gated VERIFY % X: %v, want ErrRefused", cmd[:4], err)
		}
	}
	if n := c.Verifies(pinbudget.Auth.EF); n != 1 {
		t.Errorf("the card received %d VERIFYs of the auth PIN, want 1", n)
	}
	if n := c.Left(pinbudget.Auth.EF); n != 2 {
		t.Errorf("the auth PIN shows %d tries, want 2 of 3", n)
	}
	// The other PINs are untouched by the refusal.
	if r := b.Result(pinbudget.Sign); r.State != pinbudget.Accepted {
		t.Errorf("sign PIN: %v, want accepted", r.State)
	}
	// The gate lets the status query and the other PINs through.
	if resp, err := g.Transmit([]byte{0x00, 0x20, 0x00, 0x80}); err != nil || resp[0] != 0x63 {
		t.Errorf("status query through the gate: % X, %v", resp, err)
	}
}

// Only a PIN showing every try is sent: 63C2, 63C1 and 63C0 keep it home
// (issue 23.8 for 63C0).
func TestPINShortOfTriesIsNotSent(t *testing.T) {
	for _, tc := range []struct {
		left  int
		state pinbudget.State
		err   error
		text  string
	}{
		{2, pinbudget.NotFull, pinbudget.ErrNotFull, "the auth PIN was not sent, the card shows 2 of 3 tries left"},
		{1, pinbudget.NotFull, pinbudget.ErrNotFull, "the auth PIN was not sent, the card shows 1 of 3 tries left"},
		{0, pinbudget.Blocked, pinbudget.ErrBlocked, "auth PIN blocked on the card"},
	} {
		c := card(tc.left)
		b := pinbudget.Preflight(c, given("1234", "", "")...)
		r := b.Result(pinbudget.Auth)
		if r.State != tc.state || !errors.Is(r.Error(), tc.err) {
			t.Errorf("63C%d: state %v (%v), want %v", tc.left, r.State, r.Error(), tc.state)
		}
		if !strings.HasPrefix(r.Reason(), tc.text) {
			t.Errorf("63C%d: reason %q, want it to start %q", tc.left, r.Reason(), tc.text)
		}
		if n := c.Verifies(pinbudget.Auth.EF); n != 0 {
			t.Errorf("63C%d: %d VERIFYs sent to a PIN short of tries", tc.left, n)
		}
		if p := b.Problems(); len(p) != 1 {
			t.Errorf("63C%d: problems %q, want one", tc.left, p)
		}
	}
}

// A PIN found short of tries may be sent once the card shows every try
// again (the office re-set it); a refused one never.
func TestReadyAgainAfterFullTries(t *testing.T) {
	c := card(2)
	b := pinbudget.Preflight(c, given("1234", "", "")...)
	c.PINs[0].Left = 3
	if err := pinbudget.Select(c, pinbudget.Auth); err != nil {
		t.Fatal(err)
	}
	if err := b.Ready(c, pinbudget.Auth); err != nil {
		t.Errorf("full again, Ready: %v", err)
	}
	if err := b.Verify(c, pinbudget.Auth, "1234"); err != nil {
		t.Errorf("full again, Verify: %v", err)
	}
}
