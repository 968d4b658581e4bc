package cardinfoclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/mynahil/mynahil/harness/apduclient"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func hexOf(b []byte) string { return fmt.Sprintf("% X", b) }

// step is one expected exchange of a script.
type step struct {
	cmd  string
	resp string
}

// script is a Transport that expects exactly its steps, in order.
type script struct {
	t     *testing.T
	steps []step
	next  int
}

func newScript(t *testing.T, steps ...step) *script {
	s := &script{t: t, steps: steps}
	t.Cleanup(func() {
		if s.next != len(s.steps) {
			t.Errorf("script: %d of %d exchanges happened; next expected: %s", s.next, len(s.steps), s.steps[s.next].cmd)
		}
	})
	return s
}

func (s *script) Transmit(cmd []byte) ([]byte, error) {
	s.t.Helper()
	if s.next >= len(s.steps) {
		s.t.Errorf("script: unexpected extra command % X", cmd)
		return []byte{0x6F, 0x00}, nil
	}
	st := s.steps[s.next]
	s.next++
	if want := hexOf(unhex(s.t, st.cmd)); hexOf(cmd) != want {
		s.t.Errorf("script step %d: sent\n  % X\nwant\n  %s", s.next, cmd, want)
	}
	return unhex(s.t, st.resp), nil
}

// --- A card built from the spec: files, keys and the rules of docs/card.md §5.

type fakeKey struct {
	value      string
	tries, max int
}

type fakeApplet struct {
	files map[uint16][]byte
	// opens lists, per EF, the keys any one of which opens it; absent = free.
	opens map[uint16][]uint16
	keys  map[uint16]*fakeKey
}

// fakeCard answers SELECT (by name, by FID), READ BINARY with a 15-bit
// offset and VERIFY (after SELECT or with P2 = 80|SFI) the way docs/card.md
// §4.6, §5 and §7 describe. It logs every command with VERIFY data masked.
type fakeCard struct {
	applets  map[string]*fakeApplet
	cur      *fakeApplet
	ef       uint16
	verified map[uint16]bool
	log      []string
}

func (f *fakeCard) Transmit(b []byte) ([]byte, error) {
	c, err := apduclient.ParseCommand(b)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	if c.INS == 0x20 && len(c.Data) > 0 {
		f.log = append(f.log, hexOf(b[:5])+" <secret>")
	} else {
		f.log = append(f.log, hexOf(b))
	}
	sw := func(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }
	switch {
	case c.INS == 0xA4 && c.P1 == 0x04:
		a, ok := f.applets[hexOf(c.Data)]
		if !ok {
			return sw(0x6A82), nil
		}
		f.cur, f.ef, f.verified = a, 0, map[uint16]bool{}
		return sw(0x9000), nil
	case f.cur == nil:
		return sw(0x6986), nil
	case c.INS == 0xA4 && c.P1 == 0x02 && len(c.Data) == 2:
		fid := uint16(c.Data[0])<<8 | uint16(c.Data[1])
		_, isFile := f.cur.files[fid]
		_, isKey := f.cur.keys[fid]
		if !isFile && !isKey {
			return sw(0x6A82), nil
		}
		f.ef = fid
		return sw(0x9000), nil
	case c.INS == 0xB0 && c.P1&0x80 == 0:
		data, ok := f.cur.files[f.ef]
		if !ok {
			return sw(0x6981), nil
		}
		if keys, guarded := f.cur.opens[f.ef]; guarded {
			open := false
			for _, k := range keys {
				open = open || f.verified[k]
			}
			if !open {
				return sw(0x6982), nil
			}
		}
		off := int(c.P1)<<8 | int(c.P2)
		if off >= len(data) {
			return sw(0x6B00), nil
		}
		return append(append([]byte(nil), data[off:min(off+c.Ne, len(data))]...), 0x90, 0x00), nil
	case c.INS == 0x20 && c.P1 == 0x00 && c.P2&0x80 != 0:
		ef := f.ef
		if c.P2 != 0x80 {
			ef = uint16(c.P2 & 0x1F)
		}
		k, ok := f.cur.keys[ef]
		if !ok {
			return sw(0x6A82), nil
		}
		switch {
		case len(c.Data) == 0:
			return sw(0x63C0 | uint16(k.tries)), nil
		case k.tries == 0:
			return sw(0x6984), nil
		case string(c.Data) == k.value:
			k.tries = k.max
			f.verified[ef] = true
			return sw(0x9000), nil
		}
		k.tries--
		return sw(0x63C0 | uint16(k.tries)), nil
	}
	return sw(0x6D00), nil
}

// --- Files built from the byte layouts of docs/card.md §3.2 and §3.3.

// enc writes a TLV the way the card does: short lengths below 128, 82 HH LL
// from 128 on (docs/card.md §3.2).
func enc(tag string, value ...[]byte) []byte {
	v := bytes.Join(value, nil)
	out := unhexOK(tag)
	if len(v) < 0x80 {
		out = append(out, byte(len(v)))
	} else {
		out = append(out, 0x82, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

func unhexOK(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

const (
	testMyNumber = "537686677188" // the myna-card test card (docs/card.md §3.2)
	testName     = "山田　花子"        // 15 UTF-8 bytes, as on the test card
	testAddress  = "東京都千代田区霞が関一丁目二番三号四"
	testBirth    = "19900102"
	testPIN      = "1234"
	testCodeB    = "02010220365678"
)

func myNumberFile(n string) []byte {
	return append(enc("FF10", []byte(n)), 0xFF, 0xFF)
}

// factsFile lays out text EF 0002: DF21 with the offsets of DF22..DF25 from
// the start of the file, then the four facts.
func factsFile(name, addr, birth, sex string) []byte {
	objs := [][]byte{enc("DF22", []byte(name)), enc("DF23", []byte(addr)), enc("DF24", []byte(birth)), enc("DF25", []byte(sex))}
	inner := 11 // DF21 08 + 8 bytes
	for _, o := range objs {
		inner += len(o)
	}
	hdr := 2
	if inner < 0x80 {
		hdr++
	} else {
		hdr += 3
	}
	table := make([]byte, 0, 8)
	pos := hdr + 11
	for _, o := range objs {
		table = append(table, byte(pos>>8), byte(pos))
		pos += len(o)
	}
	return enc("FF20", append([][]byte{enc("DF21", table)}, objs...)...)
}

var (
	keyOnce sync.Once
	keys    [2]*rsa.PrivateKey
)

// testKeys returns two RSA-2048 keys shared by the package's tests.
func testKeys(t testing.TB) [2]*rsa.PrivateKey {
	keyOnce.Do(func() {
		for i := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		}
	})
	return keys
}

func rsaKeyTLVs(pub *rsa.PublicKey) []byte {
	return append(enc("90", []byte{0x01, 0x00, 0x01}), enc("91", pub.N.FillBytes(make([]byte, 256)))...)
}

// cvCert builds EF 0004: 7F 21 { 5F 4E { issuer ID, subject ID, 90, 91 }, 5F 37 sig }.
func cvCert(t testing.TB, subject *rsa.PublicKey, ca *rsa.PrivateKey) []byte {
	body := bytes.Join([][]byte{bytes.Repeat([]byte{0x11}, 16), bytes.Repeat([]byte{0x22}, 16), rsaKeyTLVs(subject)}, nil)
	return enc("7F21", enc("5F4E", body), enc("5F37", signSHA256(t, ca, body)))
}

// integrityFile builds EF 0003 over the given EF 0001 and EF 0002 contents,
// signed with key over the objects before DF33 (myna-card's reading).
func integrityFile(t testing.TB, mn, facts []byte, key *rsa.PrivateKey) []byte {
	h1 := sha256.Sum256(mn)
	i := bytes.Index(facts, []byte{0xDF, 0x21, 0x08}) + 3 // DF21's first entry: where DF22 starts
	h2 := sha256.Sum256(facts[int(facts[i])<<8|int(facts[i+1]):])
	signed := append(enc("DF31", h1[:]), enc("DF32", h2[:])...) // DF31 and DF32 as written, no FF 30 header
	return enc("FF30", signed, enc("DF33", signSHA256(t, key, signed)))
}

func basicInfoFile() []byte {
	b := enc("FF40", enc("DF41", unhexOK("01030E01")), enc("DF42", bytes.Repeat([]byte{0x42}, 16)),
		enc("DF43", bytes.Repeat([]byte{0x43}, 32), bytes.Repeat([]byte{0xFF}, 96)))
	return append(b, bytes.Repeat([]byte{0xFF}, 256-len(b))...)
}

func testPNG(t testing.TB) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 2))
	img.Set(1, 1, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// faceFile builds card-face EF 0002 with DF21 pointing at DF22..DF2A and
// DF28 signed by issuer: PKCS#1 v1.5 over a SHA-256 DigestInfo holding the
// hashes of DF22–24, DF25–26 and DF27.
func faceFile(t testing.TB, pub *rsa.PublicKey, photo []byte, issuer *rsa.PrivateKey) []byte {
	p := testPNG(t)
	objs := [][]byte{
		enc("DF22", []byte(testBirth)), enc("DF23", []byte("2")), enc("DF24", rsaKeyTLVs(pub)),
		enc("DF25", p), enc("DF26", p), enc("DF27", photo), nil,
		enc("DF29", []byte("20360102")), enc("DF2A", p),
	}
	di := unhexOK("3071300D060960864801650304020105000460")
	for _, seg := range [][]byte{bytes.Join(objs[0:3], nil), bytes.Join(objs[3:5], nil), objs[5]} {
		di = append(di, sha256Of(seg)...)
	}
	sig, err := rsa.SignPKCS1v15(nil, issuer, 0, di)
	if err != nil {
		t.Fatal(err)
	}
	objs[6] = enc("DF28", sig)
	inner := 2 + 1 + 2*len(objs)
	for _, o := range objs {
		inner += len(o)
	}
	pos := 5 + 3 + 2*len(objs) // FF 20 82 HH LL, DF21 12 table
	table := []byte{}
	for _, o := range objs {
		table = append(table, byte(pos>>8), byte(pos))
		pos += len(o)
	}
	f := enc("FF20", append([][]byte{enc("DF21", table)}, objs...)...)
	if len(f) != 5+inner {
		t.Fatalf("face file of %d bytes, want %d", len(f), 5+inner)
	}
	return f
}

var jp2Photo = append(unhexOK("0000000C6A5020200D0A870A"), bytes.Repeat([]byte{0x33}, 300)...)

// testCard is a fresh card with the test card's text applet, a card face and
// the JPKI PINs, keys at their maximum tries.
func testCard(t testing.TB) *fakeCard {
	k := testKeys(t)
	mn := myNumberFile(testMyNumber)
	facts := factsFile(testName, testAddress, testBirth, "2")
	text := &fakeApplet{
		files: map[uint16][]byte{
			0x0001: mn, 0x0002: facts, 0x0003: integrityFile(t, mn, facts, k[0]),
			0x0004: cvCert(t, &k[0].PublicKey, k[1]), 0x0005: basicInfoFile(),
		},
		opens: map[uint16][]uint16{0x0001: {0x11, 0x14}, 0x0002: {0x11, 0x15}, 0x0003: {0x11, 0x14, 0x15}},
		keys: map[uint16]*fakeKey{
			0x11: {testPIN, 3, 3}, 0x14: {testMyNumber, 10, 10}, 0x15: {testCodeB, 10, 10},
		},
	}
	visual := &fakeApplet{
		files: map[uint16][]byte{0x0002: faceFile(t, &k[1].PublicKey, jp2Photo, k[0]), 0x0004: cvCert(t, &k[0].PublicKey, k[1])},
		opens: map[uint16][]uint16{0x0002: {0x13, 0x12}},
		keys:  map[uint16]*fakeKey{0x13: {testMyNumber, 10, 10}, 0x12: {testCodeB, 10, 10}},
	}
	jp := &fakeApplet{keys: map[uint16]*fakeKey{0x18: {"1111", 3, 3}, 0x1B: {"ABC123", 5, 5}}}
	return &fakeCard{applets: map[string]*fakeApplet{
		hexOf(TextAP.AID()): text, hexOf(VisualAP.AID()): visual, hexOf(JPKIAP.AID()): jp,
	}}
}

func sha256Of(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:]
}

func signSHA256(t testing.TB, key *rsa.PrivateKey, msg []byte) []byte {
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sha256Of(msg))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}
