// Package cardinfo_test drives the card's applets other than JPKI — the
// card-info input support applet (券面事項入力補助AP), the card-face applet
// (券面AP), the resident-registry and common applets and the MF level — with
// raw APDUs built here from docs/card.md §2–§5, through the target's
// transport (sim, vpcd or pcsc; the cards come from the world of
// scenarios/framework). Every byte the suite sends or checks comes from the
// spec and the card's profile, never from the simulator's encoder.
package cardinfo_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	hapdu "github.com/mynahil/mynahil/harness/apduclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/runsummary"
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

// session is a card the world's office issued, opened through the
// target's transport, traced into the spec report.
type session struct {
	t      harness.Transport
	p      profile.Profile
	expiry time.Time // the card's last day, by the suite's own rule
	w      *framework.World
	card   *framework.Card
	// textCA and visualCA certify EF 0004 of the text and visual applets:
	// the trust anchors the suite is given.
	textCA, visualCA *rsa.PublicKey
}

func open(p profile.Profile) *session {
	GinkgoHelper()
	w := framework.NewWorld(p.IssueDate.Add(10 * time.Hour))
	c, err := w.Office.IssueCard(p)
	Expect(err).NotTo(HaveOccurred())
	s := &session{p: p, expiry: cardExpiry(p.Holder.BirthDate.Time, p.IssueDate.Time), w: w, card: c}
	s.textCA, s.visualCA = w.CardInfoCAs()
	s.insert()
	return s
}

// insert (re)opens the card in its reader, powered afresh.
func (s *session) insert() {
	GinkgoHelper()
	s.t = harness.Traced(s.w.Insert(s.card), ginkgotrace.ForSpec())
}

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
func (s *session) verify(fid, pin string) hapdu.Response {
	GinkgoHelper()
	s.selectEF(fid)
	return s.send("00 20 00 80 %02X %X", len(pin), pin)
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

// certified returns the key a 7F21 certificate (EF 0004) certifies, after
// checking its signature against the CA key.
func certified(cert []byte, ca *rsa.PublicKey) *rsa.PublicKey {
	GinkgoHelper()
	Expect(cert).To(HaveLen(568))
	c := children(cert, 0x7F21)
	body := c[0x5F4E].value
	Expect(body).To(HaveLen(297))
	Expect(verifySHA256(ca, body, c[0x5F37].value)).To(Succeed())
	return rsaKey(body[32:])
}

func verifySHA256(pub *rsa.PublicKey, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}

// codeB is 照合番号B written by hand for a profile (docs/card.md §3.2).
func codeB(eraBirth string, s *session) string {
	return fmt.Sprintf("%s%d%s", eraBirth, s.expiry.Year(), s.p.SecurityCode)
}
