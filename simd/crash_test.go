package simd

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/store"
	"github.com/mynahil/mynahil/vpcd"
)

// TestHelperDaemon is not a test: TestCrashMidWrite runs it in a child
// process as the daemon it then kills.
func TestHelperDaemon(t *testing.T) {
	state := os.Getenv("SIMD_HELPER_STATE")
	if state == "" {
		t.Skip("helper process for TestCrashMidWrite")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	d, err := Open(Config{StateDir: state, VPCD: os.Getenv("SIMD_HELPER_VPCD"), Control: "tcp:127.0.0.1:0",
		Backoff: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCrashMidWrite kills the daemon with SIGKILL while PIN counters change
// as fast as the card can persist them. Meanwhile and afterwards every state
// file must parse, and after a restart the counter must be the one of the
// last answered command or of the one in flight (card.Persister: the state
// is stored before the answer is sent).
func TestCrashMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a daemon process")
	}
	state := shortTempDir(t)
	reader, err := vpcd.Listen("", vpcd.WithTimeout(5*time.Second), vpcd.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperDaemon$", "-test.v")
	cmd.Env = append(os.Environ(), "SIMD_HELPER_STATE="+state, "SIMD_HELPER_VPCD="+reader.Addr())
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := reader.WaitCard(ctx); err != nil {
		t.Fatalf("waiting for the helper daemon's card: %v", err)
	}
	r := &rig{t: t, reader: reader}
	r.expectSW(selectJPKI, 0x9000)
	r.expectSW(selectAuthPIN, 0x9000)

	cardFiles, _ := filepath.Glob(filepath.Join(state, "cards", "*.json"))
	if len(cardFiles) != 1 {
		t.Fatalf("card state files: %v, want one", cardFiles)
	}
	parsed := 0
	checkFiles := func() {
		b, err := store.File{Path: cardFiles[0]}.Load()
		if err != nil {
			t.Fatalf("reading card state: %v", err)
		}
		if _, err := card.Load(b); err != nil {
			t.Fatalf("card state does not parse: %v", err)
		}
		parsed++
	}

	// Alternate a wrong PIN (3 → 2 tries) and the right one (back to 3),
	// checking the file between exchanges. After a random number of
	// exchanges, SIGKILL lands a random few milliseconds into the next ones:
	// each VERIFY writes and fsyncs the state twice, so the kill usually
	// hits a write.
	good, bad := verify(profile.Default().PINs.Auth), verify("0000")
	target := 20 + rand.IntN(20)
	lastAcked := 3
	exchanges := 0
	for i := 0; ; i++ {
		if exchanges == target {
			go func() {
				time.Sleep(time.Duration(rand.IntN(10_000)) * time.Microsecond)
				cmd.Process.Signal(syscall.SIGKILL)
			}()
		}
		pin, next := bad, 2
		if i%2 == 1 {
			pin, next = good, 3
		}
		resp, err := reader.Transmit(pin)
		if err != nil {
			break // killed
		}
		want := uint16(0x63C2)
		if next == 3 {
			want = 0x9000
		}
		if got := sw(resp); got != want {
			t.Fatalf("exchange %d: SW %04X, want %04X", i, got, want)
		}
		lastAcked = next
		exchanges++
		checkFiles()
	}
	cmd.Wait()
	killed = true
	checkFiles()
	if exchanges < target {
		t.Fatalf("the daemon went away after %d exchanges, before the kill at %d", exchanges, target)
	}
	t.Logf("SIGKILL after %d PIN exchanges (each persisted), state parsed %d times", exchanges, parsed)
	r.waitGone()

	// A restarted daemon (its lock died with the process) continues from the
	// last answered command, or the one in flight.
	r2 := newRig(t, state, reader, Config{})
	r2.waitCard()
	r2.expectSW(selectJPKI, 0x9000)
	r2.expectSW(selectAuthPIN, 0x9000)
	tries := int(sw(r2.transmit([]byte{0x00, 0x20, 0x00, 0x80})) & 0x0F)
	// VERIFY spends the try and stores that before it compares
	// (anti-tearing, card.verify), so a kill inside the right PIN's VERIFY
	// may leave one try fewer than the last answer; never more than the
	// command in flight could give.
	allowed := map[int][]int{
		2: {2, 1, 3}, // answered a wrong PIN; in flight the right one
		3: {3, 2},    // answered the right PIN; in flight a wrong one
	}[lastAcked]
	if !slices.Contains(allowed, tries) {
		t.Fatalf("after the crash %d tries left; last answered state %d allows %v", tries, lastAcked, allowed)
	}
	t.Logf("after the crash %d tries left (last answered state %d)", tries, lastAcked)
}
