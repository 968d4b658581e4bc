package simcard_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/apdu"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

var issuer = func() *simcard.Issuer {
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		panic(err)
	}
	return is
}()

func issue(t testing.TB, p profile.Profile, opts ...card.Option) *simcard.Issued {
	t.Helper()
	iss, err := issuer.Issue(p, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return iss
}

func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// run sends a command given as hex and returns data and SW.
func run(c *card.Card, cmd string) ([]byte, uint16) {
	r := c.Transmit(h(cmd))
	return r[:len(r)-2], uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
}

func expectSW(t *testing.T, c *card.Card, cmd string, want uint16) []byte {
	t.Helper()
	data, sw := run(c, cmd)
	if sw != want {
		t.Fatalf("%s → %04X, want %04X", cmd, sw, want)
	}
	return data
}

const (
	selJPKI    = "00A4040C0A D392F000260100000001"
	selAuthPIN = "00A4020C02 0018"
	selSignPIN = "00A4020C02 001B"
)

func pinHex(s string) string { return fmt.Sprintf("%02X%X", len(s), s) }

func TestStatusWordsOfBadCommands(t *testing.T) {
	c := issue(t, profile.Default()).Card
	for _, tt := range []struct {
		name string
		cmd  string
		want uint16
	}{
		{"truncated header", "00A404", 0x6700},
		{"Lc disagrees with data", "00A4040C05D392F0", 0x6700},
		{"unknown CLA", "A0A4040C0AD392F000260100000001", 0x6E00},
		{"unknown INS", "00EE000000", 0x6D00},
		{"unknown proprietary INS", "80EE0000", 0x6D00},
		{"bad SELECT P1", "00A4090C020001", 0x6A86},
		{"bad SELECT P2", "00A4040401D3", 0x6A86},
		{"secure messaging", "0CA4040C0AD392F000260100000001", 0x6882},
		{"logical channel 1", "01A4040C0AD392F000260100000001", 0x6881},
		{"PIV probe", "00A4040009A00000030800001000", 0x6A82},
		{"OpenPGP probe", "00A4040006D2760001240100", 0x6A82},
		{"setcos GET DATA probe", "00CADF3005", 0x6A88},
		{"select MF right after reset", "00A40000", 0x6A86},
		{"select 3F00 by FID", "00A4000C023F00", 0x6A82},
		{"READ BINARY with no current EF", "00B0000000", 0x6986},
		{"GET CHALLENGE extended", "0084000000 0008", 0x6985},
		{"iPhone token last command", "80FC0000", 0x6700},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c.Reset()
			expectSW(t, c, tt.cmd, tt.want)
		})
	}
}

func TestSelectAndRead(t *testing.T) {
	iss := issue(t, profile.Default())
	c := iss.Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A404000AD392F00026010000000100", 0x9000) // P2=00 with Le: 9000, no FCI
	if data := expectSW(t, c, "00A4040C0AD392F000260100000001", 0x9000); len(data) != 0 {
		t.Fatalf("SELECT P2=0C returned data % X", data)
	}
	expectSW(t, c, "00A4020C02 0099", 0x6A82)
	expectSW(t, c, "00A4040C 05 D392F00026", 0x9000) // partial DF name

	// Token info: 160 bytes, label space-padded.
	expectSW(t, c, "00A4020C02 0006", 0x9000)
	tok := expectSW(t, c, "00B0000000", 0x9000)
	if len(tok) != 160 || string(tok[:32]) != "JPKIAPICCTOKEN2                 " {
		t.Fatalf("token info %d bytes, label %q", len(tok), tok[:32])
	}
	expectSW(t, c, "00A4020C02 0008", 0x9000)
	if got := expectSW(t, c, "00B0000000", 0x9000); !bytes.Equal(got, h("8F8F00")) {
		t.Fatalf("EF 0008 = % X", got)
	}

	// The auth certificate, read the way OpenSC does: 4-byte probe, then 256-byte chunks.
	expectSW(t, c, "00A4020C02 000A", 0x9000)
	head := expectSW(t, c, "00B0000004", 0x9000)
	if head[0] != 0x30 || head[1] != 0x82 {
		t.Fatalf("certificate header % X", head)
	}
	size := int(head[2])<<8 | int(head[3]) + 4
	var der []byte
	for off := 0; off < size; {
		n := min(256, size-off)
		le := byte(n)
		chunk := expectSW(t, c, fmt.Sprintf("00B0%04X%02X", off, le), 0x9000)
		der = append(der, chunk...)
		off += len(chunk)
	}
	if !bytes.Equal(der, iss.AuthCert.Raw) {
		t.Fatal("auth certificate read back differs")
	}
	// Past the end: 6B00; at the end minus one: 1 byte.
	expectSW(t, c, fmt.Sprintf("00B0%04X00", size), 0x6B00)
	if got := expectSW(t, c, fmt.Sprintf("00B0%04X00", size-1), 0x9000); len(got) != 1 {
		t.Fatalf("last byte: got %d bytes", len(got))
	}
	// Extended Le 0000 reads the whole file in one response (jsapdu).
	if got := expectSW(t, c, "00B00000000000", 0x9000); !bytes.Equal(got, iss.AuthCert.Raw) {
		t.Fatalf("extended read: %d bytes", len(got))
	}
	// Short EF identifier form: P1 = 80|SFI, P2 = 8-bit offset.
	if got := expectSW(t, c, "00B08B0004", 0x9000); !bytes.Equal(got, iss.Authority().AuthCA.Cert.Raw[:4]) {
		t.Fatalf("SFI read of 000B: % X", got)
	}
	// Keys and PINs are never readable.
	for _, fid := range []string{"0017", "001A", "0018", "001B"} {
		expectSW(t, c, "00A4020C02"+fid, 0x9000)
		expectSW(t, c, "00B0000000", 0x6981)
	}
	// Case 1 READ BINARY has no Le: wrong length.
	expectSW(t, c, "00A4020C02000A", 0x9000)
	expectSW(t, c, "00B00000", 0x6700)
}

func TestSignCertificateNeedsSignPIN(t *testing.T) {
	iss := issue(t, profile.Default())
	c := iss.Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C02 0001", 0x9000)
	expectSW(t, c, "00B0000004", 0x6982)
	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("SIGN2026"), 0x9000)
	expectSW(t, c, "00A4020C02 0001", 0x9000)
	if got := expectSW(t, c, "00B00000000000", 0x9000); !bytes.Equal(got, iss.SignCert.Raw) {
		t.Fatal("sign certificate differs")
	}
}

func TestVerifyCounters(t *testing.T) {
	for _, pin := range []struct {
		name, sel, right string
		max              int
	}{
		{"auth", selAuthPIN, "1234", 3},
		{"sign", selSignPIN, "SIGN2026", 5},
	} {
		t.Run(pin.name, func(t *testing.T) {
			c := issue(t, profile.Default()).Card
			expectSW(t, c, selJPKI, 0x9000)
			expectSW(t, c, pin.sel, 0x9000)
			status := func() uint16 { _, sw := run(c, "00200080"); return sw }
			if got := status(); got != 0x63C0|uint16(pin.max) {
				t.Fatalf("initial status %04X", got)
			}
			expectSW(t, c, "0020008000", 0x63C0|uint16(pin.max)) // the 5-byte status form (jpki-rs)
			expectSW(t, c, "00200080"+pinHex("9999XX"), 0x63C0|uint16(pin.max-1))
			expectSW(t, c, "00200080"+pinHex(pin.right), 0x9000) // right PIN restores the maximum
			if got := status(); got != 0x63C0|uint16(pin.max) {
				t.Fatalf("status after right PIN %04X", got)
			}
			for left := pin.max - 1; left >= 0; left-- {
				expectSW(t, c, "00200080"+pinHex("0000000"), 0x63C0|uint16(left))
			}
			expectSW(t, c, "00200080", 0x63C0)
			expectSW(t, c, "00200080"+pinHex(pin.right), 0x6984) // blocked, even the right PIN
			expectSW(t, c, "00200080"+pinHex("0000000"), 0x6984)
			expectSW(t, c, "00200080", 0x63C0)
		})
	}
}

func TestVerifyBySFIAndBadP2(t *testing.T) {
	c := issue(t, profile.Default()).Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00200098", 0x63C3)                // P2 = 80|18: auth PIN without SELECT
	expectSW(t, c, "0020009B", 0x63C5)                // sign PIN
	expectSW(t, c, "00200080", 0x6A88)                // current EF is no PIN
	expectSW(t, c, "00200000", 0x6A86)                // P2 without the 80 bit
	expectSW(t, c, "00200098"+pinHex("1234"), 0x9000) // verify by SFI
	expectSW(t, c, "00A4020C020017", 0x9000)          // key EF
	expectSW(t, c, "802A00800401020304 00", 0x9000)   // the auth key is usable
	expectSW(t, c, "00210080", 0x6D00)                // VERIFY odd INS is unknown
	expectSW(t, c, "00A4020C02001A", 0x9000)          // sign key
	expectSW(t, c, "802A00800401020304 00", 0x6982)   // needs the sign PIN
	expectSW(t, c, "802A00800401020304 01", 0x6700)   // Le 1 is too short for 256 bytes
	expectSW(t, c, "00A4020C020017", 0x9000)
	expectSW(t, c, "802A0080"+"F6"+strings.Repeat("00", 246)+"00", 0x6700) // over k−11 = 245 bytes
	expectSW(t, c, "802A0080"+"F5"+strings.Repeat("00", 245)+"00", 0x9000)
}

func TestSecurityStatusKeptByReselectClearedByOtherSelectAndReset(t *testing.T) {
	c := issue(t, profile.Default()).Card
	login := func() {
		expectSW(t, c, selJPKI, 0x9000)
		expectSW(t, c, selAuthPIN, 0x9000)
		expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
		expectSW(t, c, "00A4020C020017", 0x9000)
	}
	login()
	expectSW(t, c, "802A0080020102 00", 0x9000)
	expectSW(t, c, selJPKI, 0x9000)                           // re-selecting the current AP keeps the status
	expectSW(t, c, "802A0080020102 00", 0x6A88)               // but no EF is current after it
	expectSW(t, c, "00A4020C020017", 0x9000)                  //
	expectSW(t, c, "802A0080020102 00", 0x9000)               // docs/card.md §5.1
	expectSW(t, c, "00A4040C0A D3921000310001010408", 0x9000) // another applet clears it
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C020017", 0x9000)
	expectSW(t, c, "802A0080020102 00", 0x6982)
	login()
	expectSW(t, c, "00A4040C07 A0000001510000", 0x9000) // so does the issuer security domain
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C020017", 0x9000)
	expectSW(t, c, "802A0080020102 00", 0x6982)
	login()
	c.Reset()
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C020017", 0x9000)
	expectSW(t, c, "802A0080020102 00", 0x6982)
	login()
	c.PowerOff()
	c.PowerOn()
	expectSW(t, c, "802A0080020102 00", 0x6A88) // no DF, no current EF
}

func TestChangePIN(t *testing.T) {
	c := issue(t, profile.Default()).Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, selAuthPIN, 0x9000)
	expectSW(t, c, "00240180"+pinHex("4321"), 0x6982) // not verified
	expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
	for _, bad := range []string{"123", "12345", "12A4"} {
		expectSW(t, c, "00240180"+pinHex(bad), 0x6A80)
	}
	expectSW(t, c, "00240080"+pinHex("4321"), 0x6A86) // P1 00 (old+new) unsupported
	expectSW(t, c, "00240180"+pinHex("4321"), 0x9000)
	expectSW(t, c, "00200080"+pinHex("1234"), 0x63C2)
	expectSW(t, c, "00200080"+pinHex("4321"), 0x9000)

	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("SIGN2026"), 0x9000)
	for _, bad := range []string{"ABC12", "abcdef", strings.Repeat("A", 17), "ABC-123"} {
		expectSW(t, c, "00240180"+pinHex(bad), 0x6A80)
	}
	expectSW(t, c, "00240180"+pinHex("NEWSIGN16CHARS00"), 0x9000)
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("NEWSIGN16CHARS00"), 0x9000)
}

func TestSignatures(t *testing.T) {
	iss := issue(t, profile.Default())
	c := iss.Card
	digest := sha256.Sum256([]byte("document"))
	digestInfo := append(h("3031300d060960864801650304020105000420"), digest[:]...)
	for _, k := range []struct {
		name, pinSel, pin, key string
		cert                   *x509.Certificate
	}{
		{"auth", selAuthPIN, "1234", "0017", iss.AuthCert},
		{"sign", selSignPIN, "SIGN2026", "001A", iss.SignCert},
	} {
		t.Run(k.name, func(t *testing.T) {
			expectSW(t, c, selJPKI, 0x9000)
			expectSW(t, c, "00A4020C02"+k.key, 0x9000)
			expectSW(t, c, fmt.Sprintf("802A0080%02X%X00", len(digestInfo), digestInfo), 0x6982)
			expectSW(t, c, k.pinSel, 0x9000)
			expectSW(t, c, "00200080"+pinHex(k.pin), 0x9000)
			expectSW(t, c, "00A4020C02"+k.key, 0x9000)
			sig := expectSW(t, c, fmt.Sprintf("802A0080%02X%X00", len(digestInfo), digestInfo), 0x9000)
			if len(sig) != 256 {
				t.Fatalf("signature of %d bytes", len(sig))
			}
			if err := rsa.VerifyPKCS1v15(k.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("signature does not verify with the certificate: %v", err)
			}
			// P1=03: the card hashes and wraps.
			sig = expectSW(t, c, fmt.Sprintf("802A0380%02X%X00", len("document"), "document"), 0x9000)
			if err := rsa.VerifyPKCS1v15(k.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
				t.Fatalf("P1=03 signature: %v", err)
			}
			expectSW(t, c, "802A09800101 00", 0x6A86)
		})
	}
}

func TestHolderUnder15(t *testing.T) {
	p := profile.Default()
	p.Holder.BirthDate = profile.NewDate(2011, time.June, 15)
	p.IssueDate = profile.NewDate(2026, time.April, 1) // aged 14
	iss := issue(t, p)
	if iss.SignCert != nil {
		t.Fatal("a 14-year-old got a signing certificate")
	}
	c := iss.Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, "00A4020C020008", 0x9000)
	if got := expectSW(t, c, "00B0000000", 0x9000); !bytes.Equal(got, h("008F00")) {
		t.Fatalf("EF 0008 = % X", got)
	}
	expectSW(t, c, "00A4020C020001", 0x6A82)
	expectSW(t, c, "00A4020C02001A", 0x6A82)
	expectSW(t, c, selSignPIN, 0x9000)
	expectSW(t, c, "00200080", 0x63C0) // OpenSC's bind still gets a 63Cx
	expectSW(t, c, "00200080"+pinHex("SIGN2026"), 0x6984)
}

func TestPersistenceAndAntiTearing(t *testing.T) {
	var saved []byte
	c := issue(t, profile.Default(), card.WithPersister(func(b []byte) error { saved = b; return nil })).Card
	expectSW(t, c, selJPKI, 0x9000)
	expectSW(t, c, selAuthPIN, 0x9000)
	expectSW(t, c, "00200080"+pinHex("0000"), 0x63C2)
	if saved == nil {
		t.Fatal("a spent try was not persisted")
	}
	if bytes.Contains(saved, []byte("1234")) || bytes.Contains(saved, []byte("SIGN2026")) {
		t.Fatal("state holds a PIN in clear")
	}
	re, err := card.Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	expectSW(t, re, selJPKI, 0x9000)
	expectSW(t, re, selAuthPIN, 0x9000)
	expectSW(t, re, "00200080", 0x63C2)
	expectSW(t, re, "00200080"+pinHex("1234"), 0x9000)
	expectSW(t, re, "00A4020C020017", 0x9000)
	expectSW(t, re, "802A0080020102 00", 0x9000)

	// When the decrement cannot be stored, nothing is compared and no try is lost.
	failing := true
	c2 := issue(t, profile.Default(), card.WithPersister(func([]byte) error {
		if failing {
			return errors.New("disk full")
		}
		return nil
	})).Card
	expectSW(t, c2, selJPKI, 0x9000)
	expectSW(t, c2, selAuthPIN, 0x9000)
	expectSW(t, c2, "00200080"+pinHex("1234"), 0x6581)
	expectSW(t, c2, "00200080", 0x63C3)
	failing = false
	expectSW(t, c2, "00200080"+pinHex("1234"), 0x9000)
	if _, err := card.Load([]byte(`{"version":99}`)); err == nil {
		t.Fatal("unknown state version accepted")
	}
}

func TestCertificateProfile(t *testing.T) {
	iss := issue(t, profile.Default())
	a := iss.Authority()
	for _, k := range []struct {
		cert *x509.Certificate
		ca   *x509.Certificate
	}{{iss.AuthCert, a.AuthCA.Cert}, {iss.SignCert, a.SignCA.Cert}} {
		if err := k.cert.CheckSignatureFrom(k.ca); err != nil {
			t.Fatalf("%s not signed by %s: %v", k.cert.Subject, k.ca.Subject, err)
		}
		if k.cert.SignatureAlgorithm != x509.SHA256WithRSA || k.cert.PublicKey.(*rsa.PublicKey).N.BitLen() != 2048 {
			t.Fatal("not RSA-2048 sha256WithRSA")
		}
		if !strings.Contains(k.ca.Subject.String(), "JPKI-TEST") || !strings.Contains(k.ca.Subject.String(), "mynahil") {
			t.Fatalf("root not named as a test authority: %s", k.ca.Subject)
		}
		if len(k.cert.UnhandledCriticalExtensions) != 0 {
			t.Fatalf("unhandled critical extensions %v", k.cert.UnhandledCriticalExtensions)
		}
		roots := x509.NewCertPool()
		roots.AddCert(k.ca)
		if _, err := k.cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: clock.Date(2027, 1, 1), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Fatalf("chain does not verify: %v", err)
		}
	}
	if iss.AuthCert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("auth keyUsage %v", iss.AuthCert.KeyUsage)
	}
	if iss.SignCert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("sign keyUsage %v", iss.SignCert.KeyUsage)
	}
	// Validity: to the end of the 5th birthday after 2026-04-01 for a holder born 2 January.
	if want := time.Date(2031, 1, 2, 23, 59, 59, 0, clock.JST); !iss.SignCert.NotAfter.Equal(want) {
		t.Errorf("NotAfter %v, want %v", iss.SignCert.NotAfter, want)
	}
	// The four facts are in the sign certificate's SAN, nowhere in the auth certificate.
	facts := sanOtherNames(t, iss.SignCert)
	want := map[string]string{".1": "試験　花子", ".3": "2", ".4": "419900102", ".5": "東京都千代田区試験町一丁目２番３号"}
	for k, v := range want {
		if facts[k] != v {
			t.Errorf("SAN %s = %q, want %q", k, facts[k], v)
		}
	}
	if bytes.Contains(iss.AuthCert.Raw, []byte("花子")) || len(sanOtherNames(t, iss.AuthCert)) != 0 {
		t.Error("auth certificate carries personal data")
	}
	if got := iss.SignCert.PolicyIdentifiers; len(got) != 1 || !got[0].Equal(authority.OIDSignPolicy) {
		t.Errorf("sign policy %v", got)
	}
}

// sanOtherNames decodes subjectAltName otherNames as ".N" → UTF8String.
func sanOtherNames(t *testing.T, cert *x509.Certificate) map[string]string {
	out := map[string]string{}
	for _, e := range cert.Extensions {
		if !e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 17}) {
			continue
		}
		var names []asn1.RawValue
		if _, err := asn1.Unmarshal(e.Value, &names); err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if n.Tag != 0 {
				continue
			}
			var oid asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(n.Bytes, &oid)
			if err != nil {
				t.Fatal(err)
			}
			var wrapped asn1.RawValue
			if _, err := asn1.Unmarshal(rest, &wrapped); err != nil {
				t.Fatal(err)
			}
			var s string
			if _, err := asn1.UnmarshalWithParams(wrapped.Bytes, &s, "utf8"); err != nil {
				t.Fatal(err)
			}
			out[strings.TrimPrefix(oid.String(), authority.OIDJPKIAttr.String())] = s
		}
	}
	return out
}

func FuzzTransmit(f *testing.F) {
	c := issue(f, profile.Default()).Card
	for _, s := range []string{selJPKI, "00A4020C02000A", "00B0000000", "00200080", "0020008004313233", "802A008002010200", "00B28B0C00", "0084000008", "00CA00F000"} {
		f.Add(h(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := c.Transmit(b)
		if len(r) < 2 {
			t.Fatalf("response of %d bytes", len(r))
		}
		if sw := uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1]); sw == 0x9000 && len(b) >= 5 && b[1] == 0xA4 && b[2] == 0x04 &&
			!bytes.HasPrefix(h("D392F000260100000001"), b[5:min(len(b), 5+int(b[4]))]) &&
			!bytes.Equal(card.IssuerSecurityDomain, b[5:min(len(b), 5+int(b[4]))]) {
			t.Fatalf("SELECT of foreign AID % X answered 9000", b)
		}
	})
}

var _ = apdu.OK

func TestPrintedReferenceDataCannotBeChanged(t *testing.T) {
	c := issue(t, profile.Default()).Card
	expectSW(t, c, "00A4040C0A D3921000310001010408", 0x9000) // 券面事項入力補助AP
	expectSW(t, c, "00A4020C02 0014", 0x9000)                 // 照合番号A
	expectSW(t, c, "00200080"+pinHex("123456789018"), 0x9000)
	expectSW(t, c, "00240180"+pinHex("123456789026"), 0x6985)
	expectSW(t, c, "00A4020C02 0011", 0x9000) // the holder's own 4-digit PIN can change
	expectSW(t, c, "00200080"+pinHex("1234"), 0x9000)
	expectSW(t, c, "00240180"+pinHex("4321"), 0x9000)
}

func TestATRDataObjectFollowsSetATR(t *testing.T) {
	c := issue(t, profile.Default()).Card
	if got := expectSW(t, c, "00CA5F5100", 0x9000); !bytes.Equal(got, card.DefaultATR[1:]) {
		t.Fatalf("5F51 = % X", got)
	}
	atr := h("3BDA13FF8131FB468012392F31C173C601C03B")
	if err := c.SetATR(atr); err != nil {
		t.Fatal(err)
	}
	if got := expectSW(t, c, "00CA5F5100", 0x9000); !bytes.Equal(got, atr[1:]) {
		t.Fatalf("5F51 after SetATR = % X", got)
	}
	if err := c.SetATR(h("3B")); err == nil {
		t.Fatal("1-byte ATR accepted")
	}
}
