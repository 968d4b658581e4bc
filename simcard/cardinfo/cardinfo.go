// Package cardinfo builds the My Number Card's applets other than JPKI on the
// simulator side (docs/card.md §2, §3.2–§3.6, §5): 券面事項入力補助AP (the
// card-info input support applet, "text"), 券面AP (the card-face applet,
// "visual"), 住基AP (resident registry), 共通カードAP (common card) and the
// MF-level data objects. Applets are data for the generic chip (package
// card): this package only decides which files they hold, what is in them
// and who may read them.
//
// The issuer runs Build at issuance; the municipal office runs Refresh after
// a change of the four facts, which rewrites and re-signs the text applet,
// the face applet and the integrity record together so that they never
// disagree.
//
// The client that reads these applets, harness/cardinfoclient, is written
// on its own from the same documents, so that the card and its client
// cannot share a misreading (docs/architecture.md).
package cardinfo

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/rules"
)

// Applets is the set of card-info applets; it satisfies simcard.AppletSet.
//
// It holds the simulator's two card-info CAs (the "card-verifiable
// certificate" roots that are never on the card, one per 券面 applet, like
// the production 5000033 and 5000023) and the issuer key they certify in EF
// 0004 of both applets, which signs the applets' records (myna-card: the
// integrity record is signed "by the key certified in EF 0004 — the same
// issuer key that signs the 券面事項確認AP records"). It is safe for
// concurrent use.
type Applets struct {
	keys     keypool.Source
	textCA   *rsa.PrivateKey
	visualCA *rsa.PrivateKey
	issuer   *rsa.PrivateKey
}

// New returns the card-info applets drawing all keys from keys (nil: the
// process-wide pool, keypool.Shared).
func New(keys keypool.Source) (*Applets, error) {
	if keys == nil {
		keys = keypool.Shared()
	}
	return NewWithKeys(keys, keys)
}

// NewWithKeys takes the CA and issuer keys from caKeys and each card's own
// keys from cardKeys, so that the two never coincide when both are pools.
func NewWithKeys(caKeys, cardKeys keypool.Source) (*Applets, error) {
	a := &Applets{keys: cardKeys}
	for _, k := range []**rsa.PrivateKey{&a.textCA, &a.visualCA, &a.issuer} {
		key, err := caKeys.Key()
		if err != nil {
			return nil, fmt.Errorf("creating card-info CA keys: %w", err)
		}
		*k = key
	}
	return a, nil
}

// TextCA is the public key that signs the text applet's EF 0004 certificate.
func (a *Applets) TextCA() *rsa.PublicKey { return &a.textCA.PublicKey }

// VisualCA is the public key that signs the face applet's EF 0004 certificate.
func (a *Applets) VisualCA() *rsa.PublicKey { return &a.visualCA.PublicKey }

// Issuer is the public key certified in EF 0004 of both 券面 applets.
func (a *Applets) Issuer() *rsa.PublicKey { return &a.issuer.PublicKey }

// Build returns the four applets for a new card (simcard.AppletSet).
func (a *Applets) Build(p profile.Profile, salt func() []byte) ([]*card.DF, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("building card-info applets: %w", err)
	}
	exp := CardExpiry(p)
	text, err := a.buildText(p, exp, salt)
	if err != nil {
		return nil, fmt.Errorf("building 券面事項入力補助AP: %w", err)
	}
	visual, err := a.buildVisual(p, exp, salt)
	if err != nil {
		return nil, fmt.Errorf("building 券面AP: %w", err)
	}
	common, err := a.buildCommon(p, exp, salt)
	if err != nil {
		return nil, fmt.Errorf("building 共通カードAP: %w", err)
	}
	return []*card.DF{text, visual, buildJuki(p, salt), common}, nil
}

// Refresh rewrites everything that depends on the profile in an issued
// card's state (simcard.AppletSet): the text applet's My Number, four facts
// and integrity record, the face applet's age record, card face and My Number
// image, the 照合番号 and birth-date keys derived from the facts (their
// counters are kept unless the value changes), the expiry in the common
// applet and at MF level. Records are re-signed, and the EF 0004
// certificates re-issued, with this Applets' keys. The PINs the holder set
// (0011, 001C) are never touched, so p.PINs is ignored (the office does not
// know them). On error the state is left as it was. Call it inside
// (*card.Card).Modify, which also clears the volatile state.
func (a *Applets) Refresh(st *card.State, p profile.Profile) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("refreshing card-info applets: %w", err)
	}
	text, visual, common := st.DF(TextAID), st.DF(VisualAID), st.DF(CommonAID)
	switch {
	case text == nil:
		return fmt.Errorf("refreshing card-info applets: the card has no 券面事項入力補助AP")
	case visual == nil:
		return fmt.Errorf("refreshing card-info applets: the card has no 券面AP")
	}
	// Work on copies so a failure half way leaves st untouched.
	text, visual = cloneDF(text), cloneDF(visual)
	exp := CardExpiry(p)
	if err := a.writeText(text, p, exp); err != nil {
		return fmt.Errorf("refreshing 券面事項入力補助AP: %w", err)
	}
	if err := a.writeVisual(visual, p, exp); err != nil {
		return fmt.Errorf("refreshing 券面AP: %w", err)
	}
	var commonRec []byte
	if common != nil {
		var err error
		if commonRec, err = refreshCommonRecord(common, exp); err != nil {
			return fmt.Errorf("refreshing 共通カードAP: %w", err)
		}
	}
	for i, d := range st.DFs {
		switch string(d.AID) {
		case string(TextAID):
			st.DFs[i] = text
		case string(VisualAID):
			st.DFs[i] = visual
		}
	}
	if commonRec != nil {
		common.File(EFCommonInfo).Records[0] = commonRec
	}
	if _, ok := st.DataObjects[DOExpiry]; ok {
		st.DataObjects[DOExpiry] = []byte(ymd(exp))
	}
	return nil
}

// CardExpiry is the card's own expiry for a profile, as simcard.Issue
// computes it (docs/lifecycle-rules.md §3).
func CardExpiry(p profile.Profile) time.Time {
	return rules.CardExpiry(p.Holder.BirthDate.Time, p.IssueDate.Time)
}

// cloneDF copies a DF deeply enough that rewriting file data and PIN values
// does not touch the original.
func cloneDF(d *card.DF) *card.DF {
	c := *d
	c.Files = make([]*card.File, len(d.Files))
	for i, f := range d.Files {
		nf := *f
		if f.PIN != nil {
			pin := *f.PIN
			nf.PIN = &pin
		}
		c.Files[i] = &nf
	}
	return &c
}

// MaxEF is the largest transparent EF the applets write: READ BINARY with
// a 15-bit offset reaches no further (ISO/IEC 7816-4 7.2.3; docs/card.md §7),
// and the 2-byte DF21 offsets could not name anything beyond it either.
const MaxEF = 0x7FFF

// put replaces the data of a transparent EF, adding the EF if it is absent.
func put(df *card.DF, id uint16, data []byte, read card.Access) error {
	if len(data) > MaxEF {
		return fmt.Errorf("writing EF %04X: %d bytes, more than the %d a READ BINARY offset reaches (name or address too long)", id, len(data), MaxEF)
	}
	if f := df.File(id); f != nil {
		f.Data, f.Read = data, read
		return nil
	}
	df.AddBinary(id, data, read)
	return nil
}

// setCode sets a PIN to value only if it differs, so a refresh that leaves a
// derived code unchanged does not restore a spent try counter.
func setCode(df *card.DF, id uint16, value string) error {
	f := df.File(id)
	if f == nil || f.PIN == nil {
		return fmt.Errorf("updating key %04X: no such PIN", id)
	}
	probe := card.PIN{Salt: f.PIN.Salt, Max: f.PIN.Max}
	probe.SetPIN(value)
	if string(probe.Hash) != string(f.PIN.Hash) {
		f.PIN.SetPIN(value)
	}
	return nil
}

// ownKey returns the private key of a DF's key IEF.
func ownKey(df *card.DF, id uint16) (*rsa.PrivateKey, error) {
	f := df.File(id)
	if f == nil || f.Key == nil {
		return nil, fmt.Errorf("reading key %04X: no such key", id)
	}
	return f.Key.Private()
}

// KeyID is a 16-byte key identifier as the 券面 applets write them: seven
// ASCII digits, 08 05, three ASCII digits, four zero bytes (myna-card
// data.rs: "6000024" 08 05 "001" 00 00 00 00; production identifiers begin
// with 5, the JPKI test hierarchy's with 6).
func KeyID(number, group string) []byte {
	id := make([]byte, 16)
	copy(id, fmt.Sprintf("%-7.7s", number))
	id[7], id[8] = 0x08, 0x05
	copy(id[9:12], fmt.Sprintf("%-3.3s", group))
	return id
}

// Key identifiers of the simulator's card-info hierarchy (test hierarchy:
// leading 6).
var (
	textCAKeyID   = KeyID("6000033", "001")
	visualCAKeyID = KeyID("6000023", "001")
)

// issuerKeyID names the issuer key after the issuing municipality, as on real
// cards where the certified key is "the municipality's own" (myna-card).
func issuerKeyID(municipality string) []byte { return KeyID("6"+municipality, "001") }

// PublicKeyTLV writes an RSA public key as the card does: 90 exponent, 91
// modulus of 256 bytes (docs/card.md §3.2 EF 0004; myna-card data.rs).
func PublicKeyTLV(pub *rsa.PublicKey) []byte {
	e := binary.BigEndian.AppendUint32(nil, uint32(pub.E))
	for len(e) > 1 && e[0] == 0 {
		e = e[1:]
	}
	n := pub.N.FillBytes(make([]byte, (pub.N.BitLen()+7)/8))
	return append(TLV(0x90, e), TLV(0x91, n)...)
}

// CVCertificate is EF 0004 of a 券面 applet: 7F21 { 5F4E { issuer key ID,
// subject key ID, 90/91 public key }, 5F37 signature }, the signature PKCS#1
// v1.5 with SHA-256 over the 297-byte 5F4E value by the CA key (docs/card.md
// §3.2; myna-card data.rs). An RSA-2048 key gives exactly 568 bytes.
func CVCertificate(ca *rsa.PrivateKey, caID, subjectID []byte, subject *rsa.PublicKey) ([]byte, error) {
	body := append(append(append([]byte(nil), caID...), subjectID...), PublicKeyTLV(subject)...)
	sig, err := signSHA256(ca, body)
	if err != nil {
		return nil, fmt.Errorf("signing card-verifiable certificate: %w", err)
	}
	return TLV(0x7F21, append(TLV(0x5F4E, body), TLV(0x5F37, sig)...)), nil
}

func signSHA256(k *rsa.PrivateKey, msg []byte) ([]byte, error) {
	h := sha256.Sum256(msg)
	return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
}

// sexCode is the sex as the 券面 applets store it: JIS X 0303 '1' male,
// '2' female, '9' not applicable (docs/card.md §3.2).
func sexCode(s profile.Sex) []byte {
	switch s {
	case profile.Male:
		return []byte("1")
	case profile.Female:
		return []byte("2")
	}
	return []byte("9")
}

// cityCode is the 5-digit municipality code the card writes (共通AP record,
// 券面AP DF34): the 6-digit local government code without its check digit.
func cityCode(p profile.Profile) string { return p.Municipality[:5] }

// randomDigits turns random bytes into n decimal digits.
func randomDigits(salt func() []byte, n int) string {
	out := make([]byte, 0, n)
	for len(out) < n {
		for _, b := range randomBytes(salt, 16) {
			if b < 250 && len(out) < n { // 250 = 25×10: no bias
				out = append(out, '0'+b%10)
			}
		}
	}
	return string(out)
}

// randomBytes draws n bytes from the salt source.
func randomBytes(salt func() []byte, n int) []byte {
	var out []byte
	for len(out) < n {
		s := salt()
		if len(s) == 0 {
			s = []byte{0} // a broken source must not hang issuance
		}
		out = append(out, s...)
	}
	return out[:n]
}

func filler(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 0xFF
	}
	return b
}

// appletKeys is the persistent form of the CA and issuer keys (PKCS#1 DER).
type appletKeys struct {
	TextCA   []byte `json:"text_ca"`
	VisualCA []byte `json:"visual_ca"`
	Issuer   []byte `json:"issuer"`
}

// MarshalKeys returns the CA and issuer keys, so that a simulator restarted
// from its state directory re-signs records with the keys its cards' EF 0004
// certificates name.
func (a *Applets) MarshalKeys() ([]byte, error) {
	b, err := json.Marshal(appletKeys{
		TextCA:   x509.MarshalPKCS1PrivateKey(a.textCA),
		VisualCA: x509.MarshalPKCS1PrivateKey(a.visualCA),
		Issuer:   x509.MarshalPKCS1PrivateKey(a.issuer),
	})
	if err != nil {
		return nil, fmt.Errorf("encoding card-info keys: %w", err)
	}
	return b, nil
}

// LoadKeys replaces the CA and issuer keys with ones MarshalKeys wrote.
func (a *Applets) LoadKeys(b []byte) error {
	var k appletKeys
	if err := json.Unmarshal(b, &k); err != nil {
		return fmt.Errorf("decoding card-info keys: %w", err)
	}
	var keys [3]*rsa.PrivateKey
	for i, der := range [][]byte{k.TextCA, k.VisualCA, k.Issuer} {
		key, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return fmt.Errorf("decoding card-info keys: %w", err)
		}
		keys[i] = key
	}
	a.textCA, a.visualCA, a.issuer = keys[0], keys[1], keys[2]
	return nil
}
