package cardinfoclient

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/png"
)

// Code is a 照合番号: a MyNumber (照合番号A) or a CodeB. Both open the card
// face (docs/card.md §3.3, §5.4).
type Code interface {
	fmt.Formatter
	key(a Applet) Key
}

func (MyNumber) key(a Applet) Key {
	if a == VisualAP {
		return VisualCodeA
	}
	return TextCodeA
}

func (CodeB) key(a Applet) Key {
	if a == VisualAP {
		return VisualCodeB
	}
	return TextCodeB
}

func codeValue(c Code) PIN {
	switch v := c.(type) {
	case MyNumber:
		return PIN(v)
	case CodeB:
		return PIN(v)
	}
	return ""
}

// The tags inside card-face EF 0002 (docs/card.md §3.3).
const (
	TagFaceOffsets      Tag = 0xDF21
	TagFaceBirth        Tag = 0xDF22
	TagFaceSex          Tag = 0xDF23
	TagFacePublicKey    Tag = 0xDF24
	TagFaceNameImage    Tag = 0xDF25
	TagFaceAddressImage Tag = 0xDF26
	TagFacePhoto        Tag = 0xDF27
	TagFaceSignature    Tag = 0xDF28
	TagFaceExpiry       Tag = 0xDF29
	TagFaceCodeImage    Tag = 0xDF2A
)

var faceTags = []Tag{TagFaceOffsets, TagFaceBirth, TagFaceSex, TagFacePublicKey, TagFaceNameImage,
	TagFaceAddressImage, TagFacePhoto, TagFaceSignature, TagFaceExpiry, TagFaceCodeImage}

// Face is card-face EF 0002: what is printed on the card, as data.
type Face struct {
	Offsets           []int // DF21, 2-byte big-endian entries
	BirthDate         Date  // DF22
	Sex               Sex   // DF23
	PublicKey         *rsa.PublicKey
	NameImage         []byte // DF25, PNG
	AddressImage      []byte // DF26, PNG
	Photo             []byte // DF27, JPEG 2000
	Signature         []byte // DF28
	Expiry            Date   // DF29: the card's expiry
	SecurityCodeImage []byte // DF2A, PNG
	Raw               []byte // the FF 20 TLV

	starts []int    // where each object starts in Raw
	raws   [][]byte // each object as written
}

// ParseFace decodes card-face EF 0002 (docs/card.md §3.3): FF 20 holding
// DF21 to DF2A in order. It checks the dates, the sex code, the RSA key
// (90 / 91, 2048 bits), the PNG images and the JPEG 2000 photo.
func ParseFace(b []byte) (*Face, error) {
	f, err := parseFace(b)
	if err != nil {
		return nil, fmt.Errorf("parsing card face: %w", err)
	}
	return f, nil
}

func parseFace(b []byte) (*Face, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != TagFacts {
		return nil, fmt.Errorf("%w: tag %v, want %v", ErrTLVInvalid, t.Tag, TagFacts)
	}
	kids, err := children(t, 0, faceTags...)
	if err != nil {
		return nil, err
	}
	f := &Face{Raw: t.Raw}
	for _, k := range kids {
		f.starts = append(f.starts, k.Offset)
		f.raws = append(f.raws, k.Raw)
	}
	off := kids[0].Value
	if len(off)%2 != 0 {
		return nil, fmt.Errorf("%w: offset table DF21 of %d bytes, not 2-byte entries", ErrTLVInvalid, len(off))
	}
	for i := 0; i < len(off); i += 2 {
		f.Offsets = append(f.Offsets, int(off[i])<<8|int(off[i+1]))
	}
	if f.BirthDate, err = ParseDate(kids[1].Value); err != nil {
		return nil, fmt.Errorf("birth date DF22: %w", err)
	}
	if f.Sex, err = parseSex(kids[2].Value); err != nil {
		return nil, fmt.Errorf("DF23: %w", err)
	}
	if f.PublicKey, err = parseRSAKey(kids[3].Value); err != nil {
		return nil, fmt.Errorf("public key DF24: %w", err)
	}
	f.NameImage, f.AddressImage, f.Photo = kids[4].Value, kids[5].Value, kids[6].Value
	f.Signature, f.SecurityCodeImage = kids[7].Value, kids[9].Value
	if f.Expiry, err = ParseDate(kids[8].Value); err != nil {
		return nil, fmt.Errorf("expiry DF29: %w", err)
	}
	for _, img := range []struct {
		tag Tag
		b   []byte
	}{{TagFaceNameImage, f.NameImage}, {TagFaceAddressImage, f.AddressImage}, {TagFaceCodeImage, f.SecurityCodeImage}} {
		if err := CheckPNG(img.b); err != nil {
			return nil, fmt.Errorf("image %v: %w", img.tag, err)
		}
	}
	if err := CheckJPEG2000(f.Photo); err != nil {
		return nil, fmt.Errorf("photo DF27: %w", err)
	}
	if len(f.Signature) != 256 {
		return nil, fmt.Errorf("%w: signature DF28 of %d bytes, want 256", ErrTLVInvalid, len(f.Signature))
	}
	return f, nil
}

// CheckOffsets checks that every DF21 entry is where one of the face's
// objects starts, counted from the start of the file, in increasing order.
// The spec does not say which objects the table points at (docs/card.md
// §3.3), so ParseFace leaves this check to the caller.
func (f *Face) CheckOffsets() error {
	if len(f.Offsets) == 0 {
		return fmt.Errorf("checking card-face offsets: %w: empty DF21", ErrTLVInvalid)
	}
	prev := -1
	for i, o := range f.Offsets {
		if o <= prev {
			return fmt.Errorf("checking card-face offsets: %w: entry %d (%04X) does not increase", ErrTLVInvalid, i+1, o)
		}
		prev = o
		found := false
		for _, s := range f.starts[1:] {
			found = found || s == o
		}
		if !found {
			return fmt.Errorf("checking card-face offsets: %w: entry %d (%04X) is not where an object starts", ErrTLVInvalid, i+1, o)
		}
	}
	return nil
}

// Segments returns the three signed segments of the card face
// (docs/card.md §3.3): DF22–DF24, DF25–DF26 and DF27, each the objects as
// written, headers included.
func (f *Face) Segments() [3][]byte {
	if len(f.raws) != len(faceTags) {
		return [3][]byte{}
	}
	join := func(rs ...[]byte) []byte { return bytes.Join(rs, nil) }
	return [3][]byte{join(f.raws[1], f.raws[2], f.raws[3]), join(f.raws[4], f.raws[5]), join(f.raws[6])}
}

// faceDigestInfoPrefix is the DER DigestInfo header for SHA-256 with a
// 96-byte OCTET STRING: the card face signs its three segment digests in one
// DigestInfo (myna-card data.rs sha256_digest_info).
var faceDigestInfoPrefix = []byte{0x30, 0x71, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x60}

// ErrFaceSignature reports a card face whose DF28 does not verify.
var ErrFaceSignature = errors.New("card-face signature does not verify")

// CheckSignature verifies DF28 with the issuer key certified in the
// card-face applet's EF 0004 (read it with Client.Certificate while that
// applet is selected): PKCS#1 v1.5 over a SHA-256 DigestInfo whose digest is
// the three segment hashes concatenated (96 bytes). docs/card.md §3.3 says
// only "over SHA-256 of three segments"; the encoding is myna-card's, checked
// there against a real card's EF 0002. DF29 and DF2A are not signed.
func (f *Face) CheckSignature(issuer *rsa.PublicKey) error {
	if issuer == nil {
		return errors.New("checking card-face signature: no issuer key")
	}
	di := append([]byte(nil), faceDigestInfoPrefix...)
	for _, seg := range f.Segments() {
		h := sha256.Sum256(seg)
		di = append(di, h[:]...)
	}
	if err := rsa.VerifyPKCS1v15(issuer, 0, di, f.Signature); err != nil {
		return fmt.Errorf("checking card-face signature: %w", ErrFaceSignature)
	}
	return nil
}

// ReadFace reads card-face EF 0002 as a TLV (see ReadTLV) and decodes it
// (ParseFace). It needs 照合番号A or B verified since the card-face applet
// was selected (docs/card.md §5.4).
func (c *Client) ReadFace() (*Face, error) {
	b, err := c.ReadTLV(EFVisualFace)
	if err != nil {
		return nil, fmt.Errorf("reading card face: %w", err)
	}
	f, err := ParseFace(b)
	if err != nil {
		return nil, fmt.Errorf("reading card face: %w", err)
	}
	return f, nil
}

// FaceData verifies code in the card-face applet (EF 0013 for the My Number,
// EF 0012 for 照合番号B) and reads the card face, as `myna visual` does
// (docs/card.md §3.3, §4.2). The card-face applet must be selected.
func (c *Client) FaceData(code Code) (*Face, error) {
	if code == nil {
		return nil, errors.New("reading card face: no code")
	}
	if err := c.Verify(code.key(VisualAP), codeValue(code)); err != nil {
		return nil, fmt.Errorf("reading card face: %w", err)
	}
	return c.ReadFace()
}

var (
	pngSignature = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}
	jp2Signature = []byte{0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ', '\r', '\n', 0x87, '\n'}
	j2kCodestart = []byte{0xFF, 0x4F, 0xFF, 0x51} // SOC then SIZ
)

// ErrNotPNG and ErrNotJPEG2000 report an image that is not in the format the
// card face uses (docs/card.md §3.3).
var (
	ErrNotPNG      = errors.New("not a PNG image")
	ErrNotJPEG2000 = errors.New("not a JPEG 2000 image")
)

// CheckPNG checks that b starts with the PNG signature (ISO/IEC 15948
// clause 5.2) and a well-formed IHDR chunk.
func CheckPNG(b []byte) error {
	if !bytes.HasPrefix(b, pngSignature) {
		return fmt.Errorf("checking PNG: %w: starts % X", ErrNotPNG, b[:min(len(b), len(pngSignature))])
	}
	if _, err := png.DecodeConfig(bytes.NewReader(b)); err != nil {
		return fmt.Errorf("checking PNG: %w: %w", ErrNotPNG, err)
	}
	return nil
}

// CheckJPEG2000 checks that b starts with the JP2 signature box (ISO/IEC
// 15444-1 annex I.5.1) or a raw codestream's SOC and SIZ markers (annex A).
func CheckJPEG2000(b []byte) error {
	if bytes.HasPrefix(b, jp2Signature) || bytes.HasPrefix(b, j2kCodestart) {
		return nil
	}
	return fmt.Errorf("checking JPEG 2000: %w: starts % X", ErrNotJPEG2000, b[:min(len(b), len(jp2Signature))])
}
