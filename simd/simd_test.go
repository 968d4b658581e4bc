package simd

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/vpcd"
)

var (
	selectJPKI    = hexb("00A4040C0AD392F000260100000001")
	selectAuthPIN = hexb("00A4020C020018")
	selectAuthCrt = hexb("00A4020C02000A")
	readBinary256 = hexb("00B0000000")
)

func hexb(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func verify(pin string) []byte {
	return append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...)
}

func sw(resp []byte) uint16 {
	if len(resp) < 2 {
		return 0
	}
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is a daemon on a temporary state directory whose slot 0 is a Go vpcd
// reader standing in for pcscd.
type rig struct {
	t       *testing.T
	state   string
	reader  *vpcd.Reader
	d       *Daemon
	client  *simapi.Client
	logs    *syncBuffer
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

func shortTempDir(t testing.TB) string {
	// Unix socket paths must stay under 108 bytes; t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "simd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func newRig(t *testing.T, state string, reader *vpcd.Reader, cfg Config) *rig {
	t.Helper()
	if reader == nil {
		var err error
		if reader, err = vpcd.Listen("", vpcd.WithTimeout(5*time.Second), vpcd.WithLogger(slog.New(slog.DiscardHandler))); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { reader.Close() })
	}
	r := &rig{t: t, state: state, reader: reader, logs: &syncBuffer{}}
	cfg.StateDir = state
	cfg.VPCD = reader.Addr()
	cfg.Backoff = 10 * time.Millisecond
	if cfg.RemovalTime == 0 {
		cfg.RemovalTime = 50 * time.Millisecond // the Go reader needs no poll to see a removal
	}
	cfg.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(r.stop)
	if r.client, err = simapi.Dial(d.ControlAddr()); err != nil {
		t.Fatalf("Dial control: %v", err)
	}
	t.Cleanup(func() { r.client.Close() })
	return r
}

// stop cancels the daemon and waits for Run to return.
func (r *rig) stop() {
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatalf("Run did not return after cancel")
	}
}

func (r *rig) waitCard() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.reader.WaitCard(ctx); err != nil {
		r.t.Fatalf("WaitCard: %v", err)
	}
}

// waitGone waits until the reader sees the card leave: an exchange fails
// as removed (docs/vpcd-pcscd.md §3.4, §5.2).
func (r *rig) waitGone() {
	r.t.Helper()
	eventually(r.t, "reader to see the card leave", func() bool {
		_, err := r.reader.Transmit(selectJPKI)
		return errors.Is(err, vpcd.ErrCardRemoved) || errors.Is(err, vpcd.ErrNoCard)
	})
}

func (r *rig) transmit(cmd []byte) []byte {
	r.t.Helper()
	resp, err := r.reader.Transmit(cmd)
	if err != nil {
		r.t.Fatalf("Transmit % X: %v", cmd[:4], err)
	}
	return resp
}

func (r *rig) expectSW(cmd []byte, want uint16) []byte {
	r.t.Helper()
	resp := r.transmit(cmd)
	if got := sw(resp); got != want {
		r.t.Fatalf("% X → SW %04X, want %04X", cmd[:4], got, want)
	}
	return resp
}

func (r *rig) list() []SlotInfo {
	r.t.Helper()
	out, err := r.client.List(context.Background())
	if err != nil {
		r.t.Fatalf("sim.list: %v", err)
	}
	return out
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAPDUsReachTheCard(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	r.waitCard()
	atr, err := r.reader.ATR()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(atr, card.DefaultATR) {
		t.Errorf("ATR % X, want % X", atr, card.DefaultATR)
	}
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthCrt, 0x9000)
	cert := r.expectSW(readBinary256, 0x9000)
	if len(cert) != 258 || cert[0] != 0x30 {
		t.Errorf("auth certificate starts % X (%d bytes), want a DER SEQUENCE", cert[:min(4, len(cert))], len(cert))
	}
	// Unknown applets are refused (docs/card.md §1): the card is not an echo.
	if got := sw(r.transmit(hexb("00A4040C0AA000000000000000000000"))); got == 0x9000 {
		t.Errorf("SELECT of an unknown AID answered 9000")
	}

	got := r.list()
	want := []SlotInfo{{Card: got[0].Card, Slot: 0, Reader: "Virtual PCD 00 00", VPCD: r.reader.Addr(),
		Inserted: true, Connected: true, ATR: fmt.Sprintf("% X", card.DefaultATR),
		Status: string(office.Active), Holder: profile.Default().Holder.Name}}
	if d := cmp.Diff(want, got); d != "" || got[0].Card == "" {
		t.Errorf("sim.list (-want +got):\n%s", d)
	}
	st, err := r.client.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.PID != os.Getpid() || st.Cards != 1 || st.Inserted != 1 || st.Connected != 1 || st.Started.IsZero() || !filepath.IsAbs(st.StateDir) {
		t.Errorf("sim.status = %+v", st)
	}
}

func TestRemoveAndInsertOverControl(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	r.waitCard()
	id := r.list()[0].Card
	ctx := context.Background()

	out, err := r.client.Remove(ctx, Selector{Card: id})
	if err != nil {
		t.Fatalf("sim.remove: %v", err)
	}
	if len(out) != 1 || out[0].Inserted {
		t.Errorf("sim.remove returned %+v", out)
	}
	r.waitGone()
	if l := r.list(); l[0].Inserted || l[0].Connected {
		t.Errorf("after remove: %+v", l[0])
	}
	// While removed the card does not come back by itself.
	wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	err = r.reader.WaitCard(wctx)
	cancel()
	if err == nil {
		t.Fatalf("card reconnected while removed")
	}

	slot := 0
	if _, err := r.client.Insert(ctx, Selector{Slot: &slot}); err != nil {
		t.Fatalf("sim.insert: %v", err)
	}
	r.waitCard()
	r.expectSW(selectJPKI, 0x9000)
	eventually(t, "sim.list to show the card connected", func() bool { return r.list()[0].Connected })

	logs := r.logs.String()
	for _, want := range []string{"removing card", "inserting card", "by=control", "card removed", "card connected to vpcd"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
}

func TestControlErrors(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	id := r.list()[0].Card
	zero, seven := 0, 7
	for _, tc := range []struct {
		method string
		params any
		rule   string
	}{
		{"sim.insert", Selector{Card: "no-such-card"}, RuleUnknownCard},
		{"sim.remove", Selector{Slot: &seven}, RuleUnknownSlot},
		{"sim.remove", Selector{}, RuleBadSelector},
		{"sim.insert", Selector{Card: id, All: true}, RuleBadSelector},
		{"sim.insert", Selector{Card: "x", Slot: &zero}, RuleUnknownCard},
		{"sim.insert", map[string]any{"crad": id}, control.RuleBadParams},
		{"sim.explode", nil, control.RuleUnknownMethod},
	} {
		err := r.client.Call(context.Background(), tc.method, tc.params, nil)
		var re *simapi.RefusedError
		if !errors.As(err, &re) || re.RuleName != tc.rule || re.Reason == "" {
			t.Errorf("%s %+v: err = %v, want rule %s", tc.method, tc.params, err, tc.rule)
		}
	}
}

func TestSpentPINTrySurvivesRestart(t *testing.T) {
	state := shortTempDir(t)
	reader, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	r := newRig(t, state, reader, Config{})
	r.waitCard()
	id := r.list()[0].Card
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthCrt, 0x9000)
	certBefore := r.expectSW(readBinary256, 0x9000)
	r.expectSW(selectAuthPIN, 0x9000)
	r.expectSW(verify("9999"), 0x63C2)
	r.stop()
	r.waitGone()

	r2 := newRig(t, state, reader, Config{Profiles: []profile.Profile{profile.Default()}})
	r2.waitCard()
	if got := r2.list(); len(got) != 1 || got[0].Card != id {
		t.Fatalf("after restart: cards %+v, want just %s", got, id)
	}
	if !strings.Contains(r2.logs.String(), "--profile ignored") {
		t.Errorf("restart with profiles did not say they were ignored")
	}
	r2.expectSW(selectJPKI, 0x9000)
	r2.expectSW(selectAuthCrt, 0x9000)
	if certAfter := r2.expectSW(readBinary256, 0x9000); !bytes.Equal(certBefore, certAfter) {
		t.Errorf("authentication certificate changed across the restart")
	}
	r2.expectSW(selectAuthPIN, 0x9000)
	r2.expectSW(verify("9999"), 0x63C1) // 3 → 2 before the restart, 2 → 1 now
	r2.expectSW(verify(profile.Default().PINs.Auth), 0x9000)
}

func TestStateDirIsLocked(t *testing.T) {
	state := shortTempDir(t)
	newRig(t, state, nil, Config{})
	_, err := Open(Config{StateDir: state, Control: "tcp:127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "in use by another 'mynahil sim'") ||
		!strings.Contains(err.Error(), fmt.Sprint(os.Getpid())) {
		t.Fatalf("second Open on a running state directory: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no state", Config{}, "no state directory"},
		{"bad slot", Config{StateDir: shortTempDir(t), FirstSlot: -1}, "slot -1 out of range"},
		{"bad vpcd", Config{StateDir: shortTempDir(t), VPCD: "nowhere"}, "parsing vpcd address"},
		{"bad port", Config{StateDir: shortTempDir(t), VPCD: "127.0.0.1:http"}, "bad port"},
		{"slot past 65535", Config{StateDir: shortTempDir(t), VPCD: "127.0.0.1:65535", FirstSlot: 1}, "beyond TCP port 65535"},
		{"remote control", Config{StateDir: shortTempDir(t), Control: "tcp:0.0.0.0:0"}, "refusing non-loopback"},
		{"state is a file", Config{StateDir: "/dev/null/x"}, "creating state directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Logger = quiet
			d, err := Open(tc.cfg)
			if err == nil {
				d.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want %q", err, tc.want)
			}
		})
	}
	// A failed Open leaves the state directory free for the next one.
	state := shortTempDir(t)
	if _, err := Open(Config{StateDir: state, Control: "tcp:192.0.2.1:1", Logger: quiet}); err == nil {
		t.Fatal("Open with a remote control address succeeded")
	}
	d, err := Open(Config{StateDir: state, Control: "tcp:127.0.0.1:0", Logger: quiet})
	if err != nil {
		t.Fatalf("Open after a failed Open: %v", err)
	}
	d.Close()
}

func TestSignals(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{Signals: true})
	r.waitCard()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SIGUSR1 to remove the card", func() bool { return !r.list()[0].Inserted })
	r.waitGone()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	r.waitCard()
	r.expectSW(selectJPKI, 0x9000)
	if l := r.list(); !l[0].Inserted {
		t.Errorf("after SIGUSR2: %+v", l[0])
	}
	for _, want := range []string{`by="user defined signal 1"`, `by="user defined signal 2"`} {
		if !strings.Contains(r.logs.String(), want) {
			t.Errorf("logs lack %s", want)
		}
	}
}

func TestLogsNeverHoldPINs(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	r.waitCard()
	const pin = "4821"
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthPIN, 0x9000)
	r.expectSW(verify(pin), 0x63C2)
	// CHANGE REFERENCE DATA with old+new PIN in the data field.
	r.transmit(append([]byte{0x00, 0x24, 0x00, 0x80, 0x08}, "48217777"...))
	r.stop()
	logs := r.logs.String()
	if !strings.Contains(logs, "cmd=VERIFY") || !strings.Contains(logs, "<4 bytes masked>") || !strings.Contains(logs, "sw=63C2") {
		t.Errorf("debug log lacks the masked VERIFY summary:\n%s", logs)
	}
	if !strings.Contains(logs, `"CHANGE REFERENCE DATA"`) {
		t.Errorf("debug log lacks the CHANGE REFERENCE DATA summary")
	}
	for _, secret := range []string{pin, "34 38 32 31", "34383231", "7777", "37 37 37 37", "37373737"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds PIN bytes %q:\n%s", secret, logs)
		}
	}
}

func TestOfficeMethodsAndCardsIssuedLater(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	r.waitCard()
	ctx := context.Background()
	var methods []string
	if err := r.client.Call(ctx, "control.methods", nil, &methods); err != nil {
		t.Fatal(err)
	}
	want := []string{"control.methods"}
	for _, m := range simapi.Methods() {
		want = append(want, m.Name)
	}
	slices.Sort(want)
	if d := cmp.Diff(want, methods); d != "" {
		t.Errorf("control.methods (-the API's +served):\n%s", d)
	}
	// An office refusal reaches the client with its rule.
	_, err := r.client.Report(ctx, simapi.CardParams{Card: "nope"})
	var re *simapi.RefusedError
	if !errors.As(err, &re) || re.RuleName != office.RuleUnknownCard {
		t.Errorf("office.status of an unknown card: %v, want rule %s", err, office.RuleUnknownCard)
	}

	issued, err := r.client.IssueCard(ctx, simapi.IssueParams{})
	if err != nil {
		t.Fatalf("office.issue-card: %v", err)
	}
	list := r.list()
	if len(list) != 2 || list[1].Slot != 1 || list[1].Inserted || list[0].Card == list[1].Card {
		t.Fatalf("after office.issue-card: %+v, want a second card in slot 1, removed", list)
	}
	if issued.ID != list[1].Card {
		t.Errorf("issued card %q, slot 1 holds %q", issued.ID, list[1].Card)
	}
	out, err := r.client.Insert(ctx, Selector{Card: list[1].Card})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Inserted || out[0].VPCD == r.reader.Addr() {
		t.Errorf("inserted second card: %+v", out[0])
	}
	// The first card is undisturbed.
	r.expectSW(selectJPKI, 0x9000)
	// sim.list shows what the office did to a card.
	if _, err := r.client.ReportLoss(ctx, simapi.CardParams{Card: list[1].Card}); err != nil {
		t.Fatalf("office.report-loss: %v", err)
	}
	if got := r.list(); got[1].Status != string(office.Lost) || got[0].Status != string(office.Active) {
		t.Errorf("after office.report-loss of %s: %+v", list[1].Card, got)
	}
}

// twoReaders listens on two consecutive loopback ports, as vpcd does for
// slots 0 and 1 (docs/vpcd-pcscd.md §1.2).
func twoReaders(t *testing.T) (*vpcd.Reader, *vpcd.Reader) {
	t.Helper()
	quiet := vpcd.WithLogger(slog.New(slog.DiscardHandler))
	for range 50 {
		r0, err := vpcd.Listen("127.0.0.1:0", quiet)
		if err != nil {
			t.Fatal(err)
		}
		port := r0.Addr()[strings.LastIndex(r0.Addr(), ":")+1:]
		var p int
		fmt.Sscan(port, &p)
		r1, err := vpcd.Listen(fmt.Sprintf("127.0.0.1:%d", p+1), quiet)
		if err != nil {
			r0.Close()
			continue
		}
		t.Cleanup(func() { r0.Close(); r1.Close() })
		return r0, r1
	}
	t.Fatal("no two consecutive free loopback ports")
	return nil, nil
}

func TestTwoCardsTwoSlots(t *testing.T) {
	r0, r1 := twoReaders(t)
	second := profile.Default()
	second.Holder.Name = "試験　次郎"
	second.PINs.Auth = "5678"
	r := newRig(t, shortTempDir(t), r0, Config{Profiles: []profile.Profile{profile.Default(), second}})
	list := r.list()
	if len(list) != 2 || list[0].Slot != 0 || list[1].Slot != 1 || list[1].Reader != "Virtual PCD 00 01" || list[1].VPCD != r1.Addr() || list[1].Holder != second.Holder.Name {
		t.Fatalf("sim.list = %+v", list)
	}
	r.waitCard()
	other := &rig{t: t, reader: r1}
	other.waitCard()
	// Each reader holds its own card: the second one takes only its PIN.
	for _, tc := range []struct {
		r   *rig
		pin string
		sw  uint16
	}{{r, "1234", 0x9000}, {other, "1234", 0x63C2}, {other, "5678", 0x9000}} {
		tc.r.expectSW(selectJPKI, 0x9000)
		tc.r.expectSW(selectAuthPIN, 0x9000)
		tc.r.expectSW(verify(tc.pin), tc.sw)
	}
	// Removing one card leaves the other in place.
	one := 1
	if _, err := r.client.Remove(context.Background(), Selector{Slot: &one}); err != nil {
		t.Fatal(err)
	}
	other.waitGone()
	r.expectSW(selectJPKI, 0x9000)
}

func TestHintWhenVPCDIsAbsent(t *testing.T) {
	// A reader that is closed at once: nothing listens on its port.
	reader, err := vpcd.Listen("", vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	reader.Close()
	r := newRig(t, shortTempDir(t), reader, Config{})
	r.d.hintIfUnconnected(context.Background(), 0)
	if l := r.list(); !l[0].Inserted || l[0].Connected {
		t.Errorf("card with no vpcd: %+v", l[0])
	}
	if !strings.Contains(r.logs.String(), "is pcscd running") {
		t.Errorf("no hint about pcscd in the log:\n%s", r.logs.String())
	}
	// With the card connected there is nothing to say.
	r2 := newRig(t, shortTempDir(t), nil, Config{})
	r2.waitCard()
	eventually(t, "card connected", func() bool { return r2.list()[0].Connected })
	r2.d.hintIfUnconnected(context.Background(), 0)
	if strings.Contains(r2.logs.String(), "is pcscd running") {
		t.Errorf("hint logged for a connected card")
	}
}
