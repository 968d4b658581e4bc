package matchers

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"

	"github.com/mynahil/mynahil/harness/cardinfoclient"
)

// tlv writes a TLV the way the card does (short lengths, 82 HH LL from 128).
func tlv(tag []byte, value ...[]byte) []byte {
	v := bytes.Join(value, nil)
	out := append([]byte(nil), tag...)
	if len(v) < 0x80 {
		out = append(out, byte(len(v)))
	} else {
		out = append(out, 0x82, byte(len(v)>>8), byte(len(v)))
	}
	return append(out, v...)
}

func signed(t *testing.T, k *rsa.PrivateKey, msg []byte) []byte {
	d := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// textFiles builds text EFs 0001–0004 from the layouts of docs/card.md
// §3.2, the integrity record signed by key, or over a different My Number
// file when tamper is set.
func textFiles(t *testing.T, key, ca *rsa.PrivateKey, tamper bool) map[uint16][]byte {
	mn := append(tlv([]byte{0xFF, 0x10}, []byte("123456789018")), 0xFF, 0xFF)
	objs := [][]byte{tlv([]byte{0xDF, 0x22}, []byte("試験　花子")), tlv([]byte{0xDF, 0x23}, []byte("東京都")),
		tlv([]byte{0xDF, 0x24}, []byte("19900102")), tlv([]byte{0xDF, 0x25}, []byte("2"))}
	pos, table := 3+11, []byte{}
	for _, o := range objs {
		table = append(table, byte(pos>>8), byte(pos))
		pos += len(o)
	}
	facts := tlv([]byte{0xFF, 0x20}, append([][]byte{tlv([]byte{0xDF, 0x21}, table)}, objs...)...)
	hashed := mn
	if tamper {
		hashed = append([]byte(nil), mn...)
		hashed[16] = 0
	}
	h1, h2 := sha256.Sum256(hashed), sha256.Sum256(facts[14:])
	body := append(tlv([]byte{0xDF, 0x31}, h1[:]), tlv([]byte{0xDF, 0x32}, h2[:])...)
	rec := tlv([]byte{0xFF, 0x30}, body, tlv([]byte{0xDF, 0x33}, signed(t, key, body)))
	certBody := bytes.Join([][]byte{make([]byte, 32), tlv([]byte{0x90}, []byte{1, 0, 1}), tlv([]byte{0x91}, key.N.FillBytes(make([]byte, 256)))}, nil)
	cert := tlv([]byte{0x7F, 0x21}, tlv([]byte{0x5F, 0x4E}, certBody), tlv([]byte{0x5F, 0x37}, signed(t, ca, certBody)))
	return map[uint16][]byte{1: mn, 2: facts, 3: rec, 4: cert}
}

// files is a Transport serving EFs with SELECT by FID and READ BINARY.
type files struct {
	m   map[uint16][]byte
	cur []byte
}

func (f *files) Transmit(cmd []byte) ([]byte, error) {
	switch {
	case len(cmd) == 7 && cmd[1] == 0xA4:
		b, ok := f.m[uint16(cmd[5])<<8|uint16(cmd[6])]
		if !ok {
			return []byte{0x6A, 0x82}, nil
		}
		f.cur = b
		return []byte{0x90, 0x00}, nil
	case len(cmd) == 5 && cmd[1] == 0xB0:
		off, n := int(cmd[2])<<8|int(cmd[3]), int(cmd[4])
		if n == 0 {
			n = 256
		}
		if off >= len(f.cur) {
			return []byte{0x6B, 0x00}, nil
		}
		return append(append([]byte(nil), f.cur[off:min(off+n, len(f.cur))]...), 0x90, 0x00), nil
	}
	return []byte{0x6D, 0x00}, nil
}

var (
	ciKeysOnce sync.Once
	ciKeys     [3]*rsa.PrivateKey // card-info issuer, CA, another key
)

func TestCardinfoMatchers(t *testing.T) {
	ciKeysOnce.Do(func() {
		for i := range ciKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			ciKeys[i] = k
		}
	})
	leafKey, caKey, other := ciKeys[0], ciKeys[1], ciKeys[2]
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	good := textFiles(t, leafKey, caKey, false)
	cert, err := cardinfoclient.ParseCVCertificate(good[4])
	if err != nil {
		t.Fatal(err)
	}
	status := cardinfoclient.PINStatus{TextPIN: 3, TextCodeA: 10, JPKISignPIN: 5}
	run(t, []matchCase{
		{name: "valid My Number", matcher: BeValidMyNumber(), actual: cardinfoclient.MyNumber("537686677188"), want: true, msg: "not to be a valid My Number"},
		{name: "string", matcher: BeValidMyNumber(), actual: "123456789018", want: true},
		{name: "check digit wrong", matcher: BeValidMyNumber(), actual: cardinfoclient.MyNumber("537686677187"), want: false, msg: "the last digit is not the check digit"},
		{name: "11 digits", matcher: BeValidMyNumber(), actual: "53768667718", want: false, msg: "a My Number of 11 bytes"},
		{name: "not a number", matcher: BeValidMyNumber(), actual: 537686677188, wantErr: true},

		{name: "integrity verified", matcher: HaveIntegrityVerified(), actual: cardinfoclient.New(&files{m: good}), want: true, msg: "not to vouch for EF 0001"},
		{name: "integrity broken", matcher: HaveIntegrityVerified(), actual: cardinfoclient.New(&files{m: textFiles(t, leafKey, caKey, true)}), want: false, msg: "DF31 is not the SHA-256"},
		{name: "integrity signed by another key", matcher: HaveIntegrityVerified(),
			actual: cardinfoclient.New(&files{m: map[uint16][]byte{1: good[1], 2: good[2], 3: textFiles(t, other, caKey, false)[3], 4: good[4]}}), want: false, msg: "DF33 does not verify"},
		{name: "integrity of a card without the files", matcher: HaveIntegrityVerified(), actual: cardinfoclient.New(&files{m: map[uint16][]byte{}}), want: false, msg: "SW 6A82"},
		{name: "integrity of a non-client", matcher: HaveIntegrityVerified(), actual: good, wantErr: true},

		{name: "tries left", matcher: HaveTriesLeftOn(cardinfoclient.TextPIN, 3), actual: status, want: true, msg: "not to show 3 tries left on the card-info PIN"},
		{name: "tries left differ", matcher: HaveTriesLeftOn(cardinfoclient.JPKISignPIN, 4), actual: status, want: false, msg: "to show 4 tries left on the JPKI sign PIN, but it shows 5"},
		{name: "unknown key", matcher: HaveTriesLeftOn(cardinfoclient.Key(99), 1), actual: status, wantErr: true},
		{name: "tries of a non-status", matcher: HaveTriesLeftOn(cardinfoclient.TextPIN, 3), actual: 3, wantErr: true},

		{name: "PNG", matcher: BePNG(), actual: img.Bytes(), want: true, msg: "not to be a PNG image"},
		{name: "JPEG 2000 is not PNG", matcher: BePNG(), actual: []byte("\x00\x00\x00\x0CjP  \r\n\x87\n"), want: false, msg: "not a PNG image"},
		{name: "PNG of a string", matcher: BePNG(), actual: "png", wantErr: true},

		{name: "certified by the CA", matcher: BeCertifiedBy(&caKey.PublicKey), actual: cert, want: true, msg: "not to be signed by the given CA key"},
		{name: "not by its own key", matcher: BeCertifiedBy(&leafKey.PublicKey), actual: cert, want: false, msg: "signature does not verify"},
		{name: "certificate of bytes", matcher: BeCertifiedBy(&caKey.PublicKey), actual: good[4], wantErr: true},
	})
}

func TestBeValidMyNumberHidesTheNumber(t *testing.T) {
	m := BeValidMyNumber()
	for _, n := range []any{cardinfoclient.MyNumber("537686677187"), "537686677187"} {
		if ok, _ := m.Match(n); ok {
			t.Fatal("wrong check digit accepted")
		}
		if msg := m.FailureMessage(n); strings.Contains(msg, "5376") {
			t.Errorf("failure message shows the number: %s", msg)
		}
	}
}
