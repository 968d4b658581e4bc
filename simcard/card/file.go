// Package card models the chip of the simulated My Number Card: application
// DFs holding elementary files, PIN objects and private keys, the volatile
// security state, and the ISO/IEC 7816-4 commands the real card answers
// (docs/card.md §3–§5). Applets are data: what differs between the JPKI
// applet and the card-info applets is which files they hold and who may read
// them, not the command semantics.
package card

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
)

// FileKind is the structure of an elementary file.
type FileKind uint8

// Kinds of elementary file (ISO/IEC 7816-4 7.1; JICSAP names PIN and key
// files "IEF", internal EFs that no READ reaches).
const (
	Binary  FileKind = iota + 1 // transparent EF, READ BINARY
	Record                      // linear record EF, READ RECORD
	PINFile                     // PIN IEF: VERIFY, CHANGE REFERENCE DATA
	KeyFile                     // private-key IEF: COMPUTE DIGITAL SIGNATURE, INTERNAL AUTHENTICATE
	Opaque                      // selectable, but neither readable nor usable (e.g. MF 001E)
)

// Access is an access condition. The zero value is "always"; AnyOf lists PIN
// files of the same DF of which any one verified grants access.
type Access struct {
	Never bool     `json:"never,omitempty"`
	AnyOf []uint16 `json:"any_of,omitempty"`
}

// Free is the access condition "always".
var Free = Access{}

// NeedPIN returns an access condition satisfied by any of the given PINs.
func NeedPIN(ids ...uint16) Access { return Access{AnyOf: ids} }

// Charset names the characters a PIN may hold.
type Charset string

// PIN character sets (docs/card.md §3.1, §3.2; docs/lifecycle-rules.md §1).
const (
	Digits     Charset = "digits"      // 0–9
	UpperAlnum Charset = "upper-alnum" // A–Z and 0–9
)

// PINFormat is the rule a new PIN value must follow.
type PINFormat struct {
	Min     int     `json:"min"`
	Max     int     `json:"max"`
	Charset Charset `json:"charset"`
}

// Check reports why value does not follow f, or nil: "PIN must be 4
// digits". Neither the value nor its offending character is named: errors
// end up in logs.
func (f PINFormat) Check(value []byte) error {
	if len(value) < f.Min || len(value) > f.Max {
		return fmt.Errorf("PIN must be %s", f)
	}
	for _, b := range value {
		switch {
		case b >= '0' && b <= '9':
		case f.Charset == UpperAlnum && b >= 'A' && b <= 'Z':
		default:
			return fmt.Errorf("PIN must be %s", f)
		}
	}
	return nil
}

// String says the format as a person would: "4 digits", "6 to 16
// upper-case letters (A-Z) or digits".
func (f PINFormat) String() string {
	what := "digits"
	if f.Charset == UpperAlnum {
		what = "upper-case letters (A-Z) or digits"
	}
	if f.Min == f.Max {
		return fmt.Sprintf("%d %s", f.Min, what)
	}
	return fmt.Sprintf("%d to %d %s", f.Min, f.Max, what)
}

// PIN is a PIN object: a salted SHA-256 of the value (the state directory
// never holds a PIN in clear), its retry counter and its format.
type PIN struct {
	Salt   []byte    `json:"salt"`
	Hash   []byte    `json:"hash"`
	Max    int       `json:"max"`
	Left   int       `json:"left"`
	Format PINFormat `json:"format"`
	// Fixed marks reference data derived from what is printed on the card
	// (照合番号A/B, the birth-date key): the holder cannot change it.
	Fixed bool `json:"fixed,omitempty"`
}

func (p *PIN) digest(value []byte) []byte {
	h := sha256.New()
	h.Write(p.Salt)
	h.Write(value)
	return h.Sum(nil)
}

// matches compares in constant time (the comparison must not leak how many
// leading characters were right).
func (p *PIN) matches(value []byte) bool {
	if pinCompared != nil {
		pinCompared()
	}
	return subtle.ConstantTimeCompare(p.digest(value), p.Hash) == 1
}

// pinCompared, set only by tests, runs before every PIN comparison, so a
// test can observe the order of storing the counter and comparing (VERIFY's
// anti-tearing order, docs/card.md §5.5).
var pinCompared func()

// Key is a private key IEF. Its private part never leaves the card through
// any command.
type Key struct {
	// PKCS1 is the PKCS#1 DER of the RSA private key.
	PKCS1 []byte `json:"pkcs1"`
	// Use is the access condition to sign with the key.
	Use Access `json:"use"`
	// InternalAuth marks the one key that answers INTERNAL AUTHENTICATE
	// (共通カードAP 0019, docs/card.md §4.5).
	InternalAuth bool `json:"internal_auth,omitempty"`

	priv *rsa.PrivateKey
}

// NewKey wraps an RSA private key usable under the given access condition.
func NewKey(priv *rsa.PrivateKey, use Access) *Key {
	return &Key{PKCS1: x509.MarshalPKCS1PrivateKey(priv), Use: use, priv: priv}
}

// Private returns the key, decoding it once.
func (k *Key) Private() (*rsa.PrivateKey, error) {
	if k.priv == nil {
		p, err := x509.ParsePKCS1PrivateKey(k.PKCS1)
		if err != nil {
			return nil, fmt.Errorf("decoding private key: %w", err)
		}
		k.priv = p
	}
	return k.priv, nil
}

// File is an elementary file of a DF.
type File struct {
	ID      uint16   `json:"id"`
	Kind    FileKind `json:"kind"`
	Data    []byte   `json:"data,omitempty"`
	Records [][]byte `json:"records,omitempty"`
	Read    Access   `json:"read"`
	PIN     *PIN     `json:"pin,omitempty"`
	Key     *Key     `json:"key,omitempty"`
}

// SFI returns the short EF identifier of the file, or 0 if it has none.
// Every EF of the card lies in 0001–001E, so every one has one (docs/card.md §3).
func (f *File) SFI() byte {
	if f.ID >= 1 && f.ID <= 0x1E {
		return byte(f.ID)
	}
	return 0
}

// DF is an application DF (an "AP") selected by its AID.
type DF struct {
	Name  string  `json:"name"`
	AID   []byte  `json:"aid"`
	Files []*File `json:"files"`
	// DefaultKey is the key used by COMPUTE DIGITAL SIGNATURE with P2=00 (the
	// 券面 APs' own key, docs/card.md §4.5); 0 when the DF has none.
	DefaultKey uint16 `json:"default_key,omitempty"`
}

// File returns the EF with the given ID, or nil.
func (d *DF) File(id uint16) *File {
	for _, f := range d.Files {
		if f.ID == id {
			return f
		}
	}
	return nil
}

// AddBinary adds a transparent EF.
func (d *DF) AddBinary(id uint16, data []byte, read Access) *File {
	f := &File{ID: id, Kind: Binary, Data: data, Read: read}
	d.Files = append(d.Files, f)
	return f
}

// AddRecords adds a linear record EF.
func (d *DF) AddRecords(id uint16, records [][]byte, read Access) *File {
	f := &File{ID: id, Kind: Record, Records: records, Read: read}
	d.Files = append(d.Files, f)
	return f
}

// AddOpaque adds EFs that exist but that no READ reaches (6981): files an
// EF scan of a real card finds whose content is not public.
func (d *DF) AddOpaque(ids ...uint16) {
	for _, id := range ids {
		d.Files = append(d.Files, &File{ID: id, Kind: Opaque, Read: Access{Never: true}})
	}
}

// AddKey adds a private-key IEF.
func (d *DF) AddKey(id uint16, k *Key) *File {
	f := &File{ID: id, Kind: KeyFile, Key: k, Read: Access{Never: true}}
	d.Files = append(d.Files, f)
	return f
}

// AddPIN adds a PIN IEF with the given value and retry limit. The salt comes
// from the card's random source so equal PINs hash differently.
func (d *DF) AddPIN(id uint16, value string, max int, format PINFormat, salt []byte) *File {
	p := &PIN{Salt: salt, Max: max, Left: max, Format: format}
	p.Hash = p.digest([]byte(value))
	f := &File{ID: id, Kind: PINFile, PIN: p, Read: Access{Never: true}}
	d.Files = append(d.Files, f)
	return f
}

// SetPIN replaces the value of a PIN and restores its counter (the municipal
// office's re-set, docs/lifecycle-rules.md §1).
func (p *PIN) SetPIN(value string) {
	p.Hash = p.digest([]byte(value))
	p.Left = p.Max
}
