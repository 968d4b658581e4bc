package office_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

var issueDay = clock.Date(2026, time.April, 1)

func newOffice(t testing.TB) (*office.Office, *clock.Virtual) {
	t.Helper()
	c := clock.NewVirtual(issueDay.Add(10 * time.Hour))
	is, err := simcard.NewIssuer(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	return office.New(c, is), c
}

func issueCard(t testing.TB, o *office.Office, edit func(*profile.Profile)) *office.Card {
	t.Helper()
	p := profile.Default()
	if edit != nil {
		edit(&p)
	}
	c, err := o.IssueCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rule(err error) string {
	var r *office.RefusedError
	if errors.As(err, &r) {
		return r.Rule()
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func child(p *profile.Profile) { p.Holder.BirthDate = profile.NewDate(2015, time.June, 1) }

// TestRefusals is the rule matrix of the office: every case must be refused
// by exactly the named rule.
func TestRefusals(t *testing.T) {
	for _, tt := range []struct {
		name    string
		profile func(*profile.Profile)
		before  func(t *testing.T, o *office.Office, c *office.Card, clk *clock.Virtual)
		op      func(o *office.Office, id string) error
		want    string
	}{
		{"unknown card", nil, nil,
			func(o *office.Office, _ string) error { return o.ReportLoss("card-99") }, office.RuleUnknownCard},
		{"unknown kind", nil, nil,
			func(o *office.Office, id string) error { return o.ResetPIN(id, "both", "1234") }, office.RuleUnknownKind},
		{"second auth certificate", nil, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Auth, "4321") }, office.RuleOnePerKind},
		{"second sign certificate", nil, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "NEWPIN1") }, office.RuleOnePerKind},
		{"sign certificate at 10", child, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "ABC123") }, office.RuleSignMinAge},
		{"sign certificate the day before turning 15", child,
			func(t *testing.T, _ *office.Office, _ *office.Card, clk *clock.Virtual) {
				clk.Set(clock.Date(2030, time.May, 31).Add(12 * time.Hour))
			},
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "ABC123") }, office.RuleSignMinAge},
		{"sign certificate under guardianship", func(p *profile.Profile) { p.UnderGuardianship = true }, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "ABC123") }, office.RuleGuardianship},
		{"auth PIN with a letter", func(p *profile.Profile) { p.DeclineAuth = true }, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Auth, "12A4") }, office.RulePINFormat},
		{"sign PIN lower case", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Sign, "abc123") }, office.RulePINFormat},
		{"sign PIN of 17", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error {
				return o.IssueCertificate(id, authority.Sign, "ABCDEFGHIJ1234567")
			}, office.RulePINFormat},
		{"reset the PIN of a declined certificate", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error { return o.ResetPIN(id, authority.Sign, "ABC123") }, office.RuleNoCertificate},
		{"change of facts that changes nothing", nil, nil,
			func(o *office.Office, id string) error { return o.ChangeFacts(id, profile.Default().Holder) }, office.RuleFactsUnchanged},
		{"change to an empty address", nil, nil,
			func(o *office.Office, id string) error {
				f := profile.Default().Holder
				f.Address = " "
				return o.ChangeFacts(id, f)
			}, office.RuleBadFacts},
		{"renewal a day before the window", nil,
			func(t *testing.T, _ *office.Office, _ *office.Card, clk *clock.Virtual) {
				// Expiry 2031-01-02 (5th birthday after 2026-04-01): window opens 2030-10-02.
				clk.Set(clock.Date(2030, time.October, 1).Add(23 * time.Hour))
			},
			func(o *office.Office, id string) error { return o.Renew(id, office.RenewPINs{}) }, office.RuleRenewalWindow},
		{"renewal after expiry", nil,
			func(t *testing.T, _ *office.Office, _ *office.Card, clk *clock.Virtual) {
				clk.Set(clock.Date(2031, time.January, 3))
			},
			func(o *office.Office, id string) error { return o.Renew(id, office.RenewPINs{}) }, office.RuleRenewalExpired},
		{"renewal of a minor's card", func(p *profile.Profile) { p.Holder.BirthDate = profile.NewDate(2010, time.May, 5) },
			func(t *testing.T, _ *office.Office, _ *office.Card, clk *clock.Virtual) {
				// Aged 15 at issuance: card and certificates both end 2030-05-05.
				clk.Set(clock.Date(2030, time.March, 1))
			},
			func(o *office.Office, id string) error { return o.Renew(id, office.RenewPINs{}) }, office.RuleRenewalCard},
		{"smartphone without a signing certificate", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error { _, err := o.IssueSmartphone(id); return err }, office.RuleSmartphoneSign},
		{"second smartphone", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if _, err := o.IssueSmartphone(c.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, id string) error { _, err := o.IssueSmartphone(id); return err }, office.RuleOnePerKind},
		{"anything after a loss report", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if err := o.ReportLoss(c.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, id string) error { return o.ResetPIN(id, authority.Auth, "1234") }, office.RuleCardLost},
		{"anything after death", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if err := o.RecordDeath(c.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, id string) error { return o.RecordDeath(id) }, office.RuleCardDeceased},
		{"anything after moving abroad", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if err := o.MoveAbroad(c.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Auth, "1234") }, office.RuleCardAbroad},
		{"anything after invalidation", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if err := o.InvalidateCard(c.ID); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, id string) error { _, err := o.IssueSmartphone(id); return err }, office.RuleCardInvalidated},
		{"anything after the card expired", nil,
			func(t *testing.T, _ *office.Office, _ *office.Card, clk *clock.Virtual) {
				clk.Set(clock.Date(2036, time.January, 3)) // card: 10th birthday after issuance, 2036-01-02
			},
			func(o *office.Office, id string) error { return o.IssueCertificate(id, authority.Auth, "1234") }, office.RuleCardExpired},
		{"proxy answer on the filing day", nil,
			func(t *testing.T, o *office.Office, c *office.Card, _ *clock.Virtual) {
				if _, err := o.FileProxy(c.ID, simapi.ProxyResetPIN, authority.Auth); err != nil {
					t.Fatal(err)
				}
			},
			func(o *office.Office, _ string) error { return o.AnswerInquiry("inquiry-1", "9876") }, office.RuleProxyTwoVisits},
		{"proxy answer to no inquiry", nil, nil,
			func(o *office.Office, _ string) error { return o.AnswerInquiry("inquiry-7", "9876") }, office.RuleUnknownInquiry},
		{"proxy for a change of facts", nil, nil,
			func(o *office.Office, id string) error {
				_, err := o.FileProxy(id, "change-facts", authority.Sign)
				return err
			}, office.RuleProxyOperation},
		{"revoke a declined certificate", func(p *profile.Profile) { p.DeclineSign = true }, nil,
			func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Sign) }, office.RuleNoCertificate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, clk := newOffice(t)
			c := issueCard(t, o, tt.profile)
			if tt.before != nil {
				tt.before(t, o, c, clk)
			}
			if got := rule(tt.op(o, c.ID)); got != tt.want {
				t.Fatalf("refused by %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIssueCardRefusals(t *testing.T) {
	o, _ := newOffice(t)
	p := profile.Default()
	p.IssueDate = profile.NewDate(2026, time.April, 2)
	if got := rule(func() error { _, err := o.IssueCard(p); return err }()); got != office.RuleIssueDate {
		t.Fatalf("future issue date refused by %q", got)
	}
	p = profile.Default()
	p.PINs.Auth = "12345"
	_, err := o.IssueCard(p)
	if got := rule(err); got != office.RuleBadProfile {
		t.Fatalf("bad profile refused by %q", got)
	}
	if bytes.Contains([]byte(err.Error()), []byte("12345")) {
		t.Fatalf("error quotes the PIN: %v", err)
	}
	if n := len(o.Cards()); n != 0 {
		t.Fatalf("%d cards registered after refusals", n)
	}
}

func presence(t testing.TB, c *office.Card) []byte {
	t.Helper()
	var b []byte
	c.Chip.Inspect(func(st *card.State) { b = append(b, st.DF(jpki.AID).File(jpki.EFPresence).Data...) })
	return b
}

// TestRevocationTriggers walks each trigger and checks the authority's
// records, the chip's EF 0008 and the card's status.
func TestRevocationTriggers(t *testing.T) {
	moved := profile.Default().Holder
	moved.Address = "大阪府大阪市北区試験町二丁目"
	for _, tt := range []struct {
		name       string
		op         func(o *office.Office, id string) error
		authReason string // "" : stays valid
		signReason string
		presence   []byte
		status     office.Status
	}{
		{"change of address", func(o *office.Office, id string) error { return o.ChangeFacts(id, moved) },
			"", "affiliationChanged", []byte{0x00, 0x8F, 0x00}, office.Active},
		// Given up at the counter: revoked, its PIN blocked, the
		// certificate still on the chip (docs/card.md §6.1).
		{"holder gives up signing", func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Sign) },
			"", "cessationOfOperation", []byte{0x8F, 0x8F, 0x00}, office.Active},
		{"holder gives up auth", func(o *office.Office, id string) error { return o.RevokeCertificate(id, authority.Auth) },
			"cessationOfOperation", "", []byte{0x8F, 0x8F, 0x00}, office.Active},
		{"loss", func(o *office.Office, id string) error { return o.ReportLoss(id) },
			"keyCompromise", "keyCompromise", []byte{0x8F, 0x8F, 0x00}, office.Lost},
		{"death", func(o *office.Office, id string) error { return o.RecordDeath(id) },
			"cessationOfOperation", "cessationOfOperation", []byte{0x00, 0x00, 0x00}, office.Deceased},
		{"moving abroad", func(o *office.Office, id string) error { return o.MoveAbroad(id) },
			"cessationOfOperation", "cessationOfOperation", []byte{0x00, 0x00, 0x00}, office.Abroad},
		{"card invalidated", func(o *office.Office, id string) error { return o.InvalidateCard(id) },
			"cessationOfOperation", "cessationOfOperation", []byte{0x00, 0x00, 0x00}, office.Invalidated},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, clk := newOffice(t)
			c := issueCard(t, o, nil)
			if _, err := o.IssueSmartphone(c.ID); err != nil {
				t.Fatal(err)
			}
			clk.AddDate(1, 0, 0)
			if err := tt.op(o, c.ID); err != nil {
				t.Fatal(err)
			}
			rep, err := o.Report(c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, dev := range []simapi.Device{simapi.OnCard, simapi.OnSmartphone} {
				for k, want := range map[simapi.Kind]string{simapi.Auth: tt.authReason, simapi.Sign: tt.signReason} {
					cr := rep.Certificate(k, dev)
					wantState := "valid"
					if want != "" {
						wantState = "revoked"
					}
					if cr.State != wantState || cr.Reason != want {
						t.Errorf("%s %s certificate: %s (%s), want %s (%s)", dev, k, cr.State, cr.Reason, wantState, want)
					}
					if want != "" && !cr.RevokedAt.Equal(clk.Now()) {
						t.Errorf("%s %s revoked at %v, want %v", dev, k, cr.RevokedAt, clk.Now())
					}
				}
			}
			if got := presence(t, c); !bytes.Equal(got, tt.presence) {
				t.Errorf("EF 0008 = % X, want % X", got, tt.presence)
			}
			if rep.Status != string(tt.status) {
				t.Errorf("status %s, want %s", rep.Status, tt.status)
			}
		})
	}
}

func TestChangeOfFactsThenNewSigningCertificate(t *testing.T) {
	clk := clock.NewVirtual(issueDay.Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := office.New(clk, is)
	c := issueCard(t, o, nil)
	before, _ := o.Report(c.ID)

	clk.AddDate(0, 6, 0)
	f := profile.Default().Holder
	f.Name = "別姓　花子"
	f.FormerSurname = "試験"
	if err := o.ChangeFacts(c.ID, f); err != nil {
		t.Fatal(err)
	}
	textDF := func() []byte {
		var all []byte
		c.Chip.Inspect(func(st *card.State) {
			for _, file := range st.DF(cardinfo.TextAID).Files {
				all = append(all, file.Data...)
				for _, r := range file.Records {
					all = append(all, r...)
				}
			}
		})
		return all
	}
	if !bytes.Contains(textDF(), []byte("別姓")) {
		t.Error("card-info applet does not carry the new name")
	}
	if err := o.IssueCertificate(c.ID, authority.Sign, "NEWNAME9"); err != nil {
		t.Fatal(err)
	}
	after, _ := o.Report(c.ID)
	oldSign, newSign := before.Certificate(simapi.Sign, simapi.OnCard), after.Certificate(simapi.Sign, simapi.OnCard)
	if newSign.State != "valid" || !newSign.OnChip || newSign.Serial == oldSign.Serial {
		t.Fatalf("new signing certificate: %+v", newSign)
	}
	oldCert, err := authority.Record{DER: oldSign.DER}.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	newCert, err := authority.Record{DER: newSign.DER}.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(oldCert.RawSubjectPublicKeyInfo, newCert.RawSubjectPublicKeyInfo) {
		t.Error("new signing certificate reuses the old key")
	}
	if !bytes.Contains(newCert.Raw, []byte("別姓　花子（試験）")) {
		t.Error("new signing certificate does not carry the new name with the former surname")
	}
	if got := presence(t, c); !bytes.Equal(got, []byte{0x8F, 0x8F, 0x00}) {
		t.Errorf("EF 0008 = % X after the new certificate", got)
	}
	if after.SignTriesLeft != jpki.SignPINTries {
		t.Errorf("sign PIN tries %d, want %d", after.SignTriesLeft, jpki.SignPINTries)
	}
	if a, b := before.Certificate(simapi.Auth, simapi.OnCard), after.Certificate(simapi.Auth, simapi.OnCard); a.Serial != b.Serial || b.State != "valid" {
		t.Errorf("auth certificate changed: %+v → %+v", a.Serial, b)
	}
}

func TestRenewal(t *testing.T) {
	o, clk := newOffice(t)
	c := issueCard(t, o, nil)
	if _, err := o.IssueSmartphone(c.ID); err != nil {
		t.Fatal(err)
	}
	before, _ := o.Report(c.ID)
	clk.Set(clock.Date(2030, time.October, 2).Add(9 * time.Hour)) // window opens
	if err := o.Renew(c.ID, office.RenewPINs{Sign: "RENEW2030"}); err != nil {
		t.Fatal(err)
	}
	after, _ := o.Report(c.ID)
	for _, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
		old, _ := o.Authority().Lookup(before.Certificate(k, simapi.OnCard).Serial)
		if old.State(clk.Now()) != "revoked" || old.Reason != authority.Superseded {
			t.Errorf("old %s certificate: %s (%s), want revoked (superseded)", k, old.State(clk.Now()), old.Reason)
		}
		cur := after.Certificate(k, simapi.OnCard)
		if cur.State != "valid" || !cur.OnChip || cur.Serial == old.Serial {
			t.Errorf("renewed %s certificate: %+v", k, cur)
		}
		// Issued 2030-10-02, the holder's 5th birthday after is 2035-01-02.
		if want := clock.Date(2035, time.January, 2).Add(24*time.Hour - time.Second); !cur.NotAfter.Equal(want) {
			t.Errorf("renewed %s certificate valid to %v, want %v", k, cur.NotAfter, want)
		}
		phone := after.Certificate(k, simapi.OnSmartphone)
		if phone.State != "revoked" || phone.Serial != before.Certificate(k, simapi.OnSmartphone).Serial {
			t.Errorf("smartphone %s certificate after renewal: %s #%d, want the old one revoked", k, phone.State, phone.Serial)
		}
	}
	if err := o.Renew(c.ID, office.RenewPINs{}); rule(err) != office.RuleRenewalWindow {
		t.Fatalf("second renewal: %v, want renewal-window", err)
	}
}

func TestProxyApplication(t *testing.T) {
	o, clk := newOffice(t)
	c := issueCard(t, o, func(p *profile.Profile) { p.DeclineSign = true })
	q, err := o.FileProxy(c.ID, simapi.ProxyIssueCertificate, authority.Sign)
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := o.Report(c.ID); rep.Certificate(simapi.Sign, simapi.OnCard).State != "none" {
		t.Fatal("filing a proxy application issued the certificate at once")
	}
	clk.AddDate(0, 0, 7)
	if err := o.AnswerInquiry(q.ID, "bad"); rule(err) != office.RulePINFormat {
		t.Fatalf("answer with a bad PIN: %v", err)
	}
	if err := o.AnswerInquiry(q.ID, "PROXY77"); err != nil {
		t.Fatal(err)
	}
	if rep, _ := o.Report(c.ID); rep.Certificate(simapi.Sign, simapi.OnCard).State != "valid" {
		t.Fatal("the answered inquiry issued no certificate")
	}
	if err := o.AnswerInquiry(q.ID, "PROXY77"); rule(err) != office.RuleUnknownInquiry {
		t.Fatalf("second answer: %v", err)
	}
	if n := len(o.Inquiries()); n != 0 {
		t.Fatalf("%d inquiries left open", n)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewVirtual(issueDay.Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := office.Open(dir, clk, is)
	if err != nil {
		t.Fatal(err)
	}
	c := issueCard(t, o, nil)
	// A wrong auth PIN through the chip, persisted by the chip itself.
	c.Chip.Transmit([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01})
	c.Chip.Transmit([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x18})
	if r := c.Chip.Transmit([]byte{0x00, 0x20, 0x00, 0x80, 0x04, '9', '9', '9', '9'}); !bytes.Equal(r, []byte{0x63, 0xC2}) {
		t.Fatalf("wrong PIN answered % X", r)
	}
	clk.AddDate(0, 2, 0)
	moved := profile.Default().Holder
	moved.Address = "北海道札幌市中央区試験町"
	if err := o.ChangeFacts(c.ID, moved); err != nil {
		t.Fatal(err)
	}
	if _, err := o.FileProxy(c.ID, simapi.ProxyIssueCertificate, authority.Sign); err != nil {
		t.Fatal(err)
	}
	want, _ := o.Report(c.ID)
	crlBefore, _ := o.Authority().CRL(authority.Sign)

	is2, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := office.Open(dir, clk, is2)
	if err != nil {
		t.Fatal(err)
	}
	cards := o2.Cards()
	if len(cards) != 1 || cards[0].ID != c.ID {
		t.Fatalf("reloaded cards %v", cards)
	}
	got, err := o2.Report(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("report after reload (-before +after):\n%s", d)
	}
	if got.AuthTriesLeft != 2 {
		t.Fatalf("auth tries after reload %d, want 2", got.AuthTriesLeft)
	}
	if !bytes.Equal(o2.Authority().SignCA.Cert.Raw, o.Authority().SignCA.Cert.Raw) {
		t.Fatal("reloaded office has another root")
	}
	if len(o2.Inquiries()) != 1 {
		t.Fatal("open inquiry lost on reload")
	}
	crlAfter, err := o2.Authority().CRL(authority.Sign)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := x509ParseCRL(crlBefore)
	b, _ := x509ParseCRL(crlAfter)
	if len(b.RevokedCertificateEntries) != 1 || b.Number.Cmp(a.Number) <= 0 {
		t.Fatalf("CRL after reload: %d entries, number %v (before %v)", len(b.RevokedCertificateEntries), b.Number, a.Number)
	}
	// The reloaded office keeps working and persisting.
	clk.AddDate(0, 0, 1)
	if err := o2.AnswerInquiry("inquiry-1", "MOVED2026"); err != nil {
		t.Fatal(err)
	}
	if p := presence(t, o2.Cards()[0]); !bytes.Equal(p, []byte{0x8F, 0x8F, 0x00}) {
		t.Fatalf("EF 0008 after re-issue on the reloaded office: % X", p)
	}

	if _, err := office.Open(t.TempDir()+"/x\x00", clk, is2); err == nil {
		t.Fatal("Open accepted a path with NUL")
	}
}

func TestOpenRejectsDamagedState(t *testing.T) {
	clk := clock.NewVirtual(issueDay)
	for name, files := range map[string]map[string]string{
		"registry not JSON":          {"office.json": "{"},
		"registry of version 9":      {"office.json": `{"version":9}`},
		"registry without authority": {"office.json": `{"version":1,"next_id":0,"next_inquiry":0,"cards":[]}`},
		"card ID with a path":        {"office.json": `{"version":1,"next_id":1,"next_inquiry":0,"cards":[{"id":"../x"}]}`, "authority.json": ""},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			is, err := simcard.NewIssuer(clk, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := files["authority.json"]; ok {
				// A real authority, so that only the card record is wrong.
				b, err := is.Authority.Marshal()
				if err != nil {
					t.Fatal(err)
				}
				files["authority.json"] = string(b)
			}
			for f, content := range files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := office.Open(dir, clk, is); err == nil {
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestNewIssuanceAfterExpiry(t *testing.T) {
	o, clk := newOffice(t)
	c := issueCard(t, o, nil)
	clk.Set(clock.Date(2031, time.January, 3).Add(9 * time.Hour)) // certificates ended 2031-01-02; the card runs to 2036
	if err := o.Renew(c.ID, office.RenewPINs{}); rule(err) != office.RuleRenewalExpired {
		t.Fatalf("renewal after expiry: %v", err)
	}
	if err := o.IssueCertificate(c.ID, authority.Auth, "5555"); err != nil {
		t.Fatalf("new auth certificate after expiry: %v", err)
	}
	rep, _ := o.Report(c.ID)
	auth := rep.Certificate(simapi.Auth, simapi.OnCard)
	if auth.State != "valid" || !auth.NotAfter.Equal(clock.Date(2036, time.January, 2).Add(24*time.Hour-time.Second)) {
		t.Fatalf("new auth certificate: %s to %v", auth.State, auth.NotAfter)
	}
	if sign := rep.Certificate(simapi.Sign, simapi.OnCard); sign.State != "expired" || !sign.OnChip {
		t.Fatalf("old signing certificate: %s, on chip %v; want expired and still on the chip", sign.State, sign.OnChip)
	}
}

// TestAPI: the office as the control API serves it (the daemon registers
// exactly this): params become the operations, refusals keep their rules
// and never quote a PIN.
func TestAPI(t *testing.T) {
	o, _ := newOffice(t)
	api := o.API()
	ctx := context.Background()
	if _, err := api.IssueCard(ctx, simapi.IssueParams{Profile: json.RawMessage(`{"holder":{"name":"制御　太郎","address":"東京都港区試験町","birth_date":"1980-05-05","sex":"male"}}`)}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		call func() error
		rule string
	}{
		{"status of an unknown card", func() error { _, err := api.Report(ctx, simapi.CardParams{Card: "card-9"}); return err }, office.RuleUnknownCard},
		{"reset-pin with a 2-digit PIN", func() error {
			_, err := api.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Auth, PIN: "12"})
			return err
		}, office.RulePINFormat},
		{"reset-pin of an unknown kind", func() error {
			_, err := api.ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: "both", PIN: "1234"})
			return err
		}, office.RuleUnknownKind},
		{"change-facts to a robot", func() error {
			sex := "robot"
			_, err := api.ChangeFacts(ctx, simapi.FactsParams{Card: "card-1", Sex: &sex})
			return err
		}, office.RuleBadFacts},
		{"change-facts to a date that is none", func() error {
			d := "1980-13-01"
			_, err := api.ChangeFacts(ctx, simapi.FactsParams{Card: "card-1", BirthDate: &d})
			return err
		}, office.RuleBadFacts},
		{"issue-card with a PIN of 1", func() error {
			_, err := api.IssueCard(ctx, simapi.IssueParams{Profile: json.RawMessage(`{"pins":{"auth":"1"}}`)})
			return err
		}, office.RuleBadProfile},
		{"proxy-answer of no inquiry", func() error {
			_, err := api.ProxyAnswer(ctx, simapi.AnswerParams{Inquiry: "inquiry-3", PIN: "1234"})
			return err
		}, office.RuleUnknownInquiry},
		{"time on the virtual clock, a date that is none", func() error {
			_, err := api.Time(ctx, simapi.TimeParams{Set: "tomorrow"})
			return err
		}, office.RuleBadTime},
	} {
		err := tt.call()
		if rule(err) != tt.rule {
			t.Errorf("%s: %v, want rule %s", tt.name, err, tt.rule)
		}
		if err != nil && (strings.Contains(err.Error(), `"1"`) || strings.Contains(err.Error(), "1234")) {
			t.Errorf("%s: error quotes a PIN: %v", tt.name, err)
		}
	}
	former := "旧姓"
	rep, err := api.ChangeFacts(ctx, simapi.FactsParams{Card: "card-1", FormerSurname: &former})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Certificate(simapi.Sign, simapi.OnCard).Reason != "affiliationChanged" || rep.Holder.Name != "制御　太郎" || rep.Holder.FormerSurname != former {
		t.Fatalf("after change-facts: %+v, holder %+v", rep.Certificate(simapi.Sign, simapi.OnCard), rep.Holder)
	}
	cards, err := api.Cards(ctx)
	if err != nil || len(cards) != 1 || cards[0].Name != "制御　太郎" || cards[0].Status != string(office.Active) {
		t.Fatalf("cards: %+v, %v", cards, err)
	}
}

func TestTimeOnlyMovesAVirtualClock(t *testing.T) {
	is, err := simcard.NewIssuer(clock.Real{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := office.New(clock.Real{}, is)
	if now, err := o.MoveClock(simapi.TimeParams{}); err != nil || now.Virtual {
		t.Fatalf("reading the wall clock: %+v, %v", now, err)
	}
	if _, err = o.MoveClock(simapi.TimeParams{Days: 1}); rule(err) != office.RuleRealClock {
		t.Fatalf("moving the wall clock: %v", err)
	}
}

// TestRenewalNeverReusesAKey: with a pool of two keys every draw repeats
// one the card already had; renewal must still bring new keys.
func TestRenewalNeverReusesAKey(t *testing.T) {
	clk := clock.NewVirtual(issueDay.Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, keypool.NewPool(2))
	if err != nil {
		t.Fatal(err)
	}
	o := office.New(clk, is)
	c := issueCard(t, o, nil)
	clk.Set(clock.Date(2030, time.October, 2).Add(9 * time.Hour))
	if err := o.Renew(c.ID, office.RenewPINs{}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int64{}
	for _, r := range o.Records(c.ID) {
		cert, err := r.Certificate()
		if err != nil {
			t.Fatal(err)
		}
		spki := string(cert.RawSubjectPublicKeyInfo)
		if prev, dup := seen[spki]; dup {
			t.Fatalf("certificates #%d and #%d share a key", prev, r.Serial)
		}
		seen[spki] = r.Serial
	}
	if len(seen) != 4 {
		t.Fatalf("%d keys across the card's certificates, want 4", len(seen))
	}
}

// TestCardInfoKeysSurviveReopen: records re-signed after a restart (a change
// of facts) must verify against the EF 0004 certificates already on the cards,
// so the card-info CA and issuer keys live in the state directory too.
func TestCardInfoKeysSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewVirtual(issueDay)
	is1, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := office.Open(dir, clk, is1); err != nil {
		t.Fatal(err)
	}
	is2, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := is2.Extra[0].(*cardinfo.Applets).Issuer()
	if before.Equal(is1.Extra[0].(*cardinfo.Applets).Issuer()) {
		t.Fatal("test set-up: both issuers drew the same card-info issuer key")
	}
	if _, err := office.Open(dir, clk, is2); err != nil {
		t.Fatal(err)
	}
	if got := is2.Extra[0].(*cardinfo.Applets).Issuer(); !got.Equal(is1.Extra[0].(*cardinfo.Applets).Issuer()) {
		t.Fatal("the reopened office signs card-info records with a key the cards do not name")
	}
}
