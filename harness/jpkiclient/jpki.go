// Package jpkiclient is a client for the JPKI applet (公的個人認証AP) of the My
// Number Card over a harness.Transport. It sends the APDUs that the real
// clients send (OpenSC's card-jpki.c and myna, docs/card.md §4.1–4.4): short
// APDUs only, SELECT with P2=0C, READ BINARY in chunks of Le=00 with 15-bit
// offsets, VERIFY / CHANGE REFERENCE DATA on the PIN EFs and the proprietary
// COMPUTE DIGITAL SIGNATURE 80 2A.
//
// The client is written from the spec documents only, independently of the
// simulated card's applet (simcard/jpki), so that the two cannot share a
// misreading (docs/architecture.md).
//
// Operations never select the applet themselves: selecting an application
// clears every verified PIN (docs/card.md §5.1), which a suite must control.
// Call SelectAP first, then VerifyPIN, then the operation that needs it.
package jpkiclient

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
)

// AID is the DF name of the JPKI applet (docs/card.md §2).
var AID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}

// FileID is a 2-byte EF identifier in the JPKI applet (docs/card.md §3.1).
type FileID uint16

// The EFs of the JPKI applet (docs/card.md §3.1).
const (
	EFSignCert     FileID = 0x0001 // signing certificate; READ needs the sign PIN
	EFSignCA       FileID = 0x0002 // signing CA certificate
	EFTokenInfo    FileID = 0x0006 // CK_TOKEN_INFO, label in bytes 0–31
	EFCertPresence FileID = 0x0008 // which certificates are present, 3 bytes
	EFAuthCert     FileID = 0x000A // user-authentication certificate
	EFAuthCA       FileID = 0x000B // user-authentication CA certificate
	EFAuthKey      FileID = 0x0017 // auth private key, needs the auth PIN
	EFAuthPIN      FileID = 0x0018 // auth PIN: 4 digits, 3 tries
	EFSignKey      FileID = 0x001A // sign private key, needs the sign PIN
	EFSignPIN      FileID = 0x001B // sign PIN: 6–16 of A–Z 0–9, 5 tries
)

func (f FileID) String() string { return fmt.Sprintf("EF %04X", uint16(f)) }

// Token labels a JPKI client accepts (docs/card.md §1.3):
// myna-go's CheckCard accepts the plastic card and the Android token and
// rejects the old resident-registry card's JPKIAPICCTOKEN ("this is a Juki
// card?"); the iPhone token speaks the same protocol (myna-card ap/jpki.rs).
const (
	TokenLabelICC     = "JPKIAPICCTOKEN2" // the plastic My Number Card
	TokenLabelAndroid = "JPKIAPGPSETOKEN" // smartphone JPKI, Android
	TokenLabelIPhone  = "JPKIAPIOSTOKEN"  // smartphone JPKI, iPhone
)

// PhoneToken reports whether label is a phone token's: its auth certificate
// is readable only after the auth PIN (myna-go cmd/jpki.go, jpki/myna #6).
func PhoneToken(label string) bool {
	return label == TokenLabelAndroid || label == TokenLabelIPhone
}

// Cert names one of the four certificate EFs.
type Cert int

// The certificates (docs/card.md §3.1, §6).
const (
	AuthCert Cert = iota
	AuthCACert
	SignCert
	SignCACert
)

// EF returns the file that holds the certificate.
func (k Cert) EF() FileID {
	return [...]FileID{EFAuthCert, EFAuthCA, EFSignCert, EFSignCA}[k]
}

func (k Cert) String() string {
	return [...]string{"auth certificate", "auth CA certificate", "sign certificate", "sign CA certificate"}[k]
}

// PINRef names one of the two JPKI PINs.
type PINRef int

// The PINs (docs/card.md §3.1).
const (
	AuthPIN PINRef = iota
	SignPIN
)

// EF returns the PIN's internal EF, the one SELECTed before VERIFY.
func (p PINRef) EF() FileID { return [...]FileID{EFAuthPIN, EFSignPIN}[p] }

// MaxTries is the retry counter of a fresh PIN: 3 for auth, 5 for sign.
func (p PINRef) MaxTries() int { return [...]int{3, 5}[p] }

func (p PINRef) String() string { return [...]string{"auth PIN", "sign PIN"}[p] }

// Key names one of the two private keys.
type Key int

// The keys (docs/card.md §3.1, §5.2).
const (
	AuthKey Key = iota
	SignKey
)

// EF returns the key's EF, the one SELECTed before 80 2A.
func (k Key) EF() FileID { return [...]FileID{EFAuthKey, EFSignKey}[k] }

// PIN returns the PIN that unlocks the key.
func (k Key) PIN() PINRef { return [...]PINRef{AuthPIN, SignPIN}[k] }

func (k Key) String() string { return [...]string{"auth key", "sign key"}[k] }

// SignatureLen is the length of every signature the card returns (RSA-2048).
const SignatureLen = 256

// maxReadable is the end of the farthest chunk a short READ BINARY with a
// 15-bit offset can reach (ISO/IEC 7816-4 clause 11.2.3: P1 bit 8 = 0).
const maxReadable = 0x7FFF + apduclient.MaxShortNe

// ErrUnexpectedToken reports a token label other than the three accepted.
var ErrUnexpectedToken = errors.New("not a My Number Card JPKI token")

// Client talks to the JPKI applet through a Transport. It is not safe for
// concurrent use; a card serves one conversation at a time anyway.
type Client struct {
	t   harness.Transport
	buf []byte // encoding buffer reused for every command
}

// New returns a Client over t. It sends nothing.
func New(t harness.Transport) *Client {
	return &Client{t: t, buf: make([]byte, 0, 5+apduclient.MaxShortNc+1)}
}

// Transmit sends cmd and returns the parsed response whatever its status
// word. The error is for transport failures and malformed responses only.
func (c *Client) Transmit(cmd apduclient.Command) (apduclient.Response, error) {
	b, err := cmd.AppendTo(c.buf[:0])
	if err != nil {
		return apduclient.Response{}, err
	}
	c.buf = b[:0]
	resp, err := c.t.Transmit(b)
	if err != nil {
		return apduclient.Response{}, err
	}
	return apduclient.ParseResponse(resp)
}

// Do sends cmd and returns the response data, or the typed status error
// (package apdu) when the status word is not 9000.
func (c *Client) Do(cmd apduclient.Command) ([]byte, error) {
	r, err := c.Transmit(cmd)
	if err != nil {
		return nil, err
	}
	return r.Data, r.Err()
}

// SelectAP selects the JPKI applet: SELECT by DF name, P2=0C (no response
// data), ISO/IEC 7816-4 clause 11.1.1; the bytes OpenSC and myna send
// (docs/card.md §4.1). It clears every verified PIN (§5.1).
func (c *Client) SelectAP() error {
	if _, err := c.Do(apduclient.Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID}); err != nil {
		return fmt.Errorf("selecting JPKI applet: %w", err)
	}
	return nil
}

// SelectEF selects an EF of the current DF by file identifier: SELECT P1=02,
// P2=0C (ISO/IEC 7816-4 clause 11.1.1; docs/card.md §4.1).
func (c *Client) SelectEF(f FileID) error {
	if _, err := c.Do(apduclient.Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(f >> 8), byte(f)}}); err != nil {
		return fmt.Errorf("selecting %v: %w", f, err)
	}
	return nil
}

// ReadBinary reads n bytes of the current EF from offset with READ BINARY
// (ISO/IEC 7816-4 clause 11.2.3, P1-P2 = 15-bit offset), in chunks of
// Le=00 (256) and a last chunk of the remainder, as OpenSC does
// (docs/card.md §4.1). The card answers min(Le, bytes to EOF) (§7), so a
// file shorter than offset+n ends in an error (6B00, or a short answer).
func (c *Client) ReadBinary(offset, n int) ([]byte, error) {
	if offset < 0 || n < 0 || offset+n > maxReadable {
		return nil, fmt.Errorf("reading binary: range %d+%d outside what a 15-bit offset reaches", offset, n)
	}
	out := make([]byte, 0, n)
	for len(out) < n {
		off := offset + len(out)
		if off > 0x7FFF {
			return out, fmt.Errorf("reading binary at offset %d: beyond the 15-bit offset range", off)
		}
		want := min(n-len(out), apduclient.MaxShortNe)
		data, err := c.Do(apduclient.Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off), Ne: want})
		switch {
		case err != nil:
			return out, fmt.Errorf("reading binary at offset %d: %w", off, err)
		case len(data) == 0:
			return out, fmt.Errorf("reading binary at offset %d: card returned no data, %d bytes short: %w", off, n-len(out), io.ErrUnexpectedEOF)
		case len(data) > want:
			return out, fmt.Errorf("reading binary at offset %d: card returned %d bytes for Le %d", off, len(data), want)
		}
		out = append(out, data...)
	}
	return out, nil
}

// ReadDER reads a DER-encoded EF: it SELECTs f, reads the first 4 bytes (the
// `00 B0 00 00 04` OpenSC sends, enough for `30 82 LL LL`), reads 4 more if
// the header is longer, parses the tag and length, then reads the whole TLV
// from offset 0 in 256-byte chunks. Bytes after the TLV (filler, §3.1) are
// never requested.
func (c *Client) ReadDER(f FileID) ([]byte, error) {
	if err := c.SelectEF(f); err != nil {
		return nil, err
	}
	var hdr DERHeader
	for _, probe := range []int{4, 8} {
		data, err := c.Do(apduclient.Command{INS: 0xB0, Ne: probe})
		if err != nil {
			return nil, fmt.Errorf("reading header of %v: %w", f, err)
		}
		if len(data) > probe {
			return nil, fmt.Errorf("reading header of %v: card returned %d bytes for Le %d", f, len(data), probe)
		}
		hdr, err = ParseDERHeader(data)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrDERTruncated) || len(data) < probe || probe == 8 {
			return nil, fmt.Errorf("parsing header of %v: %w", f, err)
		}
	}
	if hdr.TotalLen() > maxReadable {
		return nil, fmt.Errorf("reading %v: TLV of %d bytes outside what a 15-bit offset reaches", f, hdr.TotalLen())
	}
	der, err := c.ReadBinary(0, hdr.TotalLen())
	if err != nil {
		return nil, fmt.Errorf("reading %v: %w", f, err)
	}
	return der, nil
}

// ReadCertificate reads and parses one of the four certificates
// (docs/card.md §3.1, §6). The sign certificate needs the sign PIN verified
// first (§5.2); without it the card answers 6982.
func (c *Client) ReadCertificate(kind Cert) (*x509.Certificate, []byte, error) {
	der, err := c.ReadDER(kind.EF())
	if err != nil {
		return nil, nil, fmt.Errorf("reading %v: %w", kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, der, fmt.Errorf("parsing %v: %w", kind, err)
	}
	return cert, der, nil
}

// TriesLeft asks how many tries the PIN has left: SELECT the PIN EF, then an
// empty VERIFY `00 20 00 80` (case 1), ISO/IEC 7816-4 clause 11.5.6. The
// card answers 63Cx; like OpenSC and myna-rs, anything else is an error,
// 9000 included (docs/card.md §4.1, §4.6, §10).
func (c *Client) TriesLeft(ref PINRef) (int, error) {
	if err := c.SelectEF(ref.EF()); err != nil {
		return 0, fmt.Errorf("querying tries left of %v: %w", ref, err)
	}
	r, err := c.Transmit(apduclient.Command{INS: 0x20, P2: 0x80})
	if err != nil {
		return 0, fmt.Errorf("querying tries left of %v: %w", ref, err)
	}
	if r.SW&0xFFF0 != 0x63C0 {
		if r.SW == apduclient.SWSuccess {
			return 0, fmt.Errorf("querying tries left of %v: card answered 9000, want 63Cx", ref)
		}
		return 0, fmt.Errorf("querying tries left of %v: %w", ref, r.Err())
	}
	return int(r.SW & 0x0F), nil
}

// VerifyPIN selects the PIN EF and sends VERIFY `00 20 00 80 Lc PIN`
// (ISO/IEC 7816-4 clause 11.5.6; docs/card.md §4.1). A wrong PIN gives an
// error matching apduclient.ErrWrongPIN (errors.As *apduclient.WrongPINError for the
// tries left); a blocked one matches apduclient.ErrPINBlocked.
func (c *Client) VerifyPIN(ref PINRef, value PIN) error {
	if err := c.verify(ref, value); err != nil {
		return fmt.Errorf("verifying %v: %w", ref, err)
	}
	return nil
}

func (c *Client) verify(ref PINRef, value PIN) error {
	if len(value) == 0 {
		return ErrEmptyPIN
	}
	if len(value) > apduclient.MaxShortNc {
		return fmt.Errorf("PIN of %d bytes does not fit a short APDU", len(value))
	}
	if err := c.SelectEF(ref.EF()); err != nil {
		return err
	}
	_, err := c.Do(apduclient.Command{INS: 0x20, P2: 0x80, Data: []byte(value)})
	return err
}

// ChangePIN verifies old, then sends CHANGE REFERENCE DATA with P1=01 (new
// value only) `00 24 01 80 Lc new` (ISO/IEC 7816-4 clause 11.5.7;
// docs/card.md §4.2). The new PIN is not checked locally; see ValidatePIN.
func (c *Client) ChangePIN(ref PINRef, old, new PIN) error {
	if err := c.VerifyPIN(ref, old); err != nil {
		return fmt.Errorf("changing %v: %w", ref, err)
	}
	if len(new) == 0 {
		return fmt.Errorf("changing %v: new PIN: %w", ref, ErrEmptyPIN)
	}
	if len(new) > apduclient.MaxShortNc {
		return fmt.Errorf("changing %v: new PIN of %d bytes does not fit a short APDU", ref, len(new))
	}
	if _, err := c.Do(apduclient.Command{INS: 0x24, P1: 0x01, P2: 0x80, Data: []byte(new)}); err != nil {
		return fmt.Errorf("changing %v: %w", ref, err)
	}
	return nil
}

// Sign signs digest, a hash made with hash, with key: it wraps the digest in
// a DER DigestInfo (see DigestInfo) and calls SignRaw, which is what OpenSC
// and myna's CMS signing do (docs/card.md §4.1, §4.2). The key's PIN must
// have been verified since the applet was selected (§5.2).
func (c *Client) Sign(key Key, digest []byte, hash crypto.Hash) ([]byte, error) {
	di, err := DigestInfo(hash, digest)
	if err != nil {
		return nil, fmt.Errorf("signing with %v: %w", key, err)
	}
	return c.SignRaw(key, di)
}

// SignRaw selects the key EF and sends COMPUTE DIGITAL SIGNATURE
// `80 2A 00 80 Lc data 00` (docs/card.md §4.1, §4.5): the card pads data
// with PKCS#1 v1.5 type 1 and returns the 256-byte signature (§5.6). data is
// sent as given (1 to 255 bytes, short APDU); the card accepts up to 245.
func (c *Client) SignRaw(key Key, data []byte) ([]byte, error) {
	if len(data) == 0 || len(data) > apduclient.MaxShortNc {
		return nil, fmt.Errorf("signing with %v: input of %d bytes, want 1 to %d", key, len(data), apduclient.MaxShortNc)
	}
	if err := c.SelectEF(key.EF()); err != nil {
		return nil, fmt.Errorf("signing with %v: %w", key, err)
	}
	sig, err := c.Do(apduclient.Command{CLA: 0x80, INS: 0x2A, P1: 0x00, P2: 0x80, Data: data, Ne: apduclient.MaxShortNe})
	if err != nil {
		return nil, fmt.Errorf("signing with %v: %w", key, err)
	}
	if len(sig) != SignatureLen {
		return nil, fmt.Errorf("signing with %v: card returned %d bytes, want %d", key, len(sig), SignatureLen)
	}
	return sig, nil
}

// TokenLabel reads the first 32 bytes of EF 0006 (the CK_TOKEN_INFO label)
// and trims trailing spaces only, as myna-go does (docs/card.md §1.3,
// §3.1.1): a NUL-padded label stays padded and fails CheckToken, as it would
// in myna-go.
func (c *Client) TokenLabel() (string, error) {
	if err := c.SelectEF(EFTokenInfo); err != nil {
		return "", fmt.Errorf("reading token label: %w", err)
	}
	b, err := c.ReadBinary(0, 32)
	if err != nil {
		return "", fmt.Errorf("reading token label: %w", err)
	}
	return strings.TrimRight(string(b), " "), nil
}

// CheckToken reads the token label and returns an error wrapping
// ErrUnexpectedToken unless it is the plastic card's or a phone token's; the
// old Juki label JPKIAPICCTOKEN is refused.
func (c *Client) CheckToken() error {
	label, err := c.TokenLabel()
	if err != nil {
		return fmt.Errorf("checking token: %w", err)
	}
	if label != TokenLabelICC && !PhoneToken(label) {
		return fmt.Errorf("checking token: %w: label %q, want %q, %q or %q", ErrUnexpectedToken, label, TokenLabelICC, TokenLabelAndroid, TokenLabelIPhone)
	}
	return nil
}

// Presence is the content of EF 0008 (docs/card.md §3.1): byte 0 is 8F when
// the sign certificate is present, byte 1 when the auth certificate is.
type Presence struct {
	Sign, Auth bool
	Raw        [3]byte
}

// CertificatesPresent reads EF 0008.
func (c *Client) CertificatesPresent() (Presence, error) {
	if err := c.SelectEF(EFCertPresence); err != nil {
		return Presence{}, fmt.Errorf("reading certificate presence: %w", err)
	}
	b, err := c.ReadBinary(0, 3)
	if err != nil {
		return Presence{}, fmt.Errorf("reading certificate presence: %w", err)
	}
	p := Presence{Raw: [3]byte(b)}
	p.Sign, p.Auth = b[0] == 0x8F, b[1] == 0x8F
	return p, nil
}

// Signer returns a crypto.Signer that signs with key on the card, for
// x509.CreateCertificate, CMS libraries and the like. pub is the key's public
// half, usually from ReadCertificate. Only PKCS#1 v1.5 with SHA-256/384/512
// is supported; the PIN must be verified before Sign is called.
func (c *Client) Signer(key Key, pub crypto.PublicKey) crypto.Signer {
	return &signer{c: c, key: key, pub: pub}
}

type signer struct {
	c   *Client
	key Key
	pub crypto.PublicKey
}

func (s *signer) Public() crypto.PublicKey { return s.pub }

func (s *signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if _, pss := opts.(*rsa.PSSOptions); pss {
		return nil, errors.New("signing: PSS is not supported by the JPKI card")
	}
	return s.c.Sign(s.key, digest, opts.HashFunc())
}
