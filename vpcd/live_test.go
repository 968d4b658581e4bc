package vpcd

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLivePCSCD serves EchoCard to a real pcscd + vpcd and drives it with
// opensc-tool through PC/SC. It is opt-in: set MYNAHIL_VPCD_LIVE=1 (and
// optionally MYNAHIL_VPCD_ADDR, default DefaultAddr) with pcscd running
// without --auto-exit, ideally in a private namespace (docs/vpcd-pcscd.md
// §6.4), e.g.
//
//	go test -c -o /tmp/vpcd.test ./vpcd
//	unshare -n -m --propagation private sh -c 'ip link set lo up;
//	  mkdir -p /run/pcscd; mount -t tmpfs tmpfs /run/pcscd;
//	  pcscd -f & sleep 1; MYNAHIL_VPCD_LIVE=1 /tmp/vpcd.test -test.run Live -test.v; kill $!'
//
// It logs the per-APDU round trip with and without TCP_QUICKACK (§5.4).
func TestLivePCSCD(t *testing.T) {
	if os.Getenv("MYNAHIL_VPCD_LIVE") == "" {
		t.Skip("set MYNAHIL_VPCD_LIVE=1 with pcscd+vpcd running to run against the real driver")
	}
	if _, err := exec.LookPath("opensc-tool"); err != nil {
		t.Skip("opensc-tool not installed")
	}
	addr := os.Getenv("MYNAHIL_VPCD_ADDR")
	if addr == "" {
		addr = DefaultAddr
	}
	cs := startCardSide(t, EchoCard{}, WithAddr(addr))

	waitPresent := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			out, err := exec.Command("opensc-tool", "-r", "0", "-a").CombinedOutput()
			if (err == nil) == want {
				if want && !strings.Contains(string(out), "3b:95:13:81:01:80:73:ff:01:00:0b") {
					t.Fatalf("pcscd reports another ATR:\n%s", out)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("card present = %v, want %v:\n%s", err == nil, want, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// run sends n SELECT MF APDUs through pcscd in one opensc-tool process.
	run := func(n int) time.Duration {
		t.Helper()
		args := []string{"-r", "0", "-c", "default"}
		for range n {
			args = append(args, "-s", "00A4040C023F00")
		}
		start := time.Now()
		out, err := exec.Command("opensc-tool", args...).CombinedOutput()
		el := time.Since(start)
		if err != nil || strings.Count(string(out), "SW1=0x90, SW2=0x00") != n {
			t.Fatalf("opensc-tool %v: %v\n%s", args, err, out)
		}
		return el
	}
	perAPDU := func() time.Duration {
		one, many := run(1), run(51)
		return (many - one) / 50
	}

	waitPresent(true)
	t.Logf("with TCP_QUICKACK re-armed: %v per APDU through pcscd", perAPDU())

	cs.Remove()
	waitPresent(false)
	quickAckDisabled = true
	t.Cleanup(func() { quickAckDisabled = false })
	cs.Insert()
	waitPresent(true)
	t.Logf("without TCP_QUICKACK:       %v per APDU through pcscd", perAPDU())

	time.Sleep(2 * time.Second) // a few presence polls (§3.4)
	if !cs.Connected() {
		t.Error("card side lost its connection while idle under presence polling")
	}
}
