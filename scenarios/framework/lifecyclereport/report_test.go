package lifecyclereport

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// story runs one card through the office: issuance, a PIN re-set, a move
// (the signing certificate revoked), a loss (both revoked, keyCompromise),
// then years on the virtual clock.
func story(t *testing.T) (Timeline, profile.Facts) {
	t.Helper()
	clk := clock.NewVirtual(clock.Date(2026, time.April, 1).Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := office.New(clk, is)
	t.Cleanup(func() { _ = o.Close() })
	p := profile.Default()
	c, err := o.IssueCard(p)
	if err != nil {
		t.Fatal(err)
	}
	clk.AddDate(0, 2, 0)
	if err := o.ResetPIN(c.ID, authority.Auth, "4321"); err != nil {
		t.Fatal(err)
	}
	clk.AddDate(1, 0, 0)
	facts := p.Holder
	facts.Address = "大阪府大阪市北区試験町"
	facts.Name = "試験 改名"                                   // the issuance line keeps the former name
	facts.BirthDate = profile.NewDate(1991, time.March, 4) // and the former birth date
	if err := o.ChangeFacts(c.ID, facts); err != nil {
		t.Fatal(err)
	}
	clk.AddDate(1, 0, 0)
	if err := o.ReportLoss(c.ID); err != nil {
		t.Fatal(err)
	}
	clk.AddDate(3, 0, 0)
	lockout := map[string][]Event{c.ID: {{At: clock.Date(2027, time.January, 5), Kind: Lockout, Text: "auth PIN blocked after 3 wrong tries"}}}
	tl, err := FromOffice("a card lost after a move", o, clk.Now(), lockout, false)
	if err != nil {
		t.Fatal(err)
	}
	return tl, p.Holder
}

func TestFromOffice(t *testing.T) {
	tl, holder := story(t)
	if len(tl.Cards) != 1 {
		t.Fatalf("%d cards, want 1", len(tl.Cards))
	}
	c := tl.Cards[0]
	kinds := map[EventKind]int{}
	for _, e := range c.Events {
		kinds[e.Kind]++
		for _, p := range []string{holder.Name, holder.Address, "大阪府大阪市北区試験町", "試験 改名", holder.BirthDate.Time.Format("2006-01-02"), "1991-03-04"} {
			if strings.Contains(e.Text, p) {
				t.Errorf("event %q shows personal data %q", e.Text, p)
			}
		}
	}
	for _, k := range []EventKind{Issuance, Reset, Revocation, Lockout} {
		if kinds[k] == 0 {
			t.Errorf("no %s event in %+v", k, c.Events)
		}
	}
	revoked := 0
	for _, ce := range c.Certificates {
		if !ce.RevokedAt.IsZero() {
			revoked++
		}
	}
	if len(c.Certificates) < 2 || revoked < 2 {
		t.Errorf("certificates %+v, want the auth and sign certificates, both revoked", c.Certificates)
	}
}

// TestRenderInChromium renders the page in headless Chromium and finds the
// certificates and every event in the DOM it built.
func TestRenderInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (make deps installs it): %v", err)
	}
	tl, holder := story(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "lifecycle.html")
	if err := WriteFile(path, Page{Title: "Card lifecycles", Timelines: []Timeline{tl}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--dump-dom", "file://"+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	page := string(dom)
	if !strings.Contains(page, "<svg") || !strings.Contains(page, `class="certificate"`) {
		t.Fatalf("no certificate drawing in the DOM:\n%.2000s", page)
	}
	for _, e := range tl.Cards[0].Events {
		if !strings.Contains(page, `<td>`+string(e.Kind)+`</td>`) || !strings.Contains(page, e.Text) {
			t.Errorf("event %s %q not on the page", e.Kind, e.Text)
		}
		if !strings.Contains(page, `class="event `+string(e.Kind)+`"`) {
			t.Errorf("event kind %s not drawn", e.Kind)
		}
	}
	for _, ce := range tl.Cards[0].Certificates {
		if !strings.Contains(page, ce.Label) {
			t.Errorf("certificate %s not on the page", ce.Label)
		}
		if ce.Reason != "" && !strings.Contains(page, ce.Reason) {
			t.Errorf("revocation reason %s not on the page", ce.Reason)
		}
	}
	if strings.Contains(page, holder.Name) {
		t.Errorf("the holder's name is on the page without Personal")
	}
	if err := os.WriteFile(filepath.Join(dir, "dom.html"), dom, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFromReportsWithoutRecords: an office behind the control socket gives
// reports only; the page still shows each card's certificates and their
// revocations.
func TestFromReportsWithoutRecords(t *testing.T) {
	clk := clock.NewVirtual(clock.Date(2026, time.April, 1).Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o := office.New(clk, is)
	t.Cleanup(func() { _ = o.Close() })
	c, err := o.IssueCard(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	clk.AddDate(1, 0, 0)
	if err := o.ReportLoss(c.ID); err != nil {
		t.Fatal(err)
	}
	r, err := o.Report(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	tl := FromReports("remote", []simapi.Report{r}, nil, clk.Now(), nil, false)
	if len(tl.Cards) != 1 || len(tl.Cards[0].Certificates) != 2 {
		t.Fatalf("cards %+v, want one with its two certificates", tl.Cards)
	}
	for _, ce := range tl.Cards[0].Certificates {
		if ce.RevokedAt.IsZero() || ce.Reason != "keyCompromise" {
			t.Errorf("%s: revoked %v (%s), want keyCompromise", ce.Label, ce.RevokedAt, ce.Reason)
		}
	}
}
