package jpkiclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/harness/apduclient"
)

const selectAP = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"

func TestSelectAP(t *testing.T) {
	c := New(newScript(t, step{cmd: selectAP, resp: "90 00"}))
	if err := c.SelectAP(); err != nil {
		t.Fatal(err)
	}
}

func TestSelectAPNotFound(t *testing.T) {
	c := New(newScript(t, step{cmd: selectAP, resp: "6A 82"}))
	err := c.SelectAP()
	if !errors.Is(err, apduclient.ErrFileNotFound) {
		t.Fatalf("SelectAP error = %v, want ErrFileNotFound", err)
	}
	if want := "selecting JPKI applet: card returned SW 6A82 (file or application not found)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// TestReadDERSendsWhatOpenSCSends replays the auth-certificate read of
// docs/card.md §4.1: a 4-byte probe, then Le=00 chunks from offset 0 and a
// last chunk of 0x23 for a 1571-byte certificate.
func TestReadDERSendsWhatOpenSCSends(t *testing.T) {
	file := append(unhex(t, "30 82 06 1F"), bytes.Repeat([]byte{0xA5}, 1567)...)
	file = append(file, bytes.Repeat([]byte{0xFF}, 40)...) // filler after the TLV is never read
	card := &fileCard{files: map[FileID][]byte{EFAuthCert: file}}
	got, err := New(card).ReadDER(EFAuthCert)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, file[:1571]) {
		t.Errorf("read %d bytes, want the 1571-byte TLV", len(got))
	}
	want := []string{
		"00 A4 02 0C 02 00 0A",
		"00 B0 00 00 04",
		"00 B0 00 00 00",
		"00 B0 01 00 00",
		"00 B0 02 00 00",
		"00 B0 03 00 00",
		"00 B0 04 00 00",
		"00 B0 05 00 00",
		"00 B0 06 00 23",
	}
	if diff := cmp.Diff(want, card.log); diff != "" {
		t.Errorf("APDUs (-want +got):\n%s", diff)
	}
}

func TestReadDERLongHeader(t *testing.T) {
	// 83-form length: the 4-byte probe ends inside the header, so the client
	// probes again with 8 bytes.
	file := append(unhex(t, "04 83 00 01 00"), bytes.Repeat([]byte{1}, 256)...)
	card := &fileCard{files: map[FileID][]byte{EFSignCA: file}}
	_, err := New(card).ReadDER(EFSignCA)
	if !errors.Is(err, ErrDERInvalid) {
		t.Fatalf("non-minimal 83 length: err = %v, want ErrDERInvalid", err)
	}
	if card.log[1] != "00 B0 00 00 04" || card.log[2] != "00 B0 00 00 08" {
		t.Errorf("probes %v", card.log[1:])
	}
}

func TestReadDERErrors(t *testing.T) {
	cert := append(unhex(t, "30 82 01 10"), make([]byte, 0x110)...)
	tests := []struct {
		name  string
		card  *fileCard
		want  error
		check func(error) bool
	}{
		{"missing EF", &fileCard{files: map[FileID][]byte{}}, apduclient.ErrFileNotFound, nil},
		{"protected EF", &fileCard{files: map[FileID][]byte{EFSignCert: cert}, protected: map[FileID]bool{EFSignCert: true}}, apduclient.ErrSecurityStatusNotSatisfied, nil},
		{"file shorter than its TLV", &fileCard{files: map[FileID][]byte{EFSignCert: cert[:200]}}, apduclient.ErrWrongOffset, nil},
		{"empty 9000 answers", &fileCard{files: map[FileID][]byte{EFSignCert: cert}, emptyAfter: 2}, io.ErrUnexpectedEOF, nil},
		{"card answers more than Le", &fileCard{files: map[FileID][]byte{EFSignCert: cert}, extraByte: true}, nil,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "for Le 4") }},
		{"indefinite length", &fileCard{files: map[FileID][]byte{EFSignCert: unhex(t, "30 80 00 00")}}, ErrDERInvalid, nil},
		{"file of 1 byte", &fileCard{files: map[FileID][]byte{EFSignCert: {0x30}}}, ErrDERTruncated, nil},
		{"TLV beyond 15-bit offsets", &fileCard{files: map[FileID][]byte{EFSignCert: unhex(t, "30 83 01 00 00")}}, nil,
			func(err error) bool { return err != nil && strings.Contains(err.Error(), "15-bit offset") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.card).ReadDER(EFSignCert)
			ok := errors.Is(err, tt.want)
			if tt.check != nil {
				ok = tt.check(err)
			}
			if !ok {
				t.Errorf("ReadDER error = %v, want %v", err, tt.want)
			}
		})
	}
}

func selfSigned(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{Country: []string{"JP"}, CommonName: "8439000000000000000000"},
		NotBefore:    time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestReadCertificate(t *testing.T) {
	der := selfSigned(t, rsaKey(t))
	card := &fileCard{files: map[FileID][]byte{EFAuthCert: append(der, 0xFF, 0xFF), EFAuthCA: unhex(t, "30 03 02 01 00")}}
	c := New(card)
	cert, raw, err := c.ReadCertificate(AuthCert)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, der) || cert.Subject.CommonName != "8439000000000000000000" {
		t.Errorf("got %d bytes, CN %q", len(raw), cert.Subject.CommonName)
	}
	if _, _, err := c.ReadCertificate(AuthCACert); err == nil || !strings.HasPrefix(err.Error(), "parsing auth CA certificate: ") {
		t.Errorf("garbage certificate: err = %v", err)
	}
}

func TestTriesLeft(t *testing.T) {
	tests := []struct {
		name string
		ref  PINRef
		resp string
		want int
		err  error
	}{
		{"auth fresh", AuthPIN, "63 C3", 3, nil},
		{"sign fresh", SignPIN, "63 C5", 5, nil},
		{"blocked", AuthPIN, "63 C0", 0, nil},
		{"9000 is not an answer", AuthPIN, "90 00", 0, errors.New("9000")},
		{"6984", SignPIN, "69 84", 0, apduclient.ErrPINBlocked},
		{"6A82", SignPIN, "6A 82", 0, apduclient.ErrFileNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fid := map[PINRef]string{AuthPIN: "00 18", SignPIN: "00 1B"}[tt.ref]
			c := New(newScript(t,
				step{cmd: "00 A4 02 0C 02 " + fid, resp: "90 00"},
				step{cmd: "00 20 00 80", resp: tt.resp},
			))
			n, err := c.TriesLeft(tt.ref)
			switch {
			case tt.err == nil && (err != nil || n != tt.want):
				t.Errorf("TriesLeft = %d, %v; want %d", n, err, tt.want)
			case tt.err != nil && err == nil:
				t.Errorf("TriesLeft = %d, want an error", n)
			case tt.err != nil && !errors.Is(err, tt.err) && !strings.Contains(fmt.Sprint(err), tt.err.Error()):
				t.Errorf("TriesLeft error %v, want %v", err, tt.err)
			}
		})
	}
}

func TestVerifyPIN(t *testing.T) {
	c := New(newScript(t,
		step{cmd: "00 A4 02 0C 02 00 18", resp: "90 00"},
		step{cmd: "00 20 00 80 04 31 32 33 34", resp: "90 00"},
		step{cmd: "00 A4 02 0C 02 00 1B", resp: "90 00"},
		step{cmd: "00 20 00 80 06 41 42 43 31 32 33", resp: "63 C4"},
		step{cmd: "00 A4 02 0C 02 00 1B", resp: "90 00"},
		step{cmd: "00 20 00 80 06 41 42 43 31 32 33", resp: "69 84"},
	))
	if err := c.VerifyPIN(AuthPIN, "1234"); err != nil {
		t.Fatal(err)
	}
	err := c.VerifyPIN(SignPIN, "ABC123")
	var wp *apduclient.WrongPINError
	if !errors.As(err, &wp) || wp.TriesLeft != 4 || !errors.Is(err, apduclient.ErrWrongPIN) {
		t.Errorf("wrong PIN: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "verifying sign PIN: ") || strings.Contains(err.Error(), "ABC123") {
		t.Errorf("message %q", err)
	}
	if err := c.VerifyPIN(SignPIN, "ABC123"); !errors.Is(err, apduclient.ErrPINBlocked) || errors.Is(err, apduclient.ErrWrongPIN) {
		t.Errorf("blocked PIN: %v", err)
	}
}

func TestVerifyPINRefusesEmptyPINLocally(t *testing.T) {
	c := New(newScript(t)) // no exchange allowed
	if err := c.VerifyPIN(AuthPIN, ""); !errors.Is(err, ErrEmptyPIN) {
		t.Errorf("VerifyPIN(\"\") = %v", err)
	}
	if err := c.VerifyPIN(AuthPIN, PIN(strings.Repeat("1", 256))); err == nil {
		t.Error("256-byte PIN accepted")
	}
}

func TestChangePIN(t *testing.T) {
	c := New(newScript(t,
		step{cmd: "00 A4 02 0C 02 00 18", resp: "90 00"},
		step{cmd: "00 20 00 80 04 31 32 33 34", resp: "90 00"},
		step{cmd: "00 24 01 80 04 39 38 37 36", resp: "90 00"},
		step{cmd: "00 A4 02 0C 02 00 18", resp: "90 00"},
		step{cmd: "00 20 00 80 04 31 32 33 34", resp: "63 C2"},
	))
	if err := c.ChangePIN(AuthPIN, "1234", "9876"); err != nil {
		t.Fatal(err)
	}
	err := c.ChangePIN(AuthPIN, "1234", "9876")
	if !errors.Is(err, apduclient.ErrWrongPIN) || !strings.HasPrefix(err.Error(), "changing auth PIN: verifying auth PIN: ") {
		t.Errorf("ChangePIN with a wrong old PIN: %v", err)
	}
}

// cardSigner answers 80 2A like docs/card.md §5.6: PKCS#1 v1.5 type 1
// padding over the data exactly as given, then the RSA private operation.
func cardSigner(t *testing.T, key *rsa.PrivateKey) func([]byte) []byte {
	return func(cmd []byte) []byte {
		c, err := apduclient.ParseCommand(cmd)
		if err != nil {
			t.Errorf("parsing sign command: %v", err)
			return []byte{0x67, 0x00}
		}
		sig, err := rsa.SignPKCS1v15(nil, key, crypto.Hash(0), c.Data)
		if err != nil {
			t.Errorf("signing: %v", err)
			return []byte{0x6F, 0x00}
		}
		return append(sig, 0x90, 0x00)
	}
}

func TestSign(t *testing.T) {
	key := rsaKey(t)
	digest := sha256.Sum256([]byte("document"))
	di, _ := DigestInfo(crypto.SHA256, digest[:])
	c := New(newScript(t,
		step{cmd: "00 A4 02 0C 02 00 17", resp: "90 00"},
		step{cmd: "80 2A 00 80 33 " + hexOf(di) + " 00", respond: cardSigner(t, key)},
	))
	sig, err := c.Sign(AuthKey, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
}

func TestSignErrors(t *testing.T) {
	digest := make([]byte, 32)
	di, _ := DigestInfo(crypto.SHA256, digest)
	sign := "80 2A 00 80 33 " + hexOf(di) + " 00"
	t.Run("no PIN", func(t *testing.T) {
		c := New(newScript(t, step{cmd: "00 A4 02 0C 02 00 1A", resp: "90 00"}, step{cmd: sign, resp: "69 82"}))
		_, err := c.Sign(SignKey, digest, crypto.SHA256)
		if !errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) || !strings.HasPrefix(err.Error(), "signing with sign key: ") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("short signature", func(t *testing.T) {
		c := New(newScript(t, step{cmd: "00 A4 02 0C 02 00 1A", resp: "90 00"}, step{cmd: sign, resp: "01 02 90 00"}))
		if _, err := c.Sign(SignKey, digest, crypto.SHA256); err == nil || !strings.Contains(err.Error(), "returned 2 bytes, want 256") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad input refused locally", func(t *testing.T) {
		c := New(newScript(t))
		if _, err := c.Sign(SignKey, digest[:20], crypto.SHA256); err == nil {
			t.Error("20-byte SHA-256 digest accepted")
		}
		if _, err := c.SignRaw(SignKey, nil); err == nil {
			t.Error("empty input accepted")
		}
		if _, err := c.SignRaw(SignKey, make([]byte, 256)); err == nil {
			t.Error("256-byte input accepted")
		}
	})
}

func TestSignerCreatesVerifiableCertificate(t *testing.T) {
	key := rsaKey(t)
	// The DigestInfo is over a TBSCertificate the test cannot predict, so
	// the sign step takes whatever command comes (see anyStep).
	c := New(&anyStep{newScript(t,
		step{cmd: "00 A4 02 0C 02 00 1A", resp: "90 00"},
		step{respond: cardSigner(t, key)},
	)})
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, c.Signer(SignKey, &key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Errorf("certificate signed through the card does not verify: %v", err)
	}
	if _, err := c.Signer(SignKey, &key.PublicKey).Sign(nil, make([]byte, 32), &rsa.PSSOptions{Hash: crypto.SHA256}); err == nil {
		t.Error("PSS accepted")
	}
}

// anyStep wraps a script and fills in an empty expected command with what
// was actually sent, for exchanges whose bytes cannot be predicted.
type anyStep struct{ *script }

func (a *anyStep) Transmit(cmd []byte) ([]byte, error) {
	if a.next < len(a.steps) && a.steps[a.next].cmd == "" {
		a.steps[a.next].cmd = hexOf(cmd)
	}
	return a.script.Transmit(cmd)
}

func TestTokenLabel(t *testing.T) {
	label := func(s string, pad byte, n int) []byte {
		b := append([]byte(s), bytes.Repeat([]byte{pad}, n-len(s))...)
		return b
	}
	tests := []struct {
		name  string
		file  []byte
		label string
		check error
	}{
		{"plastic card, 160-byte file", label("JPKIAPICCTOKEN2", ' ', 160), "JPKIAPICCTOKEN2", nil},
		{"exactly 32 bytes", label("JPKIAPICCTOKEN2", ' ', 32), "JPKIAPICCTOKEN2", nil},
		{"Juki card", label("JPKIAPICCTOKEN", ' ', 32), "JPKIAPICCTOKEN", ErrUnexpectedToken},
		{"Android token", label("JPKIAPGPSETOKEN", ' ', 160), "JPKIAPGPSETOKEN", nil},
		{"iPhone token", label("JPKIAPIOSTOKEN", ' ', 160), "JPKIAPIOSTOKEN", nil},
		{"unknown token", label("JPKIAPXXTOKEN", ' ', 160), "JPKIAPXXTOKEN", ErrUnexpectedToken},
		{"NUL padding is not trimmed", label("JPKIAPICCTOKEN2", 0, 32), "JPKIAPICCTOKEN2" + strings.Repeat("\x00", 17), ErrUnexpectedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			card := &fileCard{files: map[FileID][]byte{EFTokenInfo: tt.file}}
			got, err := New(card).TokenLabel()
			if err != nil || got != tt.label {
				t.Errorf("TokenLabel = %q, %v; want %q", got, err, tt.label)
			}
			if want := []string{"00 A4 02 0C 02 00 06", "00 B0 00 00 20"}; !cmp.Equal(card.log, want) {
				t.Errorf("APDUs %q, want %q", card.log, want)
			}
			if err := New(card).CheckToken(); !errors.Is(err, tt.check) || (tt.check == nil) != (err == nil) {
				t.Errorf("CheckToken = %v, want %v", err, tt.check)
			}
		})
	}
	t.Run("file shorter than 32 bytes", func(t *testing.T) {
		card := &fileCard{files: map[FileID][]byte{EFTokenInfo: label("JPKIAPICCTOKEN2", ' ', 20)}}
		if got, err := New(card).TokenLabel(); !errors.Is(err, apduclient.ErrWrongOffset) {
			t.Errorf("TokenLabel = %q, %v; want the 6B00 from reading past EOF", got, err)
		}
	})
}

func TestCertificatesPresent(t *testing.T) {
	tests := []struct {
		file       string
		sign, auth bool
	}{
		{"8F 8F 00", true, true},
		{"00 8F 00", false, true},
		{"8F 00 00", true, false},
	}
	for _, tt := range tests {
		card := &fileCard{files: map[FileID][]byte{EFCertPresence: unhex(t, tt.file)}}
		p, err := New(card).CertificatesPresent()
		if err != nil || p.Sign != tt.sign || p.Auth != tt.auth || hexOf(p.Raw[:]) != tt.file {
			t.Errorf("%s: %+v, %v", tt.file, p, err)
		}
	}
	card := &fileCard{files: map[FileID][]byte{EFCertPresence: {0x8F}}}
	if _, err := New(card).CertificatesPresent(); err == nil {
		t.Error("1-byte EF 0008 accepted")
	}
}

func TestReadBinaryRange(t *testing.T) {
	c := New(newScript(t))
	for _, r := range [][2]int{{-1, 1}, {0, -1}, {0x7FFF, 257}} {
		if _, err := c.ReadBinary(r[0], r[1]); err == nil {
			t.Errorf("ReadBinary(%d, %d) accepted", r[0], r[1])
		}
	}
}

func TestNamesAndFiles(t *testing.T) {
	if AuthCert.EF() != 0x000A || AuthCACert.EF() != 0x000B || SignCert.EF() != 0x0001 || SignCACert.EF() != 0x0002 {
		t.Error("certificate EFs")
	}
	if AuthPIN.EF() != 0x0018 || SignPIN.EF() != 0x001B || AuthPIN.MaxTries() != 3 || SignPIN.MaxTries() != 5 {
		t.Error("PIN EFs or tries")
	}
	if AuthKey.EF() != 0x0017 || SignKey.EF() != 0x001A || AuthKey.PIN() != AuthPIN || SignKey.PIN() != SignPIN {
		t.Error("key EFs")
	}
	if EFAuthCert.String() != "EF 000A" {
		t.Errorf("FileID.String() = %q", EFAuthCert.String())
	}
}
