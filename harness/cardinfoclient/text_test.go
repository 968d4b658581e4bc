package cardinfoclient

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFactsTestCardLayout checks the builder against the myna-card test
// card's layout (docs/card.md §3.2): FF 20 65, offsets 000E 0020 0059 0064.
func TestFactsTestCardLayout(t *testing.T) {
	f := factsFile(testName, testAddress, testBirth, "2")
	if !bytes.HasPrefix(f, unhex(t, "FF 20 65 DF 21 08 00 0E 00 20 00 59 00 64 DF 22 0F")) || len(f) != 104 {
		t.Fatalf("test facts file: % X (%d bytes)", f[:17], len(f))
	}
	got, err := ParseFacts(append(f, 0xFF, 0xFF))
	if err != nil {
		t.Fatal(err)
	}
	want := &Facts{
		Name: testName, Address: testAddress,
		BirthDate: Date{1990, time.January, 2}, Sex: SexFemale,
		Offsets: [4]int{0x0E, 0x20, 0x59, 0x64}, Raw: f,
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if !bytes.Equal(got.HashedPart(), f[0x0E:]) {
		t.Error("HashedPart does not start at DF22")
	}
	if got.Sex.String() != "female" || got.BirthDate.String() != "1990-01-02" {
		t.Errorf("%v %v", got.Sex, got.BirthDate)
	}
}

func TestFactsLongAddress(t *testing.T) {
	// A 200-character address needs 82-form lengths inside and outside.
	addr := strings.Repeat("町", 200)
	f := factsFile(testName, addr, testBirth, "1")
	if f[2] != 0x82 {
		t.Fatalf("outer length % X", f[:5])
	}
	got, err := ParseFacts(f)
	if err != nil {
		t.Fatal(err)
	}
	if got.Address != addr || got.Sex != SexMale || got.Offsets[0] != 5+11 {
		t.Errorf("address of %d bytes, sex %v, offsets %v", len(got.Address), got.Sex, got.Offsets)
	}
}

func TestParseFactsErrors(t *testing.T) {
	good := factsFile(testName, testAddress, testBirth, "2")
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"wrong outer tag", mutate(func(b []byte) []byte { b[1] = 0x21; return b }), "tag FF21, want FF20"},
		{"offset of DF23 off by one", mutate(func(b []byte) []byte { b[9]++; return b }), "DF21 says DF23 starts at 0021, it starts at 0020"},
		{"offset table of 6 bytes", enc("FF20", enc("DF21", make([]byte, 6)), enc("DF22", nil), enc("DF23", nil), enc("DF24", []byte(testBirth)), enc("DF25", []byte("1"))), "DF21 of 6 bytes"},
		{"DF25 missing", enc("FF20", enc("DF21", make([]byte, 8)), enc("DF22", nil), enc("DF23", nil), enc("DF24", []byte(testBirth))), "holds 4 objects"},
		{"DF23 and DF22 swapped", enc("FF20", enc("DF21", make([]byte, 8)), enc("DF23", nil), enc("DF22", nil), enc("DF24", []byte(testBirth)), enc("DF25", []byte("1"))), "object 2 of FF20 is DF23, want DF22"},
		{"name not UTF-8", factsFile("\xff\xfe", testAddress, testBirth, "2"), "DF22 is not UTF-8"},
		{"era birth date", factsFile(testName, testAddress, "419900102", "2"), "want 8 digits"},
		{"February 30", factsFile(testName, testAddress, "19900230", "2"), "not a calendar day"},
		{"sex as a word", factsFile(testName, testAddress, testBirth, "F"), "one ASCII digit"},
		{"truncated", good[:50], "TLV truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFacts(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "parsing facts: ") {
				t.Errorf("ParseFacts = %+v, %v; want an error containing %q", f, err, tt.want)
			}
		})
	}
}

func TestCVCertificate(t *testing.T) {
	k := testKeys(t)
	b := cvCert(t, &k[0].PublicKey, k[1])
	if len(b) != CVCertificateLen || !bytes.HasPrefix(b, unhex(t, "7F 21 82 02 33 5F 4E 82 01 29")) {
		t.Fatalf("test certificate: %d bytes, % X", len(b), b[:10])
	}
	if !bytes.Equal(b[5+5+32:5+5+32+9], unhex(t, "90 03 01 00 01 91 82 01 00")) {
		t.Fatalf("key encoding % X", b[42:51])
	}
	c, err := ParseCVCertificate(b)
	if err != nil {
		t.Fatal(err)
	}
	if !c.PublicKey.Equal(&k[0].PublicKey) || !bytes.Equal(c.IssuerKeyID, bytes.Repeat([]byte{0x11}, 16)) ||
		!bytes.Equal(c.SubjectKeyID, bytes.Repeat([]byte{0x22}, 16)) || len(c.Signature) != 256 || len(c.Body) != 297 {
		t.Errorf("parsed %+v", c)
	}
	if err := c.CheckSignature(&k[1].PublicKey); err != nil {
		t.Errorf("CheckSignature with the CA key: %v", err)
	}
	if err := c.CheckSignature(&k[0].PublicKey); !errors.Is(err, ErrCVSignature) {
		t.Errorf("CheckSignature with the certificate's own key: %v, want ErrCVSignature", err)
	}
	if err := c.CheckSignature(nil); err == nil {
		t.Error("nil CA key accepted")
	}
	bad := []struct {
		name string
		in   []byte
		want string
	}{
		{"exponent 2", enc("7F21", enc("5F4E", make([]byte, 32), enc("90", []byte{2}), enc("91", k[0].N.Bytes())), enc("5F37", make([]byte, 256))), "RSA exponent"},
		{"1024-bit modulus", enc("7F21", enc("5F4E", make([]byte, 32), enc("90", []byte{1, 0, 1}), enc("91", make([]byte, 128))), enc("5F37", make([]byte, 256))), "want 2048 bits"},
		{"modulus before exponent", enc("7F21", enc("5F4E", make([]byte, 32), enc("91", k[0].N.Bytes()), enc("90", []byte{1, 0, 1})), enc("5F37", make([]byte, 256))), "want 90 91"},
		{"short signature", enc("7F21", enc("5F4E", make([]byte, 32), rsaKeyTLVs(&k[0].PublicKey)), enc("5F37", make([]byte, 255))), "signature of 255 bytes"},
		{"no key IDs", enc("7F21", enc("5F4E", make([]byte, 20)), enc("5F37", make([]byte, 256))), "want 32 bytes of key IDs"},
		{"an X.509 certificate", unhex(t, "30 82 01 00"), "tag 30"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseCVCertificate(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestCheckIntegrity(t *testing.T) {
	k := testKeys(t)
	mn := myNumberFile(testMyNumber)
	factsB := factsFile(testName, testAddress, testBirth, "2")
	recB := integrityFile(t, mn, factsB, k[0])
	if len(recB) != IntegrityRecordLen {
		t.Fatalf("test integrity record of %d bytes, want %d", len(recB), IntegrityRecordLen)
	}
	facts, err := ParseFacts(factsB)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := ParseIntegrityRecord(recB)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Signed) != 70 || !bytes.Equal(rec.Signed, recB[5:75]) {
		t.Errorf("signed part of %d bytes, want DF31 and DF32, the 70 bytes after FF 30 82 01 4B", len(rec.Signed))
	}
	cert, err := ParseCVCertificate(cvCert(t, &k[0].PublicKey, k[1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckIntegrity(mn, facts, rec, cert); err != nil {
		t.Fatalf("genuine record: %v", err)
	}

	otherCert, _ := ParseCVCertificate(cvCert(t, &k[1].PublicKey, k[1]))
	otherFacts, _ := ParseFacts(factsFile(testName, "大阪府", testBirth, "2"))
	tampered := append([]byte(nil), mn...)
	tampered[16] = 0x00
	tests := []struct {
		name  string
		mn    []byte
		facts *Facts
		cert  *CVCertificate
		want  string
	}{
		{"filler of EF 0001 changed", tampered, facts, cert, "DF31 is not the SHA-256 of the 17 bytes of EF 0001"},
		{"EF 0001 without its filler", mn[:15], facts, cert, "DF31"},
		{"another address", mn, otherFacts, cert, "DF32 is not the SHA-256 of EF 0002 from DF22 (offset 000E)"},
		{"another signer", mn, facts, otherCert, "DF33 does not verify over DF31 and DF32 (70 bytes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckIntegrity(tt.mn, tt.facts, rec, tt.cert)
			if !errors.Is(err, ErrIntegrity) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrIntegrity with %q", err, tt.want)
			}
		})
	}
	if err := CheckIntegrity(mn, nil, rec, cert); err == nil {
		t.Error("nil facts accepted")
	}
}

// TestCheckIntegrityDiagnoses checks that a card which hashes or signs a
// different span than the spec says gets a message naming the span it used.
func TestCheckIntegrityDiagnoses(t *testing.T) {
	k := testKeys(t)
	mn := myNumberFile(testMyNumber)
	factsB := factsFile(testName, testAddress, testBirth, "2")
	facts, _ := ParseFacts(factsB)
	cert, _ := ParseCVCertificate(cvCert(t, &k[0].PublicKey, k[1]))

	wholeFacts := integrityFile(t, mn, factsB, k[0])
	h := sha256Of(factsB)
	copy(wholeFacts[5+35+3:], h) // DF32 over the whole TLV
	rec, err := ParseIntegrityRecord(wholeFacts)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckIntegrity(mn, facts, rec, cert); err == nil || !strings.Contains(err.Error(), "it is the SHA-256 of the whole FF 20 TLV") {
		t.Errorf("DF32 over the whole TLV: %v", err)
	}

	headerSigned := integrityFile(t, mn, factsB, k[0])
	copy(headerSigned[75+5:], signSHA256(t, k[0], headerSigned[:75]))
	rec, _ = ParseIntegrityRecord(headerSigned)
	if err := CheckIntegrity(mn, facts, rec, cert); err == nil || !strings.Contains(err.Error(), "it verifies over the file from its first byte, FF 30 header included") {
		t.Errorf("signature over the header too: %v", err)
	}
}

func TestParseIntegrityRecordErrors(t *testing.T) {
	k := testKeys(t)
	good := integrityFile(t, myNumberFile(testMyNumber), factsFile(testName, testAddress, testBirth, "2"), k[0])
	short := enc("FF30", enc("DF31", make([]byte, 31)), enc("DF32", make([]byte, 32)), enc("DF33", make([]byte, 256)))
	for name, in := range map[string][]byte{
		"31-byte hash":  short,
		"truncated":     good[:300],
		"no signature":  enc("FF30", enc("DF31", make([]byte, 32)), enc("DF32", make([]byte, 32))),
		"wrong wrapper": append([]byte{0xFF, 0x31}, good[2:]...),
	} {
		if _, err := ParseIntegrityRecord(in); err == nil || !strings.HasPrefix(err.Error(), "parsing integrity record: ") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseBasicInfo(t *testing.T) {
	b := basicInfoFile()
	if !bytes.HasPrefix(b, unhex(t, "FF 40 82 00 9F DF 41 04 01 03 0E 01 DF 42 10")) {
		t.Fatalf("test basic info % X", b[:16])
	}
	info, err := ParseBasicInfo(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(info.Info, []byte{1, 3, 0x0E, 1}) || len(info.KeyID) != 16 || len(info.Data) != 128 || len(info.Raw) != 256 {
		t.Errorf("%+v", info)
	}
	if _, err := ParseBasicInfo(enc("FF40", enc("DF41", []byte{1, 3, 0x0E}), enc("DF42", make([]byte, 16)), enc("DF43", make([]byte, 128)))); err == nil {
		t.Error("3-byte DF41 accepted")
	}
}
