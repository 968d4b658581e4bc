package cardinfoclient

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCheckPNG(t *testing.T) {
	good := testPNG(t)
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"encoded by image/png", good, true},
		{"signature only", pngSignature, false},
		{"IHDR cut short", good[:20], false},
		{"JPEG", unhexOK("FFD8FFE000104A464946"), false},
		{"JPEG 2000", jp2Photo, false},
		{"empty", nil, false},
		{"signature with CR LF damaged", append(unhexOK("89504E470A0A1A0A"), good[8:]...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPNG(tt.in)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrNotPNG)) {
				t.Errorf("CheckPNG = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestCheckJPEG2000(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"JP2 signature box", jp2Photo, true},
		{"raw codestream", unhexOK("FF4FFF51002F"), true},
		{"PNG", testPNG(t), false},
		{"truncated box", jp2Photo[:8], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		if err := CheckJPEG2000(tt.in); (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrNotJPEG2000)) {
			t.Errorf("%s: CheckJPEG2000 = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestParseFace(t *testing.T) {
	k := testKeys(t)
	b := faceFile(t, &k[1].PublicKey, jp2Photo, k[0])
	if !bytes.HasPrefix(b, unhexOK("FF2082")) {
		t.Fatalf("face file starts % X", b[:5])
	}
	f, err := ParseFace(append(b, 0xFF, 0xFF))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Offsets) != 9 || f.Offsets[0] != 5+3+18 {
		t.Errorf("offsets %v", f.Offsets)
	}
	if err := f.CheckOffsets(); err != nil {
		t.Error(err)
	}
	if err := f.CheckSignature(&k[0].PublicKey); err != nil {
		t.Errorf("genuine face: %v", err)
	}
	if err := f.CheckSignature(&k[1].PublicKey); !errors.Is(err, ErrFaceSignature) {
		t.Errorf("the card's own key verified the face: %v", err)
	}
	segs := f.Segments()
	if !bytes.HasPrefix(segs[0], append(unhexOK("DF2208"), "19900102\xDF\x23\x01\x32\xDF\x24"...)) || !bytes.HasPrefix(segs[2], unhexOK("DF27")) {
		t.Errorf("segments start % X / % X", segs[0][:4], segs[2][:4])
	}

	// Anything inside a signed segment breaks the signature; DF29 does not.
	for _, tc := range []struct {
		name   string
		find   []byte
		breaks bool
	}{
		{"photo", jp2Photo[len(jp2Photo)-4:], true},
		{"birth date", []byte("19900102"), true},
		{"expiry, outside the signature", []byte("20360102"), false},
	} {
		c := append([]byte(nil), b...)
		i := bytes.LastIndex(c, tc.find)
		c[i+len(tc.find)-1] ^= 0x01
		g, err := ParseFace(c)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := g.CheckSignature(&k[0].PublicKey); (err != nil) != tc.breaks {
			t.Errorf("changing the %s: CheckSignature = %v", tc.name, err)
		}
	}

	// The offsets table checked separately.
	bad := append([]byte(nil), b...)
	bad[5+3+1]++ // first entry off by one
	g, err := ParseFace(bad)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.CheckOffsets(); err == nil || !strings.Contains(err.Error(), "entry 1 (001B) is not where an object starts") {
		t.Errorf("CheckOffsets = %v", err)
	}
	if err := (&Face{}).CheckOffsets(); err == nil {
		t.Error("empty table accepted")
	}
}

func TestParseFaceErrors(t *testing.T) {
	k := testKeys(t)
	good := faceFile(t, &k[1].PublicKey, jp2Photo, k[0])
	replace := func(old, new []byte) []byte {
		return bytes.Replace(append([]byte(nil), good...), old, new, 1)
	}
	png := testPNG(t)
	gif := append([]byte("GIF89a"), png[6:]...)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"facts file given", factsFile(testName, testAddress, testBirth, "2"), "holds 5 objects"},
		{"name image not PNG", replace(png, gif), "image DF25: checking PNG: not a PNG image"},
		{"photo not JPEG 2000", replace(jp2Photo[:12], []byte("\xff\xd8\xff\xe0JFIF\x00\x01\x02\x03")), "photo DF27: checking JPEG 2000"},
		{"expiry not a date", replace([]byte("20360102"), []byte("20361302")), "expiry DF29: parsing date"},
		{"sex code a letter", replace([]byte{0xDF, 0x23, 0x01, '2'}, []byte{0xDF, 0x23, 0x01, 'F'}), "DF23: parsing sex"},
		{"exponent 4", replace([]byte{0x90, 0x03, 0x01, 0x00, 0x01}, []byte{0x90, 0x03, 0x01, 0x00, 0x04}), "public key DF24: invalid TLV: RSA exponent"},
		{"wrong outer tag", replace([]byte{0xFF, 0x20}, []byte{0xFF, 0x40}), "tag FF40, want FF20"},
		{"cut short", good[:300], "TLV truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFace(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "parsing card face: ") {
				t.Errorf("ParseFace error = %v, want %q", err, tt.want)
			}
		})
	}
}
