package office_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// counter is a stand-in for the daemon's readers: it logs what the office
// asks of it, and whether the chip had already changed (against before)
// when the card left and when it came back.
type counter struct {
	t      *testing.T
	o      *office.Office
	chip   *card.Card
	before []byte
	log    []string
}

func (c *counter) changed() string {
	now, err := c.chip.Marshal()
	if err != nil {
		c.t.Fatal(err)
	}
	if bytes.Equal(now, c.before) {
		return "unchanged"
	}
	return "changed"
}

func (c *counter) Hold(id string) func() {
	c.log = append(c.log, "hold "+id)
	return func() { c.log = append(c.log, "release "+id) }
}

func (c *counter) TakeOut(id string) bool {
	c.log = append(c.log, "out "+id+" "+c.changed())
	return true
}

func (c *counter) PutBack(id string) *simapi.NotBack {
	// The put-back waits for the reader: the office's lock must be free
	// meanwhile, so that sim.list and office.status answer.
	done := make(chan struct{})
	go func() { _, _ = c.o.Report(id); close(done) }()
	select {
	case <-done:
		c.log = append(c.log, "back "+id+" "+c.changed())
	case <-time.After(5 * time.Second):
		c.log = append(c.log, "back "+id+" under the office's lock")
	}
	return nil
}

func (c *counter) Added(card *office.Card) { c.log = append(c.log, "added "+card.ID) }

// TestEveryChipChangeIsAVisit: every operation that changes the chip holds
// the card, takes it out of its reader before the first change (the chip
// still unchanged), puts it back after the last change with the office's
// lock released, then releases it; operations that leave the chip alone,
// and refusals, never take it out (issue 23: change-facts once wrote the
// chip with the card in its reader).
func TestEveryChipChangeIsAVisit(t *testing.T) {
	visit := "hold card-1, out card-1 unchanged, back card-1 changed, release card-1"
	stay := "hold card-1, release card-1"
	for _, tt := range []struct {
		name    string
		profile func(*profile.Profile)
		before  func(o *office.Office, clk *clock.Virtual, id string)
		op      func(o *office.Office, id string) error
		want    string
	}{
		{"reset-pin", nil, nil, func(o *office.Office, id string) error { return o.ResetPIN(id, authority.Auth, "4321") }, visit},
		{"issue-cert", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "LATER2026") }, visit},
		{"change-facts", nil, nil, func(o *office.Office, id string) error {
			f := profile.Default().Holder
			f.Address = "大阪府大阪市北区試験町"
			return o.ChangeFacts(id, f)
		}, visit},
		{"revoke", nil, nil, func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Auth) }, visit},
		{"death", nil, nil, (*office.Office).RecordDeath, visit},
		{"move-abroad", nil, nil, (*office.Office).MoveAbroad, visit},
		{"invalidate", nil, nil, (*office.Office).InvalidateCard, visit},
		{"renew", nil, func(_ *office.Office, clk *clock.Virtual, _ string) { clk.Set(clock.Date(2030, time.November, 15)) },
			func(o *office.Office, id string) error { return o.Renew(id, office.RenewPINs{}) }, visit},
		{"proxy-answer", nil, func(o *office.Office, clk *clock.Virtual, id string) {
			if _, err := o.FileProxy(id, simapi.ProxyResetPIN, authority.Auth); err != nil {
				t.Fatal(err)
			}
			clk.AddDate(0, 0, 1)
		}, func(o *office.Office, _ string) error { return o.AnswerInquiry("inquiry-1", "4321") }, visit},
		{"reset-cardinfo-pin", nil, nil, func(o *office.Office, id string) error { return o.ResetCardInfoPIN(id, "4321") }, visit},
		{"report-loss (the office does not hold a lost card)", nil, nil, (*office.Office).ReportLoss, stay},
		{"card-found (status only)", nil, func(o *office.Office, _ *clock.Virtual, id string) {
			if err := o.ReportLoss(id); err != nil {
				t.Fatal(err)
			}
		}, (*office.Office).CardFound, stay},
		{"card-found refused: not lost", nil, nil, (*office.Office).CardFound, stay},
		{"reset-cardinfo-pin refused for its format", nil, nil, func(o *office.Office, id string) error { return o.ResetCardInfoPIN(id, "12345") }, stay},
		{"smartphone", nil, nil, func(o *office.Office, id string) error { _, err := o.IssueSmartphone(id); return err }, stay},
		{"proxy-file", nil, nil, func(o *office.Office, id string) error {
			_, err := o.FileProxy(id, simapi.ProxyIssueCertificate, authority.Sign)
			return err
		}, stay},
		{"reset-pin refused for its format", nil, nil, func(o *office.Office, id string) error { return o.ResetPIN(id, authority.Auth, "12") }, stay},
		{"revoke refused: no certificate", func(p *profile.Profile) { p.DeclineAuth = true }, nil,
			func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Auth) }, stay},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, clk := newOffice(t)
			c := issueCard(t, o, tt.profile)
			if tt.before != nil {
				tt.before(o, clk, c.ID)
			}
			before, err := c.Chip.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			ctr := &counter{t: t, o: o, chip: c.Chip, before: before}
			o.SetReaders(ctr)
			err = tt.op(o, c.ID)
			if got := strings.Join(ctr.log, ", "); got != tt.want {
				t.Errorf("%s (err %v): the readers saw %q, want %q", tt.name, err, got, tt.want)
			}
			if refused := strings.Contains(tt.name, "refused"); refused != (err != nil) {
				t.Errorf("%s: err %v", tt.name, err)
			}
		})
	}
}

// TestOneVisitPerOperation: renewing both certificates changes the chip
// twice but takes the card out once; the card comes back with both.
func TestOneVisitPerOperation(t *testing.T) {
	o, clk := newOffice(t)
	c := issueCard(t, o, nil)
	before, _ := c.Chip.Marshal()
	ctr := &counter{t: t, o: o, chip: c.Chip, before: before}
	o.SetReaders(ctr)
	clk.Set(clock.Date(2030, time.November, 15)) // both certificates expire on 2031-01-02
	if err := o.Renew(c.ID, office.RenewPINs{}); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(ctr.log, ", "), "hold card-1, out card-1 unchanged, back card-1 changed, release card-1"; got != want {
		t.Errorf("renewal of both certificates: %q, want %q", got, want)
	}
	rep, _ := o.Report(c.ID)
	for _, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
		if cr := rep.Certificate(k, simapi.OnCard); cr.State != "valid" || !cr.OnChip || !cr.NotAfter.After(clock.Date(2031, time.January, 3)) {
			t.Errorf("%s after renewal: %+v", k, cr)
		}
	}
}

// TestCardNotBack: a card the reader did not take back is an error that
// keeps the change.
func TestCardNotBack(t *testing.T) {
	o, _ := newOffice(t)
	c := issueCard(t, o, nil)
	o.SetReaders(notBack{})
	err := o.ResetPIN(c.ID, authority.Auth, "4321")
	if !errors.Is(err, simapi.ErrCardNotBack) {
		t.Fatalf("reset-pin with the card not back: %v, want simapi.ErrCardNotBack", err)
	}
	if rep, _ := o.Report(c.ID); !strings.Contains(fmt.Sprint(rep.History), "auth PIN re-set") {
		t.Fatalf("the change was not kept: history %v", rep.History)
	}
}

type notBack struct{}

func (notBack) Hold(string) func()  { return func() {} }
func (notBack) TakeOut(string) bool { return true }
func (notBack) Added(*office.Card)  {}
func (notBack) PutBack(id string) *simapi.NotBack {
	return &simapi.NotBack{Card: id, Reader: "Virtual PCD 00 00", Waited: "5s"}
}
