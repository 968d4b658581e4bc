package cardinfoclient

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/trace"
)

const (
	selectText   = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
	selectVisual = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02"
	selectJPKI   = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
)

// TestMyNumberSendsWhatMynaSends replays `myna text mynumber` (docs/card.md
// §4.2): SELECT EF 0011, VERIFY, SELECT EF 0001, READ BINARY of 17 bytes.
func TestMyNumberSendsWhatMynaSends(t *testing.T) {
	c := New(newScript(t,
		step{selectText, "90 00"},
		step{"00 A4 02 0C 02 00 11", "90 00"},
		step{"00 20 00 80 04 31 32 33 34", "90 00"},
		step{"00 A4 02 0C 02 00 01", "90 00"},
		step{"00 B0 00 00 11", hexOf(myNumberFile(testMyNumber)) + " 90 00"},
	))
	if err := c.Select(TextAP); err != nil {
		t.Fatal(err)
	}
	n, err := c.MyNumber(testPIN)
	if err != nil || n != testMyNumber {
		t.Errorf("MyNumber = %s, %v", string(n), err)
	}
}

func TestMyNumberWithCodeA(t *testing.T) {
	c := New(newScript(t,
		step{"00 A4 02 0C 02 00 14", "90 00"},
		step{"00 20 00 80 0C " + hexOf([]byte(testMyNumber)), "90 00"},
		step{"00 A4 02 0C 02 00 01", "90 00"},
		step{"00 B0 00 00 11", hexOf(myNumberFile(testMyNumber)) + " 90 00"},
	))
	if n, err := c.MyNumberWithCodeA(testMyNumber); err != nil || n != testMyNumber {
		t.Errorf("MyNumberWithCodeA = %s, %v", string(n), err)
	}
}

// TestFactsWithCodeBReadsHeaderThenTLV replays the myna-go read of EF 0002:
// 7 bytes, then the whole 104-byte TLV from offset 0 (docs/card.md §4.2).
func TestFactsWithCodeBReadsHeaderThenTLV(t *testing.T) {
	f := factsFile(testName, testAddress, testBirth, "2")
	c := New(newScript(t,
		step{"00 A4 02 0C 02 00 15", "90 00"},
		step{"00 20 00 80 0E " + hexOf([]byte(testCodeB)), "90 00"},
		step{"00 A4 02 0C 02 00 02", "90 00"},
		step{"00 B0 00 00 07", hexOf(f[:7]) + " 90 00"},
		step{"00 B0 00 00 68", hexOf(f) + " 90 00"},
	))
	got, err := c.FactsWithCodeB(testCodeB)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != testName || got.Address != testAddress {
		t.Errorf("facts %q %q", got.Name, got.Address)
	}
}

func TestPINStatusSendsWhatMynaSends(t *testing.T) {
	c := New(newScript(t,
		step{selectText, "90 00"},
		step{"00 A4 02 0C 02 00 11", "90 00"}, step{"00 20 00 80", "63 C3"},
		step{"00 A4 02 0C 02 00 14", "90 00"}, step{"00 20 00 80", "63 CA"},
		step{"00 A4 02 0C 02 00 15", "90 00"}, step{"00 20 00 80", "63 C9"},
		step{selectVisual, "90 00"},
		step{"00 A4 02 0C 02 00 13", "90 00"}, step{"00 20 00 80", "63 C8"},
		step{"00 A4 02 0C 02 00 12", "90 00"}, step{"00 20 00 80", "63 C7"},
		step{selectJPKI, "90 00"},
		step{"00 A4 02 0C 02 00 18", "90 00"}, step{"00 20 00 80", "63 C2"},
		step{"00 A4 02 0C 02 00 1B", "90 00"}, step{"00 20 00 80", "63 C0"},
	))
	got, err := c.PINStatus()
	if err != nil {
		t.Fatal(err)
	}
	want := PINStatus{TextPIN: 3, TextCodeA: 10, TextCodeB: 9, VisualCodeA: 8, VisualCodeB: 7, JPKIAuthPIN: 2, JPKISignPIN: 0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for k, n := range map[Key]int{TextPIN: 3, VisualCodeB: 7, JPKISignPIN: 0, Key(99): -1} {
		if got.Of(k) != n {
			t.Errorf("Of(%v) = %d, want %d", k, got.Of(k), n)
		}
	}
}

func TestPINStatusSFI(t *testing.T) {
	c := New(newScript(t,
		step{selectText, "90 00"},
		step{"00 20 00 91", "63 C3"}, step{"00 20 00 94", "63 CA"}, step{"00 20 00 95", "63 CA"},
		step{selectVisual, "90 00"},
		step{"00 20 00 93", "63 CA"}, step{"00 20 00 92", "63 CA"},
		step{selectJPKI, "90 00"},
		step{"00 20 00 98", "63 C3"}, step{"00 20 00 9B", "63 C5"},
	))
	got, err := c.PINStatusSFI()
	if err != nil {
		t.Fatal(err)
	}
	if got != (PINStatus{3, 10, 10, 10, 10, 3, 5}) {
		t.Errorf("%+v", got)
	}
}

func TestPINStatusErrors(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  string
		is    error
	}{
		{"9000 to the empty VERIFY", []step{{selectText, "90 00"}, {"00 A4 02 0C 02 00 11", "90 00"}, {"00 20 00 80", "90 00"}},
			"reading PIN status: querying tries left of card-info PIN: card answered 9000, want 63Cx", nil},
		{"key EF missing", []step{{selectText, "90 00"}, {"00 A4 02 0C 02 00 11", "90 00"}, {"00 20 00 80", "63 C3"}, {"00 A4 02 0C 02 00 14", "6A 82"}},
			"reading PIN status: querying tries left of card-info 照合番号A: selecting EF 0014: ", apduclient.ErrFileNotFound},
		{"card-face applet missing", []step{{selectText, "90 00"},
			{"00 A4 02 0C 02 00 11", "90 00"}, {"00 20 00 80", "63 C3"},
			{"00 A4 02 0C 02 00 14", "90 00"}, {"00 20 00 80", "63 CA"},
			{"00 A4 02 0C 02 00 15", "90 00"}, {"00 20 00 80", "63 CA"},
			{selectVisual, "6A 82"}},
			"reading PIN status: selecting card-face applet: ", apduclient.ErrFileNotFound},
		{"6984 to the empty VERIFY", []step{{selectText, "90 00"}, {"00 A4 02 0C 02 00 11", "90 00"}, {"00 20 00 80", "69 84"}},
			"querying tries left of card-info PIN: ", apduclient.ErrPINBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(newScript(t, tt.steps...)).PINStatus()
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("err = %v, want %q (%v)", err, tt.want, tt.is)
			}
		})
	}
}

func TestFlowsAgainstSpecCard(t *testing.T) {
	t.Run("My Number needs the PIN or code A", func(t *testing.T) {
		card := testCard(t)
		c := New(card)
		if err := c.Select(TextAP); err != nil {
			t.Fatal(err)
		}
		_, err := c.ReadMyNumber()
		if !errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) || !strings.HasPrefix(err.Error(), "reading My Number: reading EF 0001: ") {
			t.Errorf("without PIN: %v", err)
		}
		if _, err := c.FactsWithCodeB(testCodeB); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ReadMyNumber(); !errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) {
			t.Errorf("code B opened EF 0001: %v", err)
		}
		if n, err := c.MyNumberWithCodeA(testMyNumber); err != nil || n != testMyNumber {
			t.Errorf("with code A: %s, %v", string(n), err)
		}
		if _, err := c.IntegrityRecord(); err != nil {
			t.Errorf("integrity record with code A: %v", err)
		}
		_ = c.Select(TextAP) // clears both codes
		if _, err := c.MyNumberWithCodeA(testMyNumber); err != nil {
			t.Fatal(err)
		}
		if _, err := c.VerifyIntegrity(); !errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) || !strings.Contains(err.Error(), "reading facts") {
			t.Errorf("VerifyIntegrity with code A only: %v, want 6982 on EF 0002", err)
		}
	})

	t.Run("integrity verified with the PIN", func(t *testing.T) {
		c := New(testCard(t))
		if err := c.Select(TextAP); err != nil {
			t.Fatal(err)
		}
		if _, err := c.MyNumber(testPIN); err != nil {
			t.Fatal(err)
		}
		in, err := c.VerifyIntegrity()
		if err != nil {
			t.Fatal(err)
		}
		if in.MyNumber != testMyNumber || in.Facts.Name != testName || len(in.MyNumberFile) != 17 || len(in.Record.Raw) != 336 || len(in.Certificate.Raw) != 568 {
			t.Errorf("%+v", in)
		}
	})

	t.Run("wrong PIN counts down and blocks", func(t *testing.T) {
		c := New(testCard(t))
		_ = c.Select(TextAP)
		for tries := 2; tries >= 0; tries-- {
			_, err := c.MyNumber("9999")
			var wp *apduclient.WrongPINError
			if !errors.As(err, &wp) || wp.TriesLeft != tries {
				t.Fatalf("wrong PIN: %v, want %d tries left", err, tries)
			}
			if !strings.HasPrefix(err.Error(), "reading My Number: verifying card-info PIN: wrong PIN") || strings.Contains(err.Error(), "9999") {
				t.Errorf("message %q", err)
			}
		}
		if _, err := c.MyNumber(testPIN); !errors.Is(err, apduclient.ErrRefDataNotUsable) {
			t.Errorf("right PIN after blocking: %v, want 6984", err)
		}
		if n, err := c.TriesLeft(TextPIN); err != nil || n != 0 {
			t.Errorf("TriesLeft = %d, %v", n, err)
		}
	})

	t.Run("free files", func(t *testing.T) {
		c := New(testCard(t))
		_ = c.Select(TextAP)
		cert, err := c.Certificate()
		if err != nil || cert.PublicKey.N.Cmp(testKeys(t)[0].N) != 0 {
			t.Errorf("Certificate: %v", err)
		}
		info, err := c.BasicInfo()
		if err != nil || info.Info[1] != 0x03 {
			t.Errorf("BasicInfo: %+v, %v", info, err)
		}
	})

	t.Run("card face with either code", func(t *testing.T) {
		c := New(testCard(t))
		for _, code := range []Code{MyNumber(testMyNumber), CodeB(testCodeB)} {
			if err := c.Select(VisualAP); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadFace(); !errors.Is(err, apduclient.ErrSecurityStatusNotSatisfied) {
				t.Errorf("face without a code: %v", err)
			}
			f, err := c.FaceData(code)
			if err != nil {
				t.Fatal(err)
			}
			if f.BirthDate != (Date{1990, time.January, 2}) || f.Sex != SexFemale || f.Expiry.Year != 2036 ||
				!f.PublicKey.Equal(&testKeys(t)[1].PublicKey) || !bytes.Equal(f.Photo, jp2Photo) {
				t.Errorf("face %+v", f)
			}
			if err := f.CheckOffsets(); err != nil {
				t.Error(err)
			}
		}
		_ = c.Select(VisualAP)
		_, err := c.FaceData(CodeB("00000000000000"))
		var wp *apduclient.WrongPINError
		if !errors.As(err, &wp) || wp.TriesLeft != 9 || !strings.HasPrefix(err.Error(), "reading card face: verifying card-face 照合番号B: ") {
			t.Errorf("wrong code B: %v", err)
		}
	})

	t.Run("basic info shorter than 256 bytes", func(t *testing.T) {
		card := testCard(t)
		card.applets[hexOf(TextAP.AID())].files[0x0005] = basicInfoFile()[:164]
		c := New(card)
		_ = c.Select(TextAP)
		if _, err := c.BasicInfo(); err == nil || !strings.Contains(err.Error(), "card returned 164 bytes for Le 00, want 256") {
			t.Errorf("BasicInfo: %v", err)
		}
	})

	t.Run("PIN status through the card", func(t *testing.T) {
		card := testCard(t)
		c := New(card)
		_ = c.Select(TextAP)
		_, _ = c.MyNumber("0000")
		st, err := c.PINStatus()
		if err != nil || st != (PINStatus{2, 10, 10, 10, 10, 3, 5}) {
			t.Errorf("PINStatus = %+v, %v", st, err)
		}
		st2, err := c.PINStatusSFI()
		if err != nil || st2 != st {
			t.Errorf("PINStatusSFI = %+v, %v", st2, err)
		}
	})
}

func TestLocalRefusals(t *testing.T) {
	c := New(newScript(t)) // nothing may be sent
	if _, err := c.MyNumber(""); err == nil || !strings.Contains(err.Error(), "empty PIN") {
		t.Errorf("empty PIN: %v", err)
	}
	if err := c.Verify(Key(42), "1234"); err == nil {
		t.Error("unknown key accepted")
	}
	if _, err := c.TriesLeft(Key(-1)); err == nil {
		t.Error("unknown key accepted")
	}
	if err := c.Select(Applet(7)); err == nil {
		t.Error("unknown applet accepted")
	}
	if _, err := c.FaceData(nil); err == nil {
		t.Error("nil code accepted")
	}
}

func TestReadTLVErrors(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		want  string
	}{
		{"header reading refused", []step{{"00 A4 02 0C 02 00 02", "90 00"}, {"00 B0 00 00 07", "69 82"}}, "reading header of EF 0002: card returned SW 6982"},
		{"card answers more than Le", []step{{"00 A4 02 0C 02 00 02", "90 00"}, {"00 B0 00 00 07", "FF 20 05 DF 25 01 32 FF 90 00"}}, "card returned 8 bytes for Le 7"},
		{"indefinite length", []step{{"00 A4 02 0C 02 00 02", "90 00"}, {"00 B0 00 00 07", "FF 20 80 00 00 90 00"}}, "parsing header of EF 0002: invalid TLV"},
		{"file shorter than its TLV", []step{{"00 A4 02 0C 02 00 02", "90 00"}, {"00 B0 00 00 07", "FF 20 10 DF 25 01 32 90 00"}, {"00 B0 00 00 13", "FF 20 10 DF 25 01 32 90 00"}, {"00 B0 00 07 0C", "6B 00"}}, "SW 6B00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(newScript(t, tt.steps...)).ReadTLV(EFTextFacts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestTraceMasksCodes checks that the trace package masks the VERIFY data of
// this client's keys: the PIN, 照合番号A and 照合番号B.
func TestTraceMasksCodes(t *testing.T) {
	rec := trace.New()
	c := New(harness.Traced(testCard(t), rec))
	_ = c.Select(TextAP)
	if _, err := c.MyNumber(testPIN); err != nil {
		t.Fatal(err)
	}
	_ = c.Select(TextAP)
	if _, err := c.FactsWithCodeB(testCodeB); err != nil {
		t.Fatal(err)
	}
	_ = c.Select(VisualAP)
	if _, err := c.FaceData(MyNumber(testMyNumber)); err != nil {
		t.Fatal(err)
	}
	verifies := 0
	for _, e := range rec.Exchanges() {
		if len(e.Command) > 5 && e.Command[1] == 0x20 {
			verifies++
			for _, secret := range []string{testPIN, testCodeB, testMyNumber} {
				if bytes.Contains(e.Command, []byte(secret)) {
					t.Errorf("VERIFY recorded with its data: % X", e.Command)
				}
			}
			if e.MaskedLen != int(e.Command[4]) {
				t.Errorf("masked %d bytes of a %d-byte VERIFY", e.MaskedLen, e.Command[4])
			}
		}
	}
	if verifies != 3 {
		t.Errorf("%d VERIFYs recorded, want 3", verifies)
	}
	s := rec.String()
	for _, secret := range []string{hexOf([]byte(testPIN)), hexOf([]byte(testCodeB))} {
		if strings.Contains(s, secret) {
			t.Errorf("trace text shows %s", secret)
		}
	}
}
