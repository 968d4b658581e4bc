package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/office"
)

// startOffice runs an office behind a real control server on a unix socket,
// as 'mynahil sim' does.
func startOffice(t *testing.T) (addr string, clk *clock.Virtual, o *office.Office) {
	t.Helper()
	// Every command runs under the CLI's deadline; on a machine busy with
	// other work, generating the shared pools' keys lazily inside the
	// commands took longer than that (the test's flake under CPU load).
	for _, p := range []*keypool.Pool{keypool.Shared(), keypool.SharedRoots()} {
		if err := p.Fill(); err != nil {
			t.Fatal(err)
		}
	}
	clk = clock.NewVirtual(clock.Date(2026, time.April, 1).Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	o = office.New(clk, is)
	t.Cleanup(func() { _ = o.Close() })
	dir, err := os.MkdirTemp("", "mynahil-office-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv, err := control.Listen("unix:" + filepath.Join(dir, "control.sock"))
	if err != nil {
		t.Fatal(err)
	}
	simapi.Register(srv, o.API(), noSim{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = srv.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); _ = srv.Close(); <-done })
	return srv.Addr(), clk, o
}

// noSim stands for the daemon's readers, which the office commands never
// call.
type noSim struct{ simapi.Sim }

func officeRun(t *testing.T, addr, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{args[0], "--control", addr}, args[1:]...)
	err := officeMain(full, officeIO{out: &out, errOut: &errOut, in: bufio.NewReader(strings.NewReader(stdin)), inFD: -1})
	return out.String(), err
}

func TestOfficeCommand(t *testing.T) {
	addr, clk, o := startOffice(t)
	must := func(stdin string, args ...string) string {
		t.Helper()
		out, err := officeRun(t, addr, stdin, args...)
		if err != nil {
			t.Fatalf("office %v: %v", args, err)
		}
		return out
	}
	refused := func(rule string, stdin string, args ...string) {
		t.Helper()
		_, err := officeRun(t, addr, stdin, args...)
		if err == nil || !strings.Contains(err.Error(), "rule "+rule) {
			t.Fatalf("office %v: %v, want a refusal naming rule %s", args, err, rule)
		}
	}

	out := must("", "issue-card")
	if !strings.Contains(out, "card card-1 (active)") || !strings.Contains(out, "card auth") {
		t.Fatalf("issue-card printed:\n%s", out)
	}
	if out := must("", "cards"); !strings.Contains(out, "card-1") || !strings.Contains(out, "active") {
		t.Fatalf("cards printed:\n%s", out)
	}

	// Lock the sign PIN through the chip, then unlock it at the office with a PIN from the environment.
	chip := o.Cards()[0].Chip
	chip.Transmit([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01})
	chip.Transmit([]byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x1B})
	for range 5 {
		chip.Transmit([]byte{0x00, 0x20, 0x00, 0x80, 0x06, 'W', 'R', 'O', 'N', 'G', '1'})
	}
	if out := must("", "status", "--card", "card-1"); !strings.Contains(out, "sign 0/5") {
		t.Fatalf("status after locking:\n%s", out)
	}
	t.Setenv("MYNAHIL_SIGN_PIN", "UNLOCK2026")
	out = must("", "reset-pin", "--card", "card-1", "--kind", "sign")
	if !strings.Contains(out, "sign 5/5") || strings.Contains(out, "UNLOCK2026") {
		t.Fatalf("reset-pin printed:\n%s", out)
	}
	os.Unsetenv("MYNAHIL_SIGN_PIN")

	// PIN from standard input when the environment has none.
	out = must("9876\n", "reset-pin", "--card", "card-1", "--kind", "auth")
	if !strings.Contains(out, "auth 3/3") || strings.Contains(out, "9876") {
		t.Fatalf("reset-pin from stdin printed:\n%s", out)
	}
	if _, err := officeRun(t, addr, "", "reset-pin", "--card", "card-1", "--kind", "auth"); err == nil {
		t.Fatal("reset-pin with no PIN anywhere succeeded")
	}
	if _, err := officeRun(t, addr, "", "reset-pin", "--card", "card-1", "--kind", "auth", "1234"); err == nil || strings.Contains(err.Error(), "1234") {
		t.Fatalf("PIN on the command line: %v, want a refusal that does not echo it", err)
	}

	refused(office.RuleOnePerKind, "1234\n", "issue-cert", "--card", "card-1", "--kind", "auth")
	refused(office.RuleRenewalWindow, "", "renew", "--card", "card-1")
	refused(office.RuleUnknownCard, "", "status", "--card", "card-9")
	refused(office.RulePINFormat, "12\n", "reset-pin", "--card", "card-1", "--kind", "auth")

	out = must("", "change-facts", "--card", "card-1", "--address", "大阪府大阪市北区試験町")
	if !strings.Contains(out, "revoked (affiliationChanged") || !strings.Contains(out, "大阪府大阪市北区試験町") {
		t.Fatalf("change-facts printed:\n%s", out)
	}

	// Proxy: file today, answer tomorrow.
	out = must("", "proxy-file", "--card", "card-1", "--operation", "issue-certificate", "--kind", "sign")
	if !strings.Contains(out, "inquiry-1 filed") {
		t.Fatalf("proxy-file printed:\n%s", out)
	}
	refused(office.RuleProxyTwoVisits, "PROXY2026\n", "proxy-answer", "--inquiry", "inquiry-1")
	clk.AddDate(0, 0, 3)
	must("PROXY2026\n", "proxy-answer", "--inquiry", "inquiry-1")
	if out := must("", "status", "--card", "card-1", "--json"); !strings.Contains(out, `"state": "valid"`) {
		t.Fatalf("status --json:\n%s", out)
	}

	// Relying parties get the endpoints; the CRL lists the revoked certificate.
	out = must("", "endpoints")
	var crlURL string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "sign" && f[1] == "CRL" {
			crlURL = f[2]
		}
	}
	if !strings.HasPrefix(crlURL, "http://127.0.0.1:") {
		t.Fatalf("endpoints printed:\n%s", out)
	}
	resp, err := http.Get(crlURL)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].ReasonCode != 3 {
		t.Fatalf("sign CRL entries: %+v", crl.RevokedCertificateEntries)
	}

	dir := t.TempDir()
	must("", "smartphone", "--card", "card-1", "--out", dir)
	if b, err := os.ReadFile(filepath.Join(dir, "smartphone-sign.der")); err != nil {
		t.Fatal(err)
	} else if _, err := x509.ParseCertificate(b); err != nil {
		t.Fatalf("smartphone certificate: %v", err)
	}

	// The virtual clock moves from the command line.
	if out := must("", "time", "--set", "2030-10-02", "--advance", "1m1d"); !strings.Contains(out, "2030-11-03 00:00:00 JST (virtual clock)") {
		t.Fatalf("time printed:\n%s", out)
	}
	if _, err := officeRun(t, addr, "", "time", "--advance", "soon"); err == nil {
		t.Fatal("time --advance soon succeeded")
	}
	// A date that does not parse is a usage error, found before the sim is asked.
	if _, err := officeRun(t, addr, "", "time", "--set", "tomorrow"); cli.Code(err) != cli.ExitUsage {
		t.Fatalf("time --set tomorrow: %v (exit %d), want a usage error", err, cli.Code(err))
	}

	must("", "report-loss", "--card", "card-1")
	refused(office.RuleCardLost, "", "smartphone", "--card", "card-1")

	for _, bad := range [][]string{{"frobnicate"}, {"status"}, {"revoke", "--card", "card-1", "--kind", "both"}, {"change-facts", "--card", "card-1"}} {
		if _, err := officeRun(t, addr, "", bad...); err == nil {
			t.Errorf("office %v succeeded", bad)
		}
	}
}

func TestOfficeCommandWithoutSim(t *testing.T) {
	_, err := officeRun(t, "unix:"+filepath.Join(t.TempDir(), "none.sock"), "", "cards")
	if err == nil || !strings.Contains(err.Error(), "no 'mynahil sim' answers") || cli.Code(err) != cli.ExitEnv {
		t.Fatalf("no sim: %v (exit %d), want exit %d naming the place looked in", err, cli.Code(err), cli.ExitEnv)
	}
}

func TestParseSpan(t *testing.T) {
	for _, tt := range []struct {
		in      string
		y, m, d int
		ok      bool
	}{
		{"90d", 0, 0, 90, true},
		{"3m", 0, 3, 0, true},
		{"1y2m3d", 1, 2, 3, true},
		{"10y", 10, 0, 0, true},
		{"", 0, 0, 0, false},
		{"2d1y", 0, 0, 0, false},
		{"-1d", 0, 0, 0, false},
		{"1w", 0, 0, 0, false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			y, m, d, err := parseSpan(tt.in)
			if (err == nil) != tt.ok || y != tt.y || m != tt.m || d != tt.d {
				t.Fatalf("parseSpan(%q) = %d %d %d, %v", tt.in, y, m, d, err)
			}
		})
	}
}
