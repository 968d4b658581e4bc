// Package cardinfo_test drives the card's applets other than JPKI — the
// card-info input support applet (券面事項入力補助AP), the card-face applet
// (券面AP), the resident-registry and common applets and the MF level — with
// raw APDUs built here from docs/card.md §2–§5, through the target's
// transport (sim, vpcd or pcsc). Every byte the suite sends or checks comes
// from the spec, from the card itself or from the card's profile, never from
// the simulator's encoder.
//
// Two kinds of card (docs/physical-cards.md, "What runs"):
//
//   - the card under test (onCard): the physical card the run names, or
//     on a simulated target a card of the default profile treated as one
//     whose values are unknown. Specs on it check what holds on any card — the
//     structure and TLV of every object, lengths and status words, the My
//     Number's check digit, the facts of one applet against another's —
//     with the secrets the run was given (the card-info PIN, the security
//     code) and those read from the card itself (the My Number is 照合番号A,
//     the birth date opens the card face). They never look at a value only
//     the simulator knows, and their failure messages name what differs,
//     never the holder's data;
//   - a card the simulator's office issues from a known profile (open):
//     sim-only specs that compare with the profile's values, the office's
//     changes and the applets' PINs a physical card's holder does not give.
package cardinfo_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	hapdu "github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestCardInfo(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Card-info, card-face, resident-registry and common applets")
}

// The run ends with one line: specs run, passed, skipped and why.
var _ = runsummary.Register("Card-info, card-face, resident-registry and common applets")

// AIDs and file identifiers, from docs/card.md §2 and §3.
const (
	aidJPKI   = "D392F000260100000001"
	aidText   = "D3921000310001010408"
	aidVisual = "D3921000310001010402"
	aidJuki   = "D3921000310001010401"
	aidCommon = "D3921000310001010100"
)

// tgt is the physical card the run names; nil on a simulated target,
// where each spec has a card of its own from the world's office.
var tgt *target.Target

var _ = BeforeSuite(func() { tgt = framework.OpenPhysicalTarget() })

var _ = BeforeEach(func() {
	if tgt != nil {
		tgt.Guard()
	}
})

// session is a card under test through a traced transport, with what its
// holder knows.
type session struct {
	t harness.Transport
	// p is the profile a world card was issued from, for the specs that
	// compare with it; nil for the card under test (onCard), whose values
	// only the card itself knows.
	p      *profile.Profile
	expiry time.Time // a world card's last day, by the suite's own rule
	w      *framework.World
	card   *framework.Card
	pins   target.PINs
	// securityCode is the code printed on the card ("" when not given).
	securityCode string
	// textCA and visualCA certify EF 0004 of the text and visual applets
	// of a world card: the trust anchors the suite is given.
	textCA, visualCA *rsa.PublicKey
}

// onCard opens the card under test: the physical card, reset, traced with
// the holder's personal data hidden; on a simulated target a card of the
// default profile from the world's office, treated the same way — its
// values unknown to the spec, its secrets the ones a holder gives.
func onCard() *session {
	GinkgoHelper()
	if tgt == nil {
		s := open(profile.Default())
		s.p = nil
		return s
	}
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
	Expect(harness.Reset(t)).To(Succeed())
	return &session{t: t, pins: tgt.PINs(), securityCode: framework.SecurityCode()}
}

// open has the world's office issue a card from p: for sim-only specs.
func open(p profile.Profile) *session {
	GinkgoHelper()
	w := framework.NewWorld(p.IssueDate.Add(10 * time.Hour))
	c, err := w.Office.IssueCard(p)
	Expect(err).NotTo(HaveOccurred())
	s := &session{p: &p, expiry: cardExpiry(p.Holder.BirthDate.Time, p.IssueDate.Time), w: w, card: c,
		pins: target.PINs{Auth: jpkiclient.PIN(p.PINs.Auth), Sign: jpkiclient.PIN(p.PINs.Sign), CardInfo: jpkiclient.PIN(p.PINs.CardInfo)}, securityCode: p.SecurityCode}
	s.textCA, s.visualCA = w.CardInfoCAs()
	s.insert()
	return s
}

// insert (re)opens the card in its reader, powered afresh.
func (s *session) insert() {
	GinkgoHelper()
	s.t = harness.Traced(s.w.Insert(s.card), ginkgotrace.ForSpec())
}

// cardInfoPIN is the card-info PIN the run was given.
func (s *session) cardInfoPIN() string { return string(s.pins.CardInfo) }

// cardExpiry is the last day of an adult's card: the tenth birthday after
// issuance (docs/card.md §6: "valid 10 years (to a birthday)").
func cardExpiry(birth, issued time.Time) time.Time {
	y := issued.Year()
	if !time.Date(y, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC).After(time.Date(y, issued.Month(), issued.Day(), 0, 0, 0, 0, time.UTC)) {
		y++
	}
	return time.Date(y+9, birth.Month(), birth.Day(), 0, 0, 0, 0, time.UTC)
}

// changeFacts records a change of the holder's facts at the municipal
// office, which takes the card out of its reader for it; the holder then
// puts it back.
func (s *session) changeFacts(edit func(f *profile.Facts)) {
	GinkgoHelper()
	f := s.p.Holder
	edit(&f)
	Expect(s.w.Office.ChangeFacts(s.card.ID, f)).To(Succeed())
	s.p.Holder = f
	s.insert()
}

// send transmits a command given as hex (spaces allowed) and returns the
// parsed response.
func (s *session) send(format string, args ...any) hapdu.Response {
	GinkgoHelper()
	cmd, err := hex.DecodeString(strings.ReplaceAll(fmt.Sprintf(format, args...), " ", ""))
	Expect(err).NotTo(HaveOccurred())
	raw, err := s.t.Transmit(cmd)
	Expect(err).NotTo(HaveOccurred())
	r, err := hapdu.ParseResponse(raw)
	Expect(err).NotTo(HaveOccurred())
	return r
}

func (s *session) selectAP(aid string) {
	GinkgoHelper()
	Expect(s.send("00 A4 04 0C 0A %s", aid)).To(HaveStatusWord(0x9000))
}

func (s *session) selectEF(fid string) {
	GinkgoHelper()
	Expect(s.send("00 A4 02 0C 02 %s", fid)).To(HaveStatusWord(0x9000))
}

// verify sends VERIFY of the PIN in EF fid (SELECT, then 00 20 00 80 Lc PIN).
// A 照合番号B the target's card refuses is never sent again in the run.
func (s *session) verify(fid, pin string) hapdu.Response {
	GinkgoHelper()
	s.selectEF(fid)
	r := s.send("00 20 00 80 %02X %X", len(pin), pin)
	if s.p == nil && pin == cardCodeB && r.SW != 0x9000 {
		codeBRefused = true
	}
	return r
}

// status sends the empty VERIFY that asks for the counter.
func (s *session) status(fid string) hapdu.Response {
	GinkgoHelper()
	s.selectEF(fid)
	return s.send("00 20 00 80")
}

// read selects EF fid and reads it whole with short READ BINARYs (Le 00,
// advancing by what comes back) until the card answers 6B00, as OpenSC does
// (docs/card.md §4.1, §7). A first answer other than 9000 is returned as is.
func (s *session) read(fid string) ([]byte, uint16) {
	GinkgoHelper()
	s.selectEF(fid)
	var out []byte
	for {
		r := s.send("00 B0 %04X 00", len(out))
		if r.SW == 0x6B00 && len(out) > 0 {
			return out, 0x9000
		}
		if r.SW != 0x9000 {
			return nil, r.SW
		}
		Expect(r.Data).NotTo(BeEmpty())
		out = append(out, r.Data...)
	}
}

func (s *session) mustRead(fid string) []byte {
	GinkgoHelper()
	b, sw := s.read(fid)
	Expect(sw).To(Equal(uint16(0x9000)), "READ BINARY of %s", fid)
	return b
}

// obj is one BER-TLV object, decoded by the suite's own reader.
type obj struct {
	tag   uint32
	value []byte
	raw   []byte
}

// parse reads one TLV (1–2 byte tag; short, 81, 82 lengths).
func parse(b []byte) (obj, []byte) {
	GinkgoHelper()
	Expect(len(b)).To(BeNumerically(">=", 2))
	i, tag := 1, uint32(b[0])
	if b[0]&0x1F == 0x1F {
		tag = tag<<8 | uint32(b[1])
		i = 2
	}
	n := int(b[i])
	i++
	switch n {
	case 0x81:
		n, i = int(b[i]), i+1
	case 0x82:
		n, i = int(b[i])<<8|int(b[i+1]), i+2
	}
	Expect(n).To(BeNumerically("<=", len(b)-i), "TLV %X runs past the data", tag)
	return obj{tag: tag, value: b[i : i+n], raw: b[:i+n]}, b[i+n:]
}

// children decodes the objects inside a constructed file until filler.
func children(file []byte, outer uint32) map[uint32]obj {
	GinkgoHelper()
	o, _ := parse(file)
	Expect(o.tag).To(Equal(outer))
	m := map[uint32]obj{}
	for rest := o.value; len(rest) > 0 && rest[0] != 0xFF && rest[0] != 0x00; {
		var c obj
		c, rest = parse(rest)
		m[c.tag] = c
	}
	return m
}

// rsaKey decodes 90 exponent / 91 modulus.
func rsaKey(b []byte) *rsa.PublicKey {
	GinkgoHelper()
	e, rest := parse(b)
	n, _ := parse(rest)
	Expect([]uint32{e.tag, n.tag}).To(Equal([]uint32{0x90, 0x91}))
	return &rsa.PublicKey{E: int(new(big.Int).SetBytes(e.value).Int64()), N: new(big.Int).SetBytes(n.value)}
}

// certKey returns the key a 7F21 certificate (EF 0004) certifies, after
// checking its shape (docs/card.md §3.2). The CA's key is not on the card:
// certified checks the signature too.
func certKey(cert []byte) *rsa.PublicKey {
	GinkgoHelper()
	Expect(cert).To(HaveLen(568))
	c := children(cert, 0x7F21)
	body := c[0x5F4E].value
	Expect(body).To(HaveLen(297))
	Expect(c[0x5F37].value).To(HaveLen(256))
	return rsaKey(body[32:])
}

// certified is certKey after checking the certificate's signature against
// the CA key.
func certified(cert []byte, ca *rsa.PublicKey) *rsa.PublicKey {
	GinkgoHelper()
	key := certKey(cert)
	c := children(cert, 0x7F21)
	Expect(verifySHA256(ca, c[0x5F4E].value, c[0x5F37].value)).To(Succeed())
	return key
}

func verifySHA256(pub *rsa.PublicKey, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

// The target card's 照合番号B as built in this run, and whether the card
// refused it: a refused code is never sent again (docs/physical-cards.md).
var (
	cardCodeB    string
	codeBRefused bool
)

// getData answers GET DATA of a card object at the MF level, right after a
// reset (docs/card.md §3.6).
func (s *session) getData(object string) []byte {
	GinkgoHelper()
	Expect(harness.Reset(s.t)).To(Succeed())
	r := s.send("00 CA %s 00", object)
	Expect(r).To(HaveStatusWord(0x9000), "GET DATA %s", object)
	return r.Data
}

// digits reports whether b is n ASCII digits.
func digits(b []byte, n int) bool {
	if len(b) != n {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// date parses a YYYYMMDD date; ok is false (and the value never shown)
// when b is not one.
func date(b []byte) (t time.Time, ok bool) {
	if !digits(b, 8) {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102", string(b))
	return t, err == nil
}

// checkMyNumberFile checks text EF 0001: FF 10 0C, the 12 digits of a My
// Number whose check digit is right, FF FF (docs/card.md §3.2). Its errors
// never carry the number.
func checkMyNumberFile(b []byte) error {
	switch {
	case len(b) != 17:
		return fmt.Errorf("EF 0001 is %d bytes, want 17", len(b))
	case !bytes.Equal(b[:3], []byte{0xFF, 0x10, 0x0C}):
		return fmt.Errorf("EF 0001 starts % X, want FF 10 0C", b[:3])
	case !digits(b[3:15], 12):
		return errors.New("EF 0001 does not hold 12 digits")
	case !bytes.Equal(b[15:], []byte{0xFF, 0xFF}):
		return errors.New("EF 0001 does not end FF FF")
	}
	return cardinfoclient.MyNumber(b[3:15]).Validate()
}

// textFacts reads the four facts (text EF 0002) with the card-info PIN and
// selects the text applet afresh, so no key stays verified.
func (s *session) textFacts() (file []byte, f map[uint32]obj) {
	GinkgoHelper()
	s.selectAP(aidText)
	Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000), "VERIFY of the card-info PIN")
	file = s.mustRead("0002")
	f = children(file, 0xFF20)
	s.forget()
	return file, f
}

// forget clears the keys verified in the text applet and leaves it
// selected: selecting another applet clears them, re-selecting the same
// one would not (docs/card.md §5.1).
func (s *session) forget() {
	GinkgoHelper()
	s.selectAP(aidVisual)
	s.selectAP(aidText)
}

// myNumber is 照合番号A: a world card's from its profile, the target card's
// read from the card with the card-info PIN.
func (s *session) myNumber() string {
	GinkgoHelper()
	if s.p != nil {
		return s.p.MyNumber
	}
	s.selectAP(aidText)
	Expect(s.verify("0011", s.cardInfoPIN())).To(HaveStatusWord(0x9000), "VERIFY of the card-info PIN")
	mn := s.mustRead("0001")
	Expect(checkMyNumberFile(mn)).To(Succeed())
	s.forget()
	return string(mn[3:15])
}

// birthDate is a world card's from its profile, the target card's read
// from the text applet with the card-info PIN.
func (s *session) birthDate() time.Time {
	GinkgoHelper()
	if s.p != nil {
		return s.p.Holder.BirthDate.Time
	}
	_, f := s.textFacts()
	t, ok := date(f[0xDF24].value)
	Expect(ok).To(BeTrue(), "the birth date (DF24) is a date YYYYMMDD")
	return t
}

// birthKey is the card-face birth-date key: the era-year YYMMDD of the
// birth date (docs/card.md §3.3 EF 0011).
func (s *session) birthKey() string {
	GinkgoHelper()
	e, err := cardinfoclient.EraDate(s.birthDate())
	Expect(err).NotTo(HaveOccurred())
	return e
}

// codeB is 照合番号B (docs/card.md §3.2): the era-year birth date, the
// expiry year and the security code; for a world card from its profile
// and the suite's own expiry rule, for the target's card from the card
// (the birth date with the card-info PIN, the expiry by GET DATA 00F2) and
// the security code the run was given. On the target's card both keys it
// opens must show every try first, and a code the card refused is not
// sent again. Call it before selecting the applet to use it in.
func (s *session) codeB() string {
	GinkgoHelper()
	if s.p != nil {
		era, err := cardinfoclient.EraDate(s.p.Holder.BirthDate.Time)
		Expect(err).NotTo(HaveOccurred())
		return fmt.Sprintf("%s%04d%s", era, s.expiry.Year(), s.p.SecurityCode)
	}
	if s.securityCode == "" {
		Skip("needs the security code: set " + framework.EnvSecurityCode + " to the 4 digits printed on the card")
	}
	if codeBRefused {
		Skip("照合番号B refused earlier in this run: never sent again")
	}
	for _, k := range []struct{ aid, fid string }{{aidText, "0015"}, {aidVisual, "0012"}} {
		s.selectAP(k.aid)
		Expect(s.status(k.fid)).To(HaveStatusWord(0x63CA), "照合番号B (EF %s) shows every try before it is sent", k.fid)
	}
	birth := s.birthKey()
	expiry, ok := date(s.getData("00F2"))
	Expect(ok).To(BeTrue(), "the card's expiry (GET DATA 00F2) is a date YYYYMMDD")
	cardCodeB = fmt.Sprintf("%s%04d%s", birth, expiry.Year(), s.securityCode)
	return cardCodeB
}
