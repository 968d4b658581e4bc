package cardinfo_test

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestMyNumberFile(t *testing.T) {
	got, err := cardinfo.MyNumberFile("123456789018")
	if err != nil {
		t.Fatal(err)
	}
	want := append([]byte{0xFF, 0x10, 0x0C}, "123456789018\xFF\xFF"...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("EF 0001 (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"123456789012", "12345678901", "12345678901X"} {
		if _, err := cardinfo.MyNumberFile(bad); err == nil {
			t.Errorf("MyNumberFile(%q) accepted", bad)
		}
	}
}

func TestFactsFileOffsetsAndLengths(t *testing.T) {
	long := strings.Repeat("東", 50) // 150 bytes of UTF-8: needs 82 HH LL
	tests := []struct {
		name    string
		address string
		outer   []byte
	}{
		{"short", "東京都千代田区", []byte{0xFF, 0x20}},
		{"address of 150 bytes", long, []byte{0xFF, 0x20, 0x82}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := profile.Default().Holder
			h.Address = tt.address
			b := cardinfo.FactsFile(h)
			if !bytes.HasPrefix(b, tt.outer) {
				t.Fatalf("starts % X, want % X", b[:3], tt.outer)
			}
			f := fields(t, b, 0xFF20)
			table := f[0xDF21].Value
			if len(table) != 8 {
				t.Fatalf("DF21 is %d bytes", len(table))
			}
			want := map[uint32]string{0xDF22: h.Name, 0xDF23: tt.address, 0xDF24: "19900102", 0xDF25: "2"}
			for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25} {
				off := int(table[2*i])<<8 | int(table[2*i+1])
				obj, _, err := cardinfo.Decode(b[off:])
				if err != nil || obj.Tag != tag {
					t.Fatalf("offset %d of %X points at tag %X (%v)", off, tag, obj.Tag, err)
				}
				if string(obj.Value) != want[tag] {
					t.Errorf("%X = %q, want %q", tag, obj.Value, want[tag])
				}
			}
		})
	}
}

func TestEraDateAndCodeB(t *testing.T) {
	d := profile.NewDate
	tests := []struct {
		name   string
		birth  profile.Date
		expiry profile.Date
		code   string
		era    string
		codeB  string
	}{
		{"Shōwa 55, myna-card's real card", d(1980, time.February, 17), d(2035, time.February, 17), "2285", "550217", "55021720352285"},
		{"last day of Shōwa", d(1989, time.January, 7), d(2030, time.January, 7), "0001", "640107", "64010720300001"},
		{"first day of Heisei", d(1989, time.January, 8), d(2031, time.January, 8), "9999", "010108", "01010820319999"},
		{"last day of Heisei", d(2019, time.April, 30), d(2029, time.April, 30), "1234", "310430", "31043020291234"},
		{"first day of Reiwa", d(2019, time.May, 1), d(2024, time.May, 1), "5678", "010501", "01050120245678"},
		{"Taishō 15", d(1926, time.December, 24), d(2036, time.December, 24), "0000", "151224", "15122420360000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			era, err := cardinfo.EraDate(tt.birth.Time)
			if err != nil || era != tt.era {
				t.Fatalf("EraDate = %q, %v; want %q", era, err, tt.era)
			}
			b, err := cardinfo.CodeB(tt.birth.Time, tt.expiry.Time, tt.code)
			if err != nil || b != tt.codeB {
				t.Fatalf("CodeB = %q, %v; want %q", b, err, tt.codeB)
			}
		})
	}
	t.Run("before Meiji", func(t *testing.T) {
		if _, err := cardinfo.EraDate(d(1868, time.January, 24).Time); err == nil {
			t.Fatal("accepted")
		}
	})
	t.Run("bad security code is not quoted", func(t *testing.T) {
		_, err := cardinfo.CodeB(d(1990, 1, 2).Time, d(2036, 1, 2).Time, "12a4")
		if err == nil || strings.Contains(err.Error(), "12a4") {
			t.Fatalf("err = %v", err)
		}
	})
}

// checkIntegrity verifies the text applet's EF 0003 against EF 0004's key
// and the current 0001/0002.
func checkIntegrity(t *testing.T, st *card.State) {
	t.Helper()
	a := shared(t)
	rec := file(t, st, cardinfo.TextAID, cardinfo.EFTextIntegrity)
	if len(rec) != 336 || !bytes.HasPrefix(rec, []byte{0xFF, 0x30, 0x82, 0x01, 0x4B}) {
		t.Fatalf("EF 0003 is %d bytes starting % X", len(rec), rec[:5])
	}
	key := certifiedKey(t, file(t, st, cardinfo.TextAID, cardinfo.EFTextCert), a.TextCA())
	f := fields(t, rec, 0xFF30)
	sig := f[0xDF33].Value
	if len(sig) != 256 || !bytes.Contains(rec, []byte{0xDF, 0x33, 0x82, 0x01, 0x00}) {
		t.Fatalf("DF33 is %d bytes", len(sig))
	}
	if err := verify(key, append(f[0xDF31].Raw, f[0xDF32].Raw...), sig); err != nil {
		t.Fatalf("integrity signature does not verify against EF 0004's key: %v", err)
	}
	mn := sha256.Sum256(file(t, st, cardinfo.TextAID, cardinfo.EFTextMyNumber))
	if !bytes.Equal(f[0xDF31].Value, mn[:]) {
		t.Error("DF31 is not SHA-256 of EF 0001")
	}
	facts := file(t, st, cardinfo.TextAID, cardinfo.EFTextFacts)
	start := bytes.Index(facts, []byte{0xDF, 0x22})
	ff := sha256.Sum256(facts[start:])
	if !bytes.Equal(f[0xDF32].Value, ff[:]) {
		t.Error("DF32 is not SHA-256 of EF 0002 from DF22")
	}
}

func TestIntegrityRecordVerifies(t *testing.T) {
	st := build(t, profile.Default())
	checkIntegrity(t, st)

	t.Run("a changed fact breaks it", func(t *testing.T) {
		df := st.DF(cardinfo.TextAID)
		f := df.File(cardinfo.EFTextFacts)
		orig := f.Data
		f.Data = bytes.Replace(orig, []byte("花子"), []byte("太郎"), 1)
		rec := fields(t, file(t, st, cardinfo.TextAID, cardinfo.EFTextIntegrity), 0xFF30)
		sum := sha256.Sum256(f.Data[bytes.Index(f.Data, []byte{0xDF, 0x22}):])
		if bytes.Equal(rec[0xDF32].Value, sum[:]) {
			t.Fatal("DF32 matches a tampered EF 0002")
		}
		f.Data = orig
	})
}

func TestTextFileSizes(t *testing.T) {
	st := build(t, profile.Default())
	tests := []struct {
		id     uint16
		size   int
		prefix []byte
	}{
		{cardinfo.EFTextMyNumber, 17, []byte{0xFF, 0x10, 0x0C}},
		{cardinfo.EFTextIntegrity, 336, []byte{0xFF, 0x30, 0x82, 0x01, 0x4B}},
		{cardinfo.EFTextCert, 568, []byte{0x7F, 0x21, 0x82, 0x02, 0x33, 0x5F, 0x4E, 0x82, 0x01, 0x29}},
		{cardinfo.EFTextBasicInfo, 256, []byte{0xFF, 0x40, 0x82, 0x00, 0x9F, 0xDF, 0x41, 0x04, 0x01, 0x03, 0x0E, 0x01}},
		{cardinfo.EFTextSignedKey, 536, []byte{0xFF, 0x50, 0x82, 0x02, 0x13, 0xDF, 0x51, 0x82, 0x01, 0x09}},
		{cardinfo.EFTextSMKey, 269, []byte{0xA1, 0x82, 0x01, 0x09, 0x90, 0x03, 0x01, 0x00, 0x01}},
	}
	for _, tt := range tests {
		b := file(t, st, cardinfo.TextAID, tt.id)
		if len(b) != tt.size || !bytes.HasPrefix(b, tt.prefix) {
			t.Errorf("EF %04X: %d bytes starting % X, want %d starting % X", tt.id, len(b), b[:min(len(b), len(tt.prefix))], tt.size, tt.prefix)
		}
	}
}

func TestTextSignedPublicKeyIsTheAppletKey(t *testing.T) {
	st := build(t, profile.Default())
	issuer := certifiedKey(t, file(t, st, cardinfo.TextAID, cardinfo.EFTextCert), shared(t).TextCA())
	f := fields(t, file(t, st, cardinfo.TextAID, cardinfo.EFTextSignedKey), 0xFF50)
	if err := verify(issuer, f[0xDF51].Raw, f[0xDF52].Value); err != nil {
		t.Fatalf("DF52: %v", err)
	}
	priv, err := st.DF(cardinfo.TextAID).File(cardinfo.EFTextKey).Key.Private()
	if err != nil {
		t.Fatal(err)
	}
	if !publicKey(t, f[0xDF51].Value).Equal(&priv.PublicKey) {
		t.Fatal("DF51 is not the public half of key 0013")
	}
}

func TestImagesAreValidPNG(t *testing.T) {
	for _, s := range []string{"5678", "123456789018", "試験　花子", "東京都千代田区試験町一丁目２番３号", ""} {
		t.Run(s, func(t *testing.T) {
			b := cardinfo.TextPNG(s)
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if img.ColorModel() != color.GrayModel {
				t.Errorf("colour model %v, want 8-bit-expanded greyscale", img.ColorModel())
			}
			if w := img.Bounds().Dx(); w != max(1, 4*len([]rune(s))+1) {
				t.Errorf("width %d for %d characters", w, len([]rune(s)))
			}
			if b[24] != 1 || b[25] != 0 {
				t.Errorf("IHDR depth %d colour type %d, want 1-bit greyscale", b[24], b[25])
			}
			if s != "" && !hasBlack(img) {
				t.Error("no black pixel")
			}
		})
	}
	if bytes.Equal(cardinfo.TextPNG("1234"), cardinfo.TextPNG("1235")) {
		t.Error("different texts render the same image")
	}
}

func hasBlack(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r == 0 {
				return true
			}
		}
	}
	return false
}

func TestPhotoJP2Structure(t *testing.T) {
	b := cardinfo.PhotoJP2(48, 60)
	want := [][2]string{{"jP  ", ""}, {"ftyp", ""}, {"jp2h", ""}, {"jp2c", ""}}
	rest := b
	for _, w := range want {
		if len(rest) < 8 {
			t.Fatalf("truncated before %s", w[0])
		}
		n := int(rest[0])<<24 | int(rest[1])<<16 | int(rest[2])<<8 | int(rest[3])
		if string(rest[4:8]) != w[0] || n > len(rest) || n < 8 {
			t.Fatalf("box %q of %d bytes, want %q", rest[4:8], n, w[0])
		}
		if w[0] == "jp2c" {
			cs := rest[8:n]
			if !bytes.HasPrefix(cs, []byte{0xFF, 0x4F, 0xFF, 0x51}) || !bytes.HasSuffix(cs, []byte{0xFF, 0xD9}) {
				t.Fatalf("codestream % X … % X", cs[:4], cs[len(cs)-2:])
			}
			if w, h := be32(cs[8:]), be32(cs[12:]); w != 48 || h != 60 {
				t.Fatalf("SIZ %d×%d", w, h)
			}
		}
		rest = rest[n:]
	}
	if len(rest) != 0 {
		t.Fatalf("%d bytes after jp2c", len(rest))
	}
}

func be32(b []byte) int { return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]) }

func TestVisualRecordsVerify(t *testing.T) {
	p := profile.Default()
	st := build(t, p)
	issuer := certifiedKey(t, file(t, st, cardinfo.VisualAID, cardinfo.EFVisualCert), shared(t).VisualCA())
	own, err := st.DF(cardinfo.VisualAID).File(cardinfo.EFVisualKey).Key.Private()
	if err != nil {
		t.Fatal(err)
	}

	age := file(t, st, cardinfo.VisualAID, cardinfo.EFVisualAge)
	if len(age) != 547 || !bytes.HasPrefix(age, []byte{0xFF, 0x10, 0x82, 0x02, 0x1E, 0xDF, 0x11, 0x08}) {
		t.Fatalf("EF 0001: %d bytes starting % X", len(age), age[:8])
	}
	a := fields(t, age, 0xFF10)
	if string(a[0xDF11].Value) != "19900102" || !publicKey(t, a[0xDF12].Value).Equal(&own.PublicKey) {
		t.Error("age record content")
	}
	if err := verify(issuer, append(a[0xDF11].Raw, a[0xDF12].Raw...), a[0xDF13].Value); err != nil {
		t.Errorf("age record signature: %v", err)
	}

	face := file(t, st, cardinfo.VisualAID, cardinfo.EFVisualFace)
	f := fields(t, face, 0xFF20)
	table := f[0xDF21].Value
	for i, tag := range []uint32{0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27, 0xDF28, 0xDF29, 0xDF2A} {
		off := int(table[2*i])<<8 | int(table[2*i+1])
		if o, _, err := cardinfo.Decode(face[off:]); err != nil || o.Tag != tag {
			t.Errorf("offset %d: tag %X, want %X", i, o.Tag, tag)
		}
	}
	if string(f[0xDF22].Value) != "19900102" || string(f[0xDF23].Value) != "2" || string(f[0xDF29].Value) != "20360102" {
		t.Errorf("birth %q sex %q expiry %q", f[0xDF22].Value, f[0xDF23].Value, f[0xDF29].Value)
	}
	for _, tag := range []uint32{0xDF25, 0xDF26, 0xDF2A} {
		if _, err := png.Decode(bytes.NewReader(f[tag].Value)); err != nil {
			t.Errorf("%X: %v", tag, err)
		}
	}
	seg, err := cardinfo.FaceSegments(face)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(issuer, crypto.Hash(0), cardinfo.FaceDigestInfo(seg), f[0xDF28].Value); err != nil {
		t.Errorf("DF28: %v", err)
	}

	img := fields(t, file(t, st, cardinfo.VisualAID, cardinfo.EFVisualMyNumber), 0xFF40)
	if _, err := png.Decode(bytes.NewReader(img[0xDF41].Value)); err != nil {
		t.Errorf("My Number image: %v", err)
	}
	if err := verify(issuer, append(img[0xDF41].Raw, img[0xDF42].Raw...), img[0xDF43].Value); err != nil {
		t.Errorf("My Number image signature: %v", err)
	}

	info := fields(t, file(t, st, cardinfo.VisualAID, cardinfo.EFVisualBasicInfo), 0xFF30)
	if string(info[0xDF34].Value) != "13101" || len(info[0xDF35].Value) != 272 {
		t.Errorf("EF 0003: DF34 %q, DF35 %d bytes", info[0xDF34].Value, len(info[0xDF35].Value))
	}
}

func TestCommonRecord(t *testing.T) {
	st := build(t, profile.Default())
	f := st.DF(cardinfo.CommonAID).File(cardinfo.EFCommonInfo)
	if f == nil || len(f.Records) != 1 {
		t.Fatal("no record 1")
	}
	r := f.Records[0]
	if len(r) != 30 || r[0] != 0x01 || r[1] != 0x1C {
		t.Fatalf("record % X", r)
	}
	v := string(r[2:])
	for _, c := range v {
		if c < '0' || c > '9' {
			t.Fatalf("record %q has a non-digit", v)
		}
	}
	if v[15:] != "1310120360102" {
		t.Errorf("municipality+expiry %q, want 13101 20360102", v[15:])
	}
	if _, err := cardinfo.CommonRecord("1234", "13101", time.Now()); err == nil {
		t.Error("short serial accepted")
	}
}

func TestBuildRejectsInvalidProfile(t *testing.T) {
	p := profile.Default()
	p.MyNumber = "123456789012"
	if _, err := shared(t).Build(p, salt); err == nil {
		t.Fatal("accepted a My Number with a wrong check digit")
	}
}

func TestOverlongFactsAreRefused(t *testing.T) {
	p := profile.Default()
	p.Holder.Address = strings.Repeat("東", 12000) // 36000 bytes of UTF-8
	if _, err := shared(t).Build(p, salt); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("Build = %v, want a too-long error", err)
	}
	st := build(t, profile.Default())
	if err := shared(t).Refresh(st, p); err == nil {
		t.Fatal("Refresh accepted an address no READ BINARY can reach")
	}
}
