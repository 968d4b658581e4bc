package simreplay_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/transcript"
	_ "github.com/mynahil/mynahil/scenarios/framework" // opens simulated targets
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simreplay"
)

// recordSim records the probe against a fresh simulated card of profile p,
// with its PINs.
func recordSim(t *testing.T, p profile.Profile) *transcript.Transcript {
	t.Helper()
	sim, err := simreplay.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	defer harness.Close(sim.Transport)
	tr, err := transcript.Record(sim.Transport, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN, Card: sim.Description})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func withToken(tok string) profile.Profile { p := profile.Default(); p.Token = tok; return p }
func withATR(a string) profile.Profile     { p := profile.Default(); p.ATR = a; return p }

// diffKeys names differences as "step name: field", for exact comparisons.
func diffKeys(diffs []transcript.Difference) []string {
	var out []string
	for _, d := range diffs {
		out = append(out, fmt.Sprintf("%d %s: %s", d.Step, d.Name, d.Field))
	}
	return out
}

func compareWith(t *testing.T, recorded *transcript.Transcript, p profile.Profile) []transcript.Difference {
	t.Helper()
	replayed, diffs, err := simreplay.Compare(recorded, p)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	_ = transcript.Report(&b, recorded, replayed, diffs)
	t.Log("\n" + b.String())
	return diffs
}

// A transcript written from the answers public clients assert against real
// cards compares clean with the simulated card.
func TestPublishedRealCardAnswers(t *testing.T) {
	pub, err := transcript.Load("testdata/published-real-card.json")
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range pub.Steps {
		if s.Command != "RESET" && s.Source == "" && !strings.HasPrefix(s.Name, "SELECT") {
			t.Errorf("step %d %q cites no source", i+1, s.Name)
		}
	}
	if diffs := compareWith(t, pub, profile.Default()); len(diffs) != 0 {
		t.Fatalf("%d differences from published real-card answers: %q", len(diffs), diffKeys(diffs))
	}
}

// Planted differences are reported exactly, each with its step.
func TestPlantedDifferences(t *testing.T) {
	pub, err := transcript.Load("testdata/published-real-card.json")
	if err != nil {
		t.Fatal(err)
	}
	at := func(name string) int {
		i := slices.IndexFunc(pub.Steps, func(s transcript.Step) bool { return s.Name == name })
		if i < 0 {
			t.Fatalf("no step %q", name)
		}
		return i
	}
	pub.Steps[at("80 A2 00 C1 with 256 bytes")].SW = "6D00"                    // the simulator's answer before issue 11
	pub.Steps[at("READ token label")].Value = strings.Repeat("20 ", 31) + "20" // another label
	pub.Steps[at("READ auth certificate header")].ObjLen = 2000                // beyond 10%
	pub.Steps[at("READ text basic info (256)")].Shape = "FF40{DF41 DF42}"      // another structure
	pub.Steps[at("READ RECORD 1 of SFI 1")].Len = 29                           // another length
	want := []string{
		fmt.Sprintf("%d 80 A2 00 C1 with 256 bytes: status word", at("80 A2 00 C1 with 256 bytes")+1),
		fmt.Sprintf("%d READ token label: value", at("READ token label")+1),
		fmt.Sprintf("%d READ auth certificate header: declared length", at("READ auth certificate header")+1),
		fmt.Sprintf("%d READ text basic info (256): structure", at("READ text basic info (256)")+1),
		fmt.Sprintf("%d READ RECORD 1 of SFI 1: length", at("READ RECORD 1 of SFI 1")+1),
	}
	if got := diffKeys(compareWith(t, pub, profile.Default())); !slices.Equal(got, want) {
		t.Fatalf("differences\n%q\nwant\n%q", got, want)
	}
}

// A recording of one profile replayed against another reports exactly what
// the profiles change.
func TestOtherProfiles(t *testing.T) {
	rec := recordSim(t, profile.Default())
	if diffs := compareWith(t, rec, profile.Default()); len(diffs) != 0 {
		t.Fatalf("same profile: %q", diffKeys(diffs))
	}
	names := func(diffs []transcript.Difference) []string {
		var out []string
		for _, d := range diffs {
			out = append(out, d.Name+": "+d.Field)
		}
		return out
	}
	for _, tt := range []struct {
		p    profile.Profile
		want []string
	}{
		{withToken(profile.TokenAndroid), []string{
			"READ token label (myna): value",
			"READ auth certificate header (OpenSC): status word",
			"READ auth certificate, 7 bytes (myna): status word",
		}},
		{withToken(profile.TokenIPhone), []string{
			"READ token label (myna): value",
			"READ auth certificate header (OpenSC): status word",
			"READ auth certificate, 7 bytes (myna): status word",
			"80 FC last command (iPhone token): status word",
		}},
		{withToken(profile.TokenJuki), []string{"READ token label (myna): value"}},
		{withATR("contactless"), []string{"ATR: value"}},
		{withATR("contact-02"), []string{"ATR: value", "GET DATA 5F51 contact ATR: value", "GET DATA 5F51 in an applet: value"}},
	} {
		t.Run(simreplay.Describe(tt.p), func(t *testing.T) {
			if got := names(compareWith(t, rec, tt.p)); !slices.Equal(got, tt.want) {
				t.Fatalf("differences\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// logged records the commands a Transport is sent.
type logged struct {
	harness.Transport
	sent [][]byte
}

func (l *logged) Transmit(cmd []byte) ([]byte, error) {
	l.sent = append(l.sent, append([]byte(nil), cmd...))
	return l.Transport.Transmit(cmd)
}

// Reset forwards the optional reset: the recorder resets between steps.
func (l *logged) Reset() error { return harness.Reset(l.Transport) }

// ATR forwards the optional ATR: the recording starts with it.
func (l *logged) ATR() ([]byte, error) { return harness.ATR(l.Transport) }

func (l *logged) verifiesWithData() int {
	n := 0
	for _, c := range l.sent {
		if len(c) > 5 && c[0] == 0x00 && c[1] == 0x20 {
			n++
		}
	}
	return n
}

func simTransport(t *testing.T, p profile.Profile) (*logged, *simreplay.Simulated) {
	t.Helper()
	sim, err := simreplay.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { harness.Close(sim.Transport) })
	return &logged{Transport: sim.Transport}, sim
}

func triesLeft(t *testing.T, tr harness.Transport, ref jpkiclient.PINRef) int {
	t.Helper()
	c := jpkiclient.New(tr)
	if err := c.SelectAP(); err != nil {
		t.Fatal(err)
	}
	n, err := c.TriesLeft(ref)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Record's safety rules on a card: reads only without PINs; PINs only when
// every try is left; never a PIN in the file; a different card refused.
func TestRecordSafety(t *testing.T) {
	t.Run("without PINs it only reads or sends what the card refuses", func(t *testing.T) {
		l, _ := simTransport(t, profile.Default())
		tr, err := transcript.Record(l, transcript.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range l.sent {
			ins := c[1]
			switch {
			case c[0] == 0x00 && slices.Contains([]byte{0xA4, 0xB0, 0xB2, 0xCA, 0x84}, ins):
			case c[0] == 0x00 && ins == 0x20 && len(c) <= 5: // tries-left query
			case c[0] == 0x80 && slices.Contains([]byte{0xA2, 0xAE, 0xFC, 0x2A}, ins): // refused: wrong length, no SM, no PIN
			case c[0] != 0x00 && c[0] != 0x80: // other CLA: refused
			case ins == 0xEE:
			default:
				t.Errorf("command % X is neither a read nor refused", c)
			}
		}
		for _, s := range tr.Steps {
			if s.NeedsPIN() != "" {
				t.Errorf("step %q with a PIN recorded without PINs", s.Name)
			}
		}
	})
	t.Run("PINs never reach the file", func(t *testing.T) {
		p := profile.Default()
		p.PINs.Auth, p.PINs.Sign = "9182", "QX7Z3W9K"
		l, sim := simTransport(t, p)
		tr, err := transcript.Record(l, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN})
		if err != nil {
			t.Fatal(err)
		}
		// The auth PIN once; the sign PIN twice (before and after the
		// SCARD_RESET_CARD step of the probe).
		if l.verifiesWithData() != 3 {
			t.Fatalf("%d VERIFYs with a PIN, want 3", l.verifiesWithData())
		}
		var b bytes.Buffer
		if err := tr.Write(&b); err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"9182", "39 31 38 32", "QX7Z3W9K", "51 58 37 5A"} {
			if strings.Contains(b.String(), secret) {
				t.Fatalf("transcript holds %q", secret)
			}
		}
		if !strings.Contains(b.String(), transcript.AuthPINPlaceholder) || !strings.Contains(b.String(), transcript.SignPINPlaceholder) {
			t.Fatal("no PIN placeholders in the transcript")
		}
	})
	t.Run("personal data never reaches the file", func(t *testing.T) {
		p := profile.Default()
		l, sim := simTransport(t, p)
		tr, err := transcript.Record(l, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := tr.Write(&b); err != nil {
			t.Fatal(err)
		}
		file := strings.ToUpper(b.String())
		for _, v := range []string{p.Holder.Name, p.Holder.Address, p.Holder.BirthDate.Format("20060102"), p.MyNumber} {
			for _, form := range []string{v, fmt.Sprintf("% X", v), fmt.Sprintf("%X", v)} {
				if strings.Contains(file, strings.ToUpper(form)) {
					t.Errorf("transcript holds %q as %q", v, form)
				}
			}
		}
		// The probe reads only the headers of personal files (docs/record-compare.md).
		signRead := slices.ContainsFunc(tr.Steps, func(s transcript.Step) bool {
			return s.Name == "READ sign certificate header" && s.SW == "9000" && s.Value == ""
		})
		if !signRead {
			t.Error("the signing certificate's header was not read behind the sign PIN, or was kept verbatim")
		}
	})
	t.Run("a spent try: the PIN is not sent", func(t *testing.T) {
		l, sim := simTransport(t, profile.Default())
		c := jpkiclient.New(sim.Transport)
		if err := c.SelectAP(); err != nil {
			t.Fatal(err)
		}
		if err := c.VerifyPIN(jpkiclient.AuthPIN, "0000"); err == nil {
			t.Fatal("wrong PIN accepted")
		}
		_, err := transcript.Record(l, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN})
		if !errors.Is(err, transcript.ErrTriesSpent) {
			t.Fatalf("Record = %v, want ErrTriesSpent", err)
		}
		if n := l.verifiesWithData(); n != 0 {
			t.Fatalf("%d VERIFYs with a PIN sent", n)
		}
		if n := triesLeft(t, sim.Transport, jpkiclient.AuthPIN); n != 2 {
			t.Fatalf("auth tries %d, want 2", n)
		}
	})
	t.Run("a wrong PIN: one try, then stop", func(t *testing.T) {
		l, sim := simTransport(t, profile.Default())
		_, err := transcript.Record(l, transcript.Options{AuthPIN: "4321", SignPIN: sim.SignPIN})
		if !errors.Is(err, transcript.ErrPINRefused) {
			t.Fatalf("Record = %v, want ErrPINRefused", err)
		}
		if n := l.verifiesWithData(); n != 1 {
			t.Fatalf("%d VERIFYs with a PIN sent, want 1", n)
		}
		if n := triesLeft(t, sim.Transport, jpkiclient.SignPIN); n != 5 {
			t.Fatalf("sign tries %d, want 5", n)
		}
	})
	t.Run("another card's fingerprint: refused before any PIN", func(t *testing.T) {
		l, sim := simTransport(t, profile.Default())
		other := strings.Repeat("ab", 32)
		tr, err := transcript.Record(l, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN, Fingerprint: other})
		if !errors.Is(err, transcript.ErrWrongCard) {
			t.Fatalf("Record = %v, want ErrWrongCard", err)
		}
		if l.verifiesWithData() != 0 || len(tr.Steps) != 0 {
			t.Fatalf("%d PINs sent, %d steps recorded", l.verifiesWithData(), len(tr.Steps))
		}
		want := cardid.Of(sim.Issued.AuthCert.Raw)
		if _, err := transcript.Record(l, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN, Fingerprint: strings.ToUpper(want)}); err != nil {
			t.Fatalf("the right fingerprint refused: %v", err)
		}
	})
}

// A transcript of the simulated card recorded through pcscd compares clean
// with the in-process card: the PC/SC path changes no answer.
func TestPCSCRecordingMatchesInProcess(t *testing.T) {
	testRecordingMatchesInProcess(t, target.PCSC)
}

// The same over the vpcd wire format without pcscd.
func TestVPCDRecordingMatchesInProcess(t *testing.T) {
	testRecordingMatchesInProcess(t, target.VPCD)
}

func testRecordingMatchesInProcess(t *testing.T, kind target.Kind) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tgt, err := target.Open(ctx, target.Config{Kind: kind})
	if err != nil {
		t.Fatalf("opening the %s target (pcsc: run under scripts/with-pcscd): %v", kind, err)
	}
	defer tgt.Close()
	pins := tgt.PINs()
	rec, err := transcript.Record(tgt.Transport(), transcript.Options{AuthPIN: pins.Auth, SignPIN: pins.Sign, Card: "simulated card through " + string(kind)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Steps) != len(transcript.Probe()) {
		t.Fatalf("%d steps recorded, want all %d", len(rec.Steps), len(transcript.Probe()))
	}
	if diffs := compareWith(t, rec, profile.Default()); len(diffs) != 0 {
		t.Fatalf("%s vs in process: %q", kind, diffKeys(diffs))
	}
}
