package cardinfoclient

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"
	"unicode/utf8"

	"github.com/mynahil/mynahil/harness/apduclient"
)

// Date is a calendar date as the card writes it, YYYYMMDD in ASCII.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Time returns midnight of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// ParseDate parses 8 ASCII digits YYYYMMDD naming a real calendar day. The
// error does not repeat the input: a birth date is part of 照合番号B.
func ParseDate(b []byte) (Date, error) {
	if len(b) != 8 || !allDigits(string(b)) {
		return Date{}, fmt.Errorf("parsing date: want 8 digits YYYYMMDD, got %d bytes", len(b))
	}
	t, err := time.Parse("20060102", string(b))
	if err != nil {
		return Date{}, errors.New("parsing date: 8 digits that are not a calendar day")
	}
	return Date{t.Year(), t.Month(), t.Day()}, nil
}

// Sex is the sex code as the card writes it: one ASCII digit, 1 male,
// 2 female, 9 not applicable, 0 unknown (JIS X 0303; docs/card.md §3.2).
type Sex byte

// The sex codes of JIS X 0303.
const (
	SexUnknown       Sex = '0'
	SexMale          Sex = '1'
	SexFemale        Sex = '2'
	SexNotApplicable Sex = '9'
)

func (s Sex) String() string {
	switch s {
	case SexUnknown:
		return "unknown"
	case SexMale:
		return "male"
	case SexFemale:
		return "female"
	case SexNotApplicable:
		return "not applicable"
	}
	return fmt.Sprintf("sex code %q", byte(s))
}

func parseSex(b []byte) (Sex, error) {
	if len(b) != 1 || b[0] < '0' || b[0] > '9' {
		return 0, fmt.Errorf("parsing sex: want one ASCII digit, got % X", b)
	}
	return Sex(b[0]), nil
}

// The tags inside text EF 0002 (docs/card.md §3.2).
const (
	TagFactsOffsets Tag = 0xDF21
	TagFactsName    Tag = 0xDF22
	TagFactsAddress Tag = 0xDF23
	TagFactsBirth   Tag = 0xDF24
	TagFactsSex     Tag = 0xDF25
)

// Facts are the four basic facts (基本4情報) of text EF 0002.
type Facts struct {
	Name      string // UTF-8; family and given name separated by U+3000
	Address   string // UTF-8
	BirthDate Date
	Sex       Sex
	// Offsets is the DF21 table: where DF22, DF23, DF24 and DF25 start,
	// counted from the start of the file.
	Offsets [4]int
	// Raw is the whole FF 20 TLV as read from the card.
	Raw []byte
}

// HashedPart returns what the integrity record's DF32 hashes: the FF 20
// value from DF22 to its end, i.e. without the DF21 table (docs/card.md
// §3.2 EF 0003).
func (f *Facts) HashedPart() []byte { return f.Raw[f.Offsets[0]:] }

// ParseFacts decodes text EF 0002 (docs/card.md §3.2): FF 20 L holding
// DF21 (four 2-byte big-endian offsets), DF22 name, DF23 address, DF24
// birth date YYYYMMDD, DF25 sex, in that order. It checks that each DF21
// offset is where the matching object starts. b starts at the file's first
// byte; bytes after the TLV are ignored.
func ParseFacts(b []byte) (*Facts, error) {
	f, err := parseFacts(b)
	if err != nil {
		return nil, fmt.Errorf("parsing facts: %w", err)
	}
	return f, nil
}

func parseFacts(b []byte) (*Facts, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != TagFacts {
		return nil, fmt.Errorf("%w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagFacts)
	}
	kids, err := children(t, 0, TagFactsOffsets, TagFactsName, TagFactsAddress, TagFactsBirth, TagFactsSex)
	if err != nil {
		return nil, err
	}
	f := &Facts{Raw: t.Raw}
	if len(kids[0].Value) != 8 {
		return nil, fmt.Errorf("%w: offset table DF21 of %d bytes, want 8", ErrTLVInvalid, len(kids[0].Value))
	}
	for i := range f.Offsets {
		f.Offsets[i] = int(kids[0].Value[2*i])<<8 | int(kids[0].Value[2*i+1])
		if got, want := f.Offsets[i], kids[i+1].Offset; got != want {
			return nil, fmt.Errorf("%w: DF21 says %v starts at %04X, it starts at %04X", ErrTLVInvalid, kids[i+1].Tag, got, want)
		}
	}
	for i, s := range []*string{&f.Name, &f.Address} {
		v := kids[1+i].Value
		if !utf8.Valid(v) {
			return nil, fmt.Errorf("%w: %v is not UTF-8", ErrTLVInvalid, kids[1+i].Tag)
		}
		*s = string(v)
	}
	if f.BirthDate, err = ParseDate(kids[3].Value); err != nil {
		return nil, fmt.Errorf("birth date DF24: %w", err)
	}
	if f.Sex, err = parseSex(kids[4].Value); err != nil {
		return nil, fmt.Errorf("DF25: %w", err)
	}
	return f, nil
}

// ReadMyNumber selects text EF 0001 and reads its 17 bytes, as myna-go does
// (docs/card.md §4.2), and decodes them (ParseMyNumberFile). It needs the
// card-info PIN or 照合番号A verified since the applet was selected (§5.3);
// without, the card answers 6982.
func (c *Client) ReadMyNumber() (MyNumber, error) {
	n, _, err := c.readMyNumber()
	return n, err
}

func (c *Client) readMyNumber() (MyNumber, []byte, error) {
	b, err := c.readEF(EFTextMyNumber, MyNumberFileLen)
	if err != nil {
		return "", nil, fmt.Errorf("reading My Number: %w", err)
	}
	n, err := ParseMyNumberFile(b)
	if err != nil {
		return "", b, fmt.Errorf("reading My Number: %w", err)
	}
	return n, b, nil
}

// MyNumber verifies the card-info PIN (EF 0011) and reads the My Number, as
// `myna text mynumber` does (docs/card.md §4.2). The text applet must be
// selected.
func (c *Client) MyNumber(pin PIN) (MyNumber, error) {
	if err := c.Verify(TextPIN, pin); err != nil {
		return "", fmt.Errorf("reading My Number: %w", err)
	}
	return c.ReadMyNumber()
}

// MyNumberWithCodeA verifies 照合番号A (EF 0014: the My Number itself) and
// reads the My Number (docs/card.md §3.2, §5.3). The text applet must be
// selected.
func (c *Client) MyNumberWithCodeA(code MyNumber) (MyNumber, error) {
	if err := c.Verify(TextCodeA, PIN(code)); err != nil {
		return "", fmt.Errorf("reading My Number: %w", err)
	}
	return c.ReadMyNumber()
}

// ReadFacts reads text EF 0002 as a TLV (see ReadTLV) and decodes it
// (ParseFacts). It needs the card-info PIN or 照合番号B verified (§5.3).
func (c *Client) ReadFacts() (*Facts, error) {
	b, err := c.ReadTLV(EFTextFacts)
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	f, err := ParseFacts(b)
	if err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	return f, nil
}

// Facts verifies the card-info PIN and reads the four basic facts, as
// `myna text attr` does (docs/card.md §4.2). The text applet must be
// selected.
func (c *Client) Facts(pin PIN) (*Facts, error) {
	if err := c.Verify(TextPIN, pin); err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	return c.ReadFacts()
}

// FactsWithCodeB verifies 照合番号B (EF 0015) and reads the four basic facts
// (docs/card.md §3.2, §5.3). The text applet must be selected.
func (c *Client) FactsWithCodeB(code CodeB) (*Facts, error) {
	if err := c.Verify(TextCodeB, PIN(code)); err != nil {
		return nil, fmt.Errorf("reading facts: %w", err)
	}
	return c.ReadFacts()
}

// The integrity record's tags and size (docs/card.md §3.2 EF 0003).
const (
	TagIntegrityMyNumber  Tag = 0xDF31
	TagIntegrityFacts     Tag = 0xDF32
	TagIntegritySignature Tag = 0xDF33

	IntegrityRecordLen = 336
)

// IntegrityRecord is text EF 0003.
type IntegrityRecord struct {
	MyNumberHash []byte // DF31: SHA-256 of the whole 17-byte EF 0001
	FactsHash    []byte // DF32: SHA-256 of EF 0002 from DF22 to the end
	Signature    []byte // DF33: RSA-2048 PKCS#1 v1.5 SHA-256
	// Signed is what DF33 signs: the objects before it as written, DF31 and
	// DF32 with their headers, without the FF 30 header (70 bytes). The
	// spec's "the bytes before DF33" (docs/card.md §3.2) is read the way
	// myna-card reads it (data.rs TlvFields::bytes_before), which its
	// authors check against a real test card's EF 0003.
	Signed []byte
	Raw    []byte // the FF 30 TLV
}

// ParseIntegrityRecord decodes text EF 0003: FF 30 82 01 4B holding
// DF31 20, DF32 20 and DF33 82 01 00 (docs/card.md §3.2).
func ParseIntegrityRecord(b []byte) (*IntegrityRecord, error) {
	r, err := parseIntegrityRecord(b)
	if err != nil {
		return nil, fmt.Errorf("parsing integrity record: %w", err)
	}
	return r, nil
}

func parseIntegrityRecord(b []byte) (*IntegrityRecord, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != TagIntegrity {
		return nil, fmt.Errorf("%w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagIntegrity)
	}
	kids, err := children(t, 0, TagIntegrityMyNumber, TagIntegrityFacts, TagIntegritySignature)
	if err != nil {
		return nil, err
	}
	for i, n := range []int{sha256.Size, sha256.Size, 256} {
		if len(kids[i].Value) != n {
			return nil, fmt.Errorf("%w: %v of %d bytes, want %d", ErrTLVInvalid, kids[i].Tag, len(kids[i].Value), n)
		}
	}
	return &IntegrityRecord{
		MyNumberHash: kids[0].Value,
		FactsHash:    kids[1].Value,
		Signature:    kids[2].Value,
		Signed:       t.Raw[t.HeaderLen:kids[2].Offset],
		Raw:          t.Raw,
	}, nil
}

// IntegrityRecord selects text EF 0003 and reads its 336 bytes, as myna-go
// does (docs/card.md §4.2). It needs the PIN or either code (§5.3).
func (c *Client) IntegrityRecord() (*IntegrityRecord, error) {
	b, err := c.readEF(EFTextIntegrity, IntegrityRecordLen)
	if err != nil {
		return nil, fmt.Errorf("reading integrity record: %w", err)
	}
	r, err := ParseIntegrityRecord(b)
	if err != nil {
		return nil, fmt.Errorf("reading integrity record: %w", err)
	}
	return r, nil
}

// CVCertificateLen is the size of the text applet's EF 0004.
const CVCertificateLen = 568

// CVCertificate is a card-verifiable certificate, EF 0004 of the text and
// card-face applets (docs/card.md §3.2, §3.3): 7F 21 holding the body
// 5F 4E (16-byte issuer key ID, 16-byte subject key ID, RSA key 90 / 91)
// and the signature 5F 37.
type CVCertificate struct {
	IssuerKeyID  []byte
	SubjectKeyID []byte
	PublicKey    *rsa.PublicKey
	Body         []byte // the 5F 4E value (297 bytes): what the CA signs
	Signature    []byte // the 5F 37 value
	Raw          []byte // the 7F 21 TLV
}

// ParseCVCertificate decodes a card-verifiable certificate. It checks the
// shape of docs/card.md §3.2: a 2048-bit modulus and a 256-byte signature.
// The signature needs the CA's key, which is not on the card; see
// CheckSignature.
func ParseCVCertificate(b []byte) (*CVCertificate, error) {
	cert, err := parseCVCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("parsing card-verifiable certificate: %w", err)
	}
	return cert, nil
}

func parseCVCertificate(b []byte) (*CVCertificate, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != TagCVCert {
		return nil, fmt.Errorf("%w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagCVCert)
	}
	kids, err := children(t, 0, TagCVBody, TagCVSig)
	if err != nil {
		return nil, err
	}
	body := kids[0].Value
	if len(body) < 32 {
		return nil, fmt.Errorf("%w: certificate body of %d bytes, want 32 bytes of key IDs and a key", ErrTLVInvalid, len(body))
	}
	pub, err := parseRSAKey(body[32:])
	if err != nil {
		return nil, fmt.Errorf("certificate body: %w", err)
	}
	if len(kids[1].Value) != 256 {
		return nil, fmt.Errorf("%w: certificate signature of %d bytes, want 256", ErrTLVInvalid, len(kids[1].Value))
	}
	return &CVCertificate{
		IssuerKeyID:  body[:16:16],
		SubjectKeyID: body[16:32:32],
		PublicKey:    pub,
		Body:         body,
		Signature:    kids[1].Value,
		Raw:          t.Raw,
	}, nil
}

// ErrCVSignature reports a card-verifiable certificate whose signature does
// not verify with the CA key given.
var ErrCVSignature = errors.New("card-verifiable certificate signature does not verify")

// CheckSignature verifies the certificate's 5F 37 signature with the CA's
// public key (obtained out of band: it is never on the card) as PKCS#1 v1.5
// with SHA-256 over the 5F 4E value, the two key IDs and the key. The
// spec does not say what the CA signs (docs/card.md §3.2); this is what
// myna-card verifies real test cards' certificates with (data.rs
// CardVerifiableCertificate::verify_with).
func (c *CVCertificate) CheckSignature(ca *rsa.PublicKey) error {
	if ca == nil {
		return errors.New("checking card-verifiable certificate: no CA key")
	}
	d := sha256.Sum256(c.Body)
	if err := rsa.VerifyPKCS1v15(ca, crypto.SHA256, d[:], c.Signature); err != nil {
		return fmt.Errorf("checking card-verifiable certificate: %w", ErrCVSignature)
	}
	return nil
}

// parseRSAKey decodes `90 L exponent 91 L modulus`, the RSA public key form
// of the card-info applets (docs/card.md §3.2 EF 0004, §3.3 DF24), and
// requires a 2048-bit modulus and an odd exponent that fits 31 bits.
func parseRSAKey(b []byte) (*rsa.PublicKey, error) {
	kids, err := ParseAll(b)
	if err != nil {
		return nil, fmt.Errorf("parsing RSA key: %w", err)
	}
	if len(kids) != 2 || kids[0].Tag != TagRSAExp || kids[1].Tag != TagRSAModulus {
		return nil, fmt.Errorf("%w: RSA key holds %s, want 90 91", ErrTLVInvalid, tagList(kids))
	}
	e, n := kids[0].Value, kids[1].Value
	if len(e) == 0 || len(e) > 4 || e[0] == 0 || e[len(e)-1]&1 == 0 || (len(e) == 4 && e[0] >= 0x80) {
		return nil, fmt.Errorf("%w: RSA exponent % X", ErrTLVInvalid, e)
	}
	if len(n) != 256 || n[0] < 0x80 {
		return nil, fmt.Errorf("%w: RSA modulus of %d bytes (first %s), want 2048 bits", ErrTLVInvalid, len(n), firstByte(n))
	}
	exp := 0
	for _, c := range e {
		exp = exp<<8 | int(c)
	}
	if exp < 3 {
		return nil, fmt.Errorf("%w: RSA exponent %d", ErrTLVInvalid, exp)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, nil
}

func firstByte(b []byte) string {
	if len(b) == 0 {
		return "none"
	}
	return fmt.Sprintf("%02X", b[0])
}

// Certificate selects EF 0004 of the current applet and reads its 568 bytes,
// as myna-go does for the text applet (docs/card.md §4.2). The card-face
// applet's EF 0004 has the same shape (§3.3). The file is free to read
// (§5.3, §5.4).
func (c *Client) Certificate() (*CVCertificate, error) {
	b, err := c.readEF(EFTextCert, CVCertificateLen)
	if err != nil {
		return nil, fmt.Errorf("reading card-verifiable certificate: %w", err)
	}
	cert, err := ParseCVCertificate(b)
	if err != nil {
		return nil, fmt.Errorf("reading card-verifiable certificate: %w", err)
	}
	return cert, nil
}

// ErrIntegrity reports an integrity record that does not match the files or
// whose signature does not verify.
var ErrIntegrity = errors.New("integrity check failed")

// CheckIntegrity checks the integrity record against what was read
// (docs/card.md §3.2 EF 0003): DF31 must be the SHA-256 of myNumberFile
// (the whole 17-byte EF 0001, filler included), DF32 the SHA-256 of
// facts.HashedPart(), and DF33 a PKCS#1 v1.5 SHA-256 signature over
// rec.Signed (DF31 and DF32) by cert's key. Failures wrap ErrIntegrity.
func CheckIntegrity(myNumberFile []byte, facts *Facts, rec *IntegrityRecord, cert *CVCertificate) error {
	if facts == nil || rec == nil || cert == nil || cert.PublicKey == nil {
		return errors.New("checking integrity: missing facts, record or certificate")
	}
	if h := sha256.Sum256(myNumberFile); !bytes.Equal(h[:], rec.MyNumberHash) {
		return fmt.Errorf("checking integrity: %w: DF31 is not the SHA-256 of the %d bytes of EF 0001", ErrIntegrity, len(myNumberFile))
	}
	if h := sha256.Sum256(facts.HashedPart()); !bytes.Equal(h[:], rec.FactsHash) {
		return fmt.Errorf("checking integrity: %w: DF32 is not the SHA-256 of EF 0002 from DF22 (offset %04X) to its end (%d bytes)%s",
			ErrIntegrity, facts.Offsets[0], len(facts.HashedPart()), diagnoseFactsHash(facts, rec.FactsHash))
	}
	h := sha256.Sum256(rec.Signed)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey, crypto.SHA256, h[:], rec.Signature); err != nil {
		return fmt.Errorf("checking integrity: %w: DF33 does not verify over DF31 and DF32 (%d bytes) with the EF 0004 key%s",
			ErrIntegrity, len(rec.Signed), diagnoseSignature(rec, cert))
	}
	return nil
}

// diagnoseFactsHash names another span of EF 0002 that the hash does
// cover, if any, so that a failure says how the card differs from the spec.
func diagnoseFactsHash(f *Facts, want []byte) string {
	hdr := f.Raw[:0]
	if h, err := ParseHeader(f.Raw); err == nil {
		hdr = f.Raw[h.HeaderLen:]
	}
	for _, alt := range []struct {
		name string
		b    []byte
	}{{"the whole FF 20 TLV", f.Raw}, {"the FF 20 value with DF21", hdr}} {
		if h := sha256.Sum256(alt.b); bytes.Equal(h[:], want) {
			return "; it is the SHA-256 of " + alt.name
		}
	}
	return ""
}

// diagnoseSignature checks whether DF33 verifies over the file from its
// first byte instead (FF 30 header included), the other reading of "the
// bytes before DF33".
func diagnoseSignature(rec *IntegrityRecord, cert *CVCertificate) string {
	h, err := ParseHeader(rec.Raw)
	if err != nil || h.HeaderLen+len(rec.Signed) > len(rec.Raw) {
		return ""
	}
	d := sha256.Sum256(rec.Raw[:h.HeaderLen+len(rec.Signed)])
	if rsa.VerifyPKCS1v15(cert.PublicKey, crypto.SHA256, d[:], rec.Signature) == nil {
		return "; it verifies over the file from its first byte, FF 30 header included"
	}
	return ""
}

// Integrity is everything VerifyIntegrity read.
type Integrity struct {
	MyNumber     MyNumber
	MyNumberFile []byte // the 17 bytes of EF 0001
	Facts        *Facts
	Record       *IntegrityRecord
	Certificate  *CVCertificate
}

// VerifyIntegrity reads text EFs 0001, 0002, 0003 and 0004 and checks the
// integrity record against the others (CheckIntegrity). Reading 0001 and
// 0002 needs the card-info PIN verified since the text applet was selected
// (one code opens only one of them, §5.3). The result is returned with a
// non-nil error too when the files could be read but do not match.
func (c *Client) VerifyIntegrity() (*Integrity, error) {
	var in Integrity
	var err error
	if in.MyNumber, in.MyNumberFile, err = c.readMyNumber(); err != nil {
		return nil, fmt.Errorf("verifying integrity: %w", err)
	}
	if in.Facts, err = c.ReadFacts(); err != nil {
		return nil, fmt.Errorf("verifying integrity: %w", err)
	}
	if in.Record, err = c.IntegrityRecord(); err != nil {
		return nil, fmt.Errorf("verifying integrity: %w", err)
	}
	if in.Certificate, err = c.Certificate(); err != nil {
		return nil, fmt.Errorf("verifying integrity: %w", err)
	}
	if err := CheckIntegrity(in.MyNumberFile, in.Facts, in.Record, in.Certificate); err != nil {
		return &in, fmt.Errorf("verifying integrity: %w", err)
	}
	return &in, nil
}

// The basic-info tags and size (docs/card.md §3.2 EF 0005).
const (
	TagBasicInfoVersion Tag = 0xDF41
	TagBasicInfoKeyID   Tag = 0xDF42
	TagBasicInfoData    Tag = 0xDF43

	BasicInfoLen = 256
)

// BasicInfo is text EF 0005: FF 40 82 00 9F holding DF41 04 (spec version,
// extended Lc/Le flag, vendor, option; 01 03 0E 01 seen), DF42 10 (key ID)
// and DF43 82 00 80 (32 data bytes and 96×FF), docs/card.md §3.2.
type BasicInfo struct {
	Info  []byte // DF41, 4 bytes
	KeyID []byte // DF42, 16 bytes
	Data  []byte // DF43, 128 bytes
	Raw   []byte // the 256 bytes read
}

// ParseBasicInfo decodes text EF 0005.
func ParseBasicInfo(b []byte) (*BasicInfo, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("parsing basic info: %w", err)
	}
	if t.Tag != TagBasicInfo {
		return nil, fmt.Errorf("parsing basic info: %w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagBasicInfo)
	}
	kids, err := children(t, 0, TagBasicInfoVersion, TagBasicInfoKeyID, TagBasicInfoData)
	if err != nil {
		return nil, fmt.Errorf("parsing basic info: %w", err)
	}
	for i, n := range []int{4, 16, 128} {
		if len(kids[i].Value) != n {
			return nil, fmt.Errorf("parsing basic info: %w: %v of %d bytes, want %d", ErrTLVInvalid, kids[i].Tag, len(kids[i].Value), n)
		}
	}
	return &BasicInfo{Info: kids[0].Value, KeyID: kids[1].Value, Data: kids[2].Value, Raw: b}, nil
}

// BasicInfo selects text EF 0005 and reads 256 bytes in one READ BINARY
// (Le=00), as myna-go does; it insists on getting all 256 (docs/card.md
// §3.2, §4.2). The file is free to read.
func (c *Client) BasicInfo() (*BasicInfo, error) {
	if err := c.SelectEF(EFTextBasicInfo); err != nil {
		return nil, fmt.Errorf("reading basic info: %w", err)
	}
	b, err := c.w.Do(apduclient.Command{INS: 0xB0, Ne: BasicInfoLen})
	if err != nil {
		return nil, fmt.Errorf("reading basic info: %w", err)
	}
	if len(b) != BasicInfoLen {
		return nil, fmt.Errorf("reading basic info: card returned %d bytes for Le 00, want %d", len(b), BasicInfoLen)
	}
	info, err := ParseBasicInfo(b)
	if err != nil {
		return nil, fmt.Errorf("reading basic info: %w", err)
	}
	return info, nil
}
