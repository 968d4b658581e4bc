package simcard_test

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/profile"
)

const selISD = "00A4040C07 A0000001510000"

// The MF level (docs/card.md §3.6; myna-card mf.rs): the ISD select
// returns there from an applet, MF objects answer only there (5F51 aside),
// and objects longer than a short Le refuse it with 6700 so that a client
// retries with an extended Le.
func TestMFLevel(t *testing.T) {
	c := issue(t, profile.Default()).Card
	sizes := map[string]int{"00F8": 563, "7F21": 563, "00F7": 16, "0042": 16, "0045": 15, "00F0": 5, "00F2": 8, "5F51": 8}
	for tag, n := range sizes {
		c.Reset()
		if n > 256 {
			expectSW(t, c, "00CA"+tag+"00", 0x6700)
			if got := expectSW(t, c, "00CA"+tag+"000000", 0x9000); len(got) != n {
				t.Errorf("GET DATA %s extended: %d bytes, want %d", tag, len(got), n)
			}
			continue
		}
		if got := expectSW(t, c, "00CA"+tag+"00", 0x9000); len(got) != n {
			t.Errorf("GET DATA %s: %d bytes, want %d", tag, len(got), n)
		}
	}
	// 00F8 and 7F21 are 5F4E + 5F37 without the 7F21 template, as myna-card's fixtures store them.
	for _, tag := range []string{"00F8", "7F21"} {
		got := expectSW(t, c, "00CA"+tag+"000000", 0x9000)
		if !bytes.HasPrefix(got, h("5F4E820129")) || !bytes.Equal(got[302:307], h("5F37820100")) {
			t.Errorf("GET DATA %s: % X…", tag, got[:8])
		}
	}
	if got := expectSW(t, c, "00CA006600", 0x9000); got[0] != 0x66 || got[2] != 0x73 {
		t.Errorf("GET DATA 0066: % X", got)
	}
	// With an applet selected, only 5F51 answers.
	expectSW(t, c, selJPKI, 0x9000)
	for _, tag := range []string{"00F0", "00F2", "00F7", "0042", "0045", "0066"} {
		expectSW(t, c, "00CA"+tag+"00", 0x6A88)
	}
	expectSW(t, c, "00CA00F8000000", 0x6A88)
	expectSW(t, c, "00CA5F5100", 0x9000)
	// The ISD select answers 9000 and returns to the MF: objects answer
	// again, JPKI files are gone, verified PINs are cleared.
	expectSW(t, c, selAuthPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
	expectSW(t, c, selISD, 0x9000)
	expectSW(t, c, "00CA00F000", 0x9000)
	expectSW(t, c, "00A4020C02 000A", 0x6A82)
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C02 0017", 0x9000)
	expectSW(t, c, "802A00800401020304 00", 0x6982)
	// A prefix of the ISD is not the ISD.
	c.Reset()
	expectSW(t, c, "00A4040C06 A00000015100", 0x6A82)
}

// Commands real clients send (docs/card.md §4.6): 80 A2, secure
// messaging CLA, 80 AE, and the EFs EF scans find.
func TestCommandsRealClientsSend(t *testing.T) {
	c := issue(t, profile.Default()).Card
	body := func(n int) string { return strings.Repeat("00", n) }
	for _, tt := range []struct {
		name string
		cmd  string
		want uint16
	}{
		{"80 A2 00 C1, 256 bytes (jsapdu randr test)", "80A200C1 000100" + body(256) + "0000", 0x6700},
		{"80 A2 00 C1, 307 bytes that do not verify", "80A200C1 000133" + body(307), 0x6A80},
		{"80 A2 00 00", "80A20000 000133" + body(307), 0x6A86},
		{"80 A2 00 AE", "80A200AE 02 0000", 0x6A86},
		{"80 A2 80 00", "80A28000 02 0000", 0x6A86},
		{"80 A2 00 B6", "80A200B6 02 0000", 0x6A86},
		{"SM READ BINARY", "08B0000000", 0x69FC},
		{"SM READ BINARY, CLA 0C", "0CB0000000", 0x69FC},
		{"SM VERIFY", "08200080 04 31323334", 0x69FC},
		{"SM SELECT", "08A4020C02000A", 0x6882},
		{"SET SESSION KEY in JPKI", "80AE0000 10" + body(16), 0x6982},
		{"iPhone last command on the plastic card", "80FC0000", 0x6700},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.Reset()
			expectSW(t, c, selJPKI, 0x9000)
			expectSW(t, c, tt.cmd, tt.want)
		})
	}
	// Verifying both PINs does not open secure messaging in JPKI (myna-card ap/jpki.rs).
	c.Reset()
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, selAuthPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("SIGN2026"), 0x9000)
	expectSW(t, c, "80AE0000 10"+body(16), 0x6982)

	// EFs found by EF scans exist, with their access answers.
	scans := []struct {
		aid  string
		efs  []string
		want map[string]uint16
	}{
		{"D392F000260100000001", []string{"0005", "0009", "0010", "0016", "0019", "001C", "001E"}, map[string]uint16{"0009": 0x6982}},
		{"D3921000310001010408", []string{"0010", "001C", "001E"}, nil},
		{"D3921000310001010402", []string{"001C", "001E"}, nil},
	}
	for _, s := range scans {
		c.Reset()
		expectSW(t, c, "00A4040C0A"+s.aid, 0x9000)
		for _, ef := range s.efs {
			expectSW(t, c, "00A4020C02"+ef, 0x9000)
			want := uint16(0x6981)
			if w, ok := s.want[ef]; ok {
				want = w
			}
			expectSW(t, c, "00B0000000", want)
		}
	}
	// Still 6982 with both PINs verified: nothing a client holds opens 0009.
	c.Reset()
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("SIGN2026"), 0x9000)
	expectSW(t, c, "00A4020C020009", 0x9000)
	expectSW(t, c, "00B0000000", 0x6982)
}

// Token variants (docs/card.md §1.3): the label in EF 0006, the
// auth certificate behind the auth PIN on phone tokens, 80 FC on the iPhone.
func TestTokenVariants(t *testing.T) {
	for _, tt := range []struct {
		token, label string
		authNeedsPIN bool
		lastCommand  uint16
	}{
		{"", "JPKIAPICCTOKEN2", false, 0x6700},
		{profile.TokenCard, "JPKIAPICCTOKEN2", false, 0x6700},
		{profile.TokenAndroid, "JPKIAPGPSETOKEN", true, 0x6700},
		{profile.TokenIPhone, "JPKIAPIOSTOKEN", true, 0x9000},
		{profile.TokenJuki, "JPKIAPICCTOKEN", false, 0x6700},
	} {
		t.Run(tt.label+"/"+tt.token, func(t *testing.T) {
			p := profile.Default()
			p.Token = tt.token
			c := issue(t, p).Card
			expectSW(t, c, selJPKI, 0x9000)
			expectSW(t, c, "00A4020C020006", 0x9000)
			tok := expectSW(t, c, "00B0000000", 0x9000)
			if want := tt.label + strings.Repeat(" ", 32-len(tt.label)); len(tok) != 160 || string(tok[:32]) != want {
				t.Fatalf("label %q, want %q", tok[:32], want)
			}
			expectSW(t, c, "00A4020C02000A", 0x9000)
			if tt.authNeedsPIN {
				expectSW(t, c, "00B0000004", 0x6982)
				expectSW(t, c, selAuthPIN, 0x9000)
				expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
				expectSW(t, c, "00A4020C02000A", 0x9000)
			}
			expectSW(t, c, "00B0000004", 0x9000)
			expectSW(t, c, "80FC0000", tt.lastCommand)
		})
	}
	p := profile.Default()
	p.Token = "feature-phone"
	if _, err := issuer.Issue(p); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("unknown token accepted: %v", err)
	}
}

// Built-in ATR choices: presented as the ATR, and in 5F51 without TS.
func TestBuiltinATRs(t *testing.T) {
	want := map[string]string{
		"contact":                                "3BE000FF8131FE4514",
		"contact-02":                             "3BDA13FF8131FB468012392F31C173C601C03B",
		"contact-03":                             "3BC5FF8131FB458073C6010000",
		"contactless":                            "3B888001000005E0B381A1007F",
		"3B 88 80 01 00 4B 51 FF B3 81 D1 00 0F": "3B888001004B51FFB381D1000F",
	}
	if len(profile.ATRNames()) != 4 {
		t.Fatalf("ATR names %v", profile.ATRNames())
	}
	for name, atr := range want {
		p := profile.Default()
		p.ATR = name
		c := issue(t, p).Card
		if !bytes.Equal(c.ATR(), h(atr)) {
			t.Errorf("%s: ATR % X", name, c.ATR())
		}
		want5F51 := h(atr)[1:]
		if strings.HasPrefix(atr, "3B888001") {
			want5F51 = h("E000FF8131FE4514") // the chip's contact ATR, not the reader's pseudo-ATR
		}
		if got := expectSW(t, c, "00CA5F5100", 0x9000); !bytes.Equal(got, want5F51) {
			t.Errorf("%s: 5F51 % X", name, got)
		}
	}
	for _, bad := range []string{"contact-99", "3B", "FF00", "zz"} {
		p := profile.Default()
		p.ATR = bad
		if _, err := issuer.Issue(p); err == nil {
			t.Errorf("ATR %q accepted", bad)
		}
	}
}

// Certificates shaped like the real ones (docs/card.md §6):
// within 10% of the real sizes, with the real profile's extensions, and
// still unmistakably from the test authority.
func TestCertificateShape(t *testing.T) {
	iss := issue(t, profile.Default())
	for _, k := range []struct {
		name string
		cert *x509.Certificate
		real int
	}{{"auth", iss.AuthCert, 1571}, {"sign", iss.SignCert, 1742}} {
		n := len(k.cert.Raw)
		if n*10 < k.real*9 || n*10 > k.real*11 {
			t.Errorf("%s certificate %d bytes, want within 10%% of %d", k.name, n, k.real)
		}
		exts := map[string]bool{}
		for _, e := range k.cert.Extensions {
			exts[e.Id.String()] = e.Critical
		}
		for _, oid := range []string{"2.5.29.15", "2.5.29.32", "2.5.29.31", "2.5.29.18", "2.5.29.35", "2.5.29.14"} {
			if _, ok := exts[oid]; !ok {
				t.Errorf("%s certificate lacks extension %s", k.name, oid)
			}
		}
		if !exts["2.5.29.15"] || !exts["2.5.29.32"] {
			t.Errorf("%s: keyUsage and certificatePolicies must be critical", k.name)
		}
		if _, ok := exts["2.5.29.17"]; ok != (k.name == "sign") {
			t.Errorf("%s: subjectAltName present = %v", k.name, ok)
		}
		if !bytes.Equal(k.cert.AuthorityKeyId, iss.Authority().CA(kindOf(k.name)).Cert.SubjectKeyId) {
			t.Errorf("%s: authorityKeyIdentifier is not the root's SKI", k.name)
		}
		if !bytes.Contains(k.cert.Raw, []byte("TEST CERTIFICATE")) || !strings.Contains(k.cert.Issuer.String(), "JPKI-TEST") {
			t.Errorf("%s certificate does not say it is a test certificate", k.name)
		}
		for _, p := range k.cert.PolicyIdentifiers {
			if p.Equal(asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 1, 1, 20}) {
				t.Errorf("%s carries the production signing policy", k.name)
			}
		}
	}
	if got := len(sanOtherNames(t, iss.SignCert)); got != 6 {
		t.Errorf("sign SAN has %d otherNames, want 6", got)
	}
}

var _ = cardinfo.DOChainUpper

func kindOf(name string) authority.Kind {
	if name == "sign" {
		return authority.Sign
	}
	return authority.Auth
}
