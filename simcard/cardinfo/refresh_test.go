package cardinfo_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

// transmit sends a hex command and returns data and SW.
func transmit(t *testing.T, c *card.Card, cmd string) ([]byte, uint16) {
	t.Helper()
	r := c.Transmit(unhex(t, cmd))
	return r[:len(r)-2], uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
}

func expectSW(t *testing.T, c *card.Card, cmd string, want uint16) []byte {
	t.Helper()
	data, sw := transmit(t, c, cmd)
	if sw != want {
		t.Fatalf("%s → %04X, want %04X", cmd, sw, want)
	}
	return data
}

func selectAID(aid []byte) string { return "00A4040C0A" + hex.EncodeToString(aid) }

func verifyCmd(pin string) string {
	return "00200080" + hex.EncodeToString([]byte{byte(len(pin))}) + hex.EncodeToString([]byte(pin))
}

func TestRefreshAfterAddressChange(t *testing.T) {
	p := profile.Default()
	st := build(t, p)
	c, err := card.New(*st)
	if err != nil {
		t.Fatal(err)
	}

	// Spend one try of text 照合番号B: a refresh that leaves the code as it
	// was must not restore it.
	expectSW(t, c, selectAID(cardinfo.TextAID), 0x9000)
	expectSW(t, c, "00A4020C020015", 0x9000)
	expectSW(t, c, verifyCmd("00000000000000"), 0x63C9)

	p.Holder.Address = "大阪府大阪市北区新住所町四丁目５番６号"
	if err := c.Modify(func(st *card.State) error { return shared(t).Refresh(st, p) }); err != nil {
		t.Fatal(err)
	}
	var after card.State
	c.Inspect(func(st *card.State) { after = *st })
	facts := fields(t, file(t, &after, cardinfo.TextAID, cardinfo.EFTextFacts), 0xFF20)
	if string(facts[0xDF23].Value) != p.Holder.Address {
		t.Fatalf("DF23 = %q after refresh", facts[0xDF23].Value)
	}
	checkIntegrity(t, &after)
	face := file(t, &after, cardinfo.VisualAID, cardinfo.EFVisualFace)
	if f := fields(t, face, 0xFF20); !bytes.Equal(f[0xDF26].Value, cardinfo.TextPNG(p.Holder.Address)) {
		t.Error("the face applet's address image was not redrawn")
	}

	expectSW(t, c, selectAID(cardinfo.TextAID), 0x9000)
	expectSW(t, c, "00A4020C020015", 0x9000)
	expectSW(t, c, "0020008000", 0x63C9)
	codeB, err := cardinfo.CodeB(p.Holder.BirthDate.Time, cardinfo.CardExpiry(p), p.SecurityCode)
	if err != nil {
		t.Fatal(err)
	}
	expectSW(t, c, verifyCmd(codeB), 0x9000)
	expectSW(t, c, "00A4020C020002", 0x9000)
	data := expectSW(t, c, "00B0000000", 0x9000)
	// The file is longer than 256 bytes only for very long addresses; this one fits.
	if !bytes.Contains(data, []byte(p.Holder.Address)) {
		t.Error("READ BINARY of 0002 does not return the new address")
	}
}

func TestRefreshAfterBirthDateCorrection(t *testing.T) {
	p := profile.Default()
	st := build(t, p)
	oldB, _ := cardinfo.CodeB(p.Holder.BirthDate.Time, cardinfo.CardExpiry(p), p.SecurityCode)
	p.Holder.BirthDate = profile.NewDate(1989, time.January, 7)
	if err := shared(t).Refresh(st, p); err != nil {
		t.Fatal(err)
	}
	c, err := card.New(*st)
	if err != nil {
		t.Fatal(err)
	}
	newB, _ := cardinfo.CodeB(p.Holder.BirthDate.Time, cardinfo.CardExpiry(p), p.SecurityCode)
	if newB == oldB || !strings.HasPrefix(newB, "640107") {
		t.Fatalf("code B %q, was %q", newB, oldB)
	}
	expectSW(t, c, selectAID(cardinfo.VisualAID), 0x9000)
	expectSW(t, c, "00A4020C020011", 0x9000)
	expectSW(t, c, verifyCmd("640107"), 0x9000)
	expectSW(t, c, "00A4020C020012", 0x9000)
	expectSW(t, c, verifyCmd(oldB), 0x63C9)
	expectSW(t, c, verifyCmd(newB), 0x9000)
	age := fields(t, file(t, st, cardinfo.VisualAID, cardinfo.EFVisualAge), 0xFF10)
	if string(age[0xDF11].Value) != "19890107" {
		t.Errorf("age record DF11 %q", age[0xDF11].Value)
	}
	if got := string(st.DF(cardinfo.CommonAID).File(cardinfo.EFCommonInfo).Records[0][22:]); got != cardinfo.CardExpiry(p).Format("20060102") {
		t.Errorf("common record expiry %q", got)
	}
}

func TestRefreshLeavesStateOnError(t *testing.T) {
	st := build(t, profile.Default())
	before := file(t, st, cardinfo.TextAID, cardinfo.EFTextFacts)
	p := profile.Default()
	p.Holder.Address = ""
	if err := shared(t).Refresh(st, p); err == nil {
		t.Fatal("refresh accepted an empty address")
	}
	if !bytes.Equal(before, file(t, st, cardinfo.TextAID, cardinfo.EFTextFacts)) {
		t.Fatal("a failed refresh changed EF 0002")
	}
	if err := shared(t).Refresh(&card.State{}, profile.Default()); err == nil {
		t.Fatal("refresh of a card without the applets succeeded")
	}
}

func TestStatusQueryAndLockoutPerApplet(t *testing.T) {
	c, err := card.New(*build(t, profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		aid  []byte
		pin  string
		want uint16
	}{
		{cardinfo.TextAID, "0011", 0x63C3},
		{cardinfo.TextAID, "0012", 0x63C0},
		{cardinfo.TextAID, "0014", 0x63CA},
		{cardinfo.TextAID, "0015", 0x63CA},
		{cardinfo.VisualAID, "0011", 0x63CA},
		{cardinfo.VisualAID, "0012", 0x63CA},
		{cardinfo.VisualAID, "0013", 0x63CA},
		{cardinfo.JukiAID, "001C", 0x63C3},
		{cardinfo.CommonAID, "001C", 0x63C3},
	}
	for _, tt := range tests {
		expectSW(t, c, selectAID(tt.aid), 0x9000)
		expectSW(t, c, "00A4020C02"+tt.pin, 0x9000)
		expectSW(t, c, "00200080", tt.want)
		expectSW(t, c, "0020008000", tt.want)
	}
	// 0012 of the text applet is blocked from issuance.
	expectSW(t, c, selectAID(cardinfo.TextAID), 0x9000)
	expectSW(t, c, "00A4020C020012", 0x9000)
	expectSW(t, c, verifyCmd("1234"), 0x6984)
	// Locking the 住基AP PIN leaves the common applet's 001C alone.
	expectSW(t, c, selectAID(cardinfo.JukiAID), 0x9000)
	expectSW(t, c, "00A4020C02001C", 0x9000)
	for _, want := range []uint16{0x63C2, 0x63C1, 0x63C0} {
		expectSW(t, c, verifyCmd("9999"), want)
	}
	expectSW(t, c, verifyCmd("1234"), 0x6984)
	expectSW(t, c, selectAID(cardinfo.CommonAID), 0x9000)
	expectSW(t, c, "00A4020C02001C", 0x9000)
	expectSW(t, c, "00200080", 0x63C3)
	expectSW(t, c, verifyCmd("1234"), 0x9000)
}

func TestCommonApplet(t *testing.T) {
	c, err := card.New(*build(t, profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	expectSW(t, c, selectAID(cardinfo.CommonAID), 0x9000)
	rec := expectSW(t, c, "00B2010C00", 0x9000) // myna-rs: READ RECORD 1, SFI 1
	if len(rec) != 30 || rec[0] != 0x01 || rec[1] != 0x1C {
		t.Fatalf("record 1: % X", rec)
	}
	sig := expectSW(t, c, "0088009908"+"0102030405060708"+"00", 0x9000) // INTERNAL AUTHENTICATE with key 0019
	if len(sig) != 256 {
		t.Fatalf("INTERNAL AUTHENTICATE gave %d bytes", len(sig))
	}
	// CHANGE KEY needs the PIN, then changes it.
	expectSW(t, c, "00A4020C02001C", 0x9000)
	expectSW(t, c, "8032008004"+hex.EncodeToString([]byte("4321")), 0x6982)
	expectSW(t, c, verifyCmd("1234"), 0x9000)
	expectSW(t, c, "8032008003"+hex.EncodeToString([]byte("432")), 0x6A80)
	expectSW(t, c, "8032008004"+hex.EncodeToString([]byte("4321")), 0x9000)
	expectSW(t, c, selectAID(cardinfo.CommonAID), 0x9000)
	expectSW(t, c, "00A4020C02001C", 0x9000)
	expectSW(t, c, verifyCmd("1234"), 0x63C2)
	expectSW(t, c, verifyCmd("4321"), 0x9000)
}

func TestAppletKeysSignWithoutPIN(t *testing.T) {
	c, err := card.New(*build(t, profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	for _, aid := range [][]byte{cardinfo.TextAID, cardinfo.VisualAID} {
		expectSW(t, c, selectAID(aid), 0x9000)
		if sig := expectSW(t, c, "802A000020"+strings.Repeat("AB", 32)+"00", 0x9000); len(sig) != 256 {
			t.Errorf("% X: signature of %d bytes", aid, len(sig))
		}
	}
	// Other 券面 keys refuse INTERNAL AUTHENTICATE (6985, jpki-card.md §4.5).
	expectSW(t, c, selectAID(cardinfo.TextAID), 0x9000)
	expectSW(t, c, "0088009308"+"0102030405060708"+"00", 0x6985)
}

func TestMF(t *testing.T) {
	p := profile.Default()
	st := build(t, p)
	if err := cardinfo.MF(st, p, cardinfo.CardExpiry(p)); err != nil {
		t.Fatal(err)
	}
	if err := cardinfo.MF(st, p, cardinfo.CardExpiry(p)); err != nil { // idempotent
		t.Fatal(err)
	}
	if len(st.MFFiles) != 1 {
		t.Fatalf("%d MF files after two runs", len(st.MFFiles))
	}
	c, err := card.New(*st)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cmd  string
		want string
	}{
		{"00CA00F000", "13101"},
		{"00CA00F200", "20360102"},
	}
	for _, tt := range tests {
		if got := expectSW(t, c, tt.cmd, 0x9000); string(got) != tt.want {
			t.Errorf("%s = %q, want %q", tt.cmd, got, tt.want)
		}
	}
	if got := expectSW(t, c, "00CA5F5100", 0x9000); !bytes.Equal(got, card.DefaultATR[1:]) {
		t.Errorf("5F51 = % X", got)
	}
	expectSW(t, c, "00A4020C02001E", 0x9000)
	expectSW(t, c, "00B0000000", 0x6981)
	expectSW(t, c, "00B2010400", 0x6981)

	bad := p
	bad.Municipality = "1310"
	if err := cardinfo.MF(st, bad, cardinfo.CardExpiry(p)); err == nil {
		t.Error("MF accepted a 4-digit municipality")
	}
	st.ATR = []byte{0x00}
	if err := cardinfo.MF(st, p, cardinfo.CardExpiry(p)); err == nil {
		t.Error("MF accepted a bad ATR")
	}
}

// TestPhotoDecodesWithOpenJPEG decodes the photograph with OpenJPEG's
// opj_decompress when it is installed (Debian: libopenjp2-tools); the
// structure test above runs everywhere.
func TestPhotoDecodesWithOpenJPEG(t *testing.T) {
	tool, err := exec.LookPath("opj_decompress")
	if err != nil {
		t.Skip("opj_decompress not installed")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "face.jp2"), filepath.Join(dir, "face.pgm")
	if err := os.WriteFile(in, cardinfo.PhotoJP2(48, 60), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool, "-i", in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("opj_decompress: %v\n%s", err, b)
	}
	pgm, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(pgm, []byte("48 60\n255\n")) || len(pgm) < 48*60 {
		t.Fatalf("decoded %d bytes: %q", len(pgm), pgm[:min(len(pgm), 40)])
	}
	for _, v := range pgm[len(pgm)-48*60:] {
		if v != 128 {
			t.Fatalf("sample %d, want the flat 128", v)
		}
	}
}

// TestRefreshOfAPersistedCard issues through simcard with the applets and
// MF level, stores the state as the simulator does, loads it into a new card
// and refreshes it there: the applet keys come back from their PKCS#1 form.
func TestRefreshOfAPersistedCard(t *testing.T) {
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	is.Extra = []simcard.AppletSet{shared(t)}
	p := profile.Default()
	iss, err := is.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := iss.Card.Modify(func(st *card.State) error { return cardinfo.MF(st, p, iss.CardExpiry) }); err != nil {
		t.Fatal(err)
	}
	saved, err := iss.Card.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c, err := card.Load(saved)
	if err != nil {
		t.Fatal(err)
	}
	p.Holder.Name = "試験　花江"
	p.PINs = profile.PINs{Auth: "0000", Sign: "000000", CardInfo: "0000", Resident: "0000", Common: "0000"}
	if err := c.Modify(func(st *card.State) error { return shared(t).Refresh(st, p) }); err != nil {
		t.Fatal(err)
	}
	var st card.State
	c.Inspect(func(s *card.State) { st = *s })
	checkIntegrity(t, &st)
	if got := fields(t, file(t, &st, cardinfo.TextAID, cardinfo.EFTextFacts), 0xFF20)[0xDF22].Value; string(got) != p.Holder.Name {
		t.Fatalf("name %q", got)
	}
	// The holder's PIN is the one set at issuance, not the placeholder.
	expectSW(t, c, selectAID(cardinfo.TextAID), 0x9000)
	expectSW(t, c, "00A4020C020011", 0x9000)
	expectSW(t, c, verifyCmd(profile.Default().PINs.CardInfo), 0x9000)
	if got := expectSW(t, c, "00CA00F200", 0x9000); string(got) != "20360102" {
		t.Errorf("00F2 = %q", got)
	}
}
