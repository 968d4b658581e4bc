package conformance

// Checks that need an operator at a contactless or dual-interface reader:
// R18 contact versus contactless parity, R19 placement.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"bytes"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

func checkR18(t *T) {
	if !t.cfg.Interactive || t.cfg.Prompter == nil {
		t.Skipf("interactive: run with --interactive on a dual-interface reader")
	}
	var seen [][]byte
	for _, iface := range []string{"contact", "contactless"} {
		if err := t.cfg.Prompter.Prompt(fmt.Sprintf("Present the card through the %s interface of %q (the suite then waits %v for it).", iface, t.cfg.Reader, presenceWait)); err != nil {
			t.Fatalf("prompting: %v", err)
		}
		s := t.open(pcsc.Shared)
		st, err := s.status()
		if err != nil {
			_ = s.close()
			t.Fatalf("SCardStatus: %v", err)
		}
		a, _ := ParseATR(st.ATR)
		t.Record(iface+" ATR", "%s (%s)", hexs(st.ATR), interfaceOf(a))
		t.enterEF(s, jpkiclient.EFAuthCert)
		der, err := readDER(s)
		_ = s.close()
		if err != nil {
			t.Fatalf("%s: reading the auth certificate: %v", iface, err)
		}
		seen = append(seen, der)
		if err := t.cfg.Prompter.Prompt("Take the card away."); err != nil {
			t.Fatalf("prompting: %v", err)
		}
	}
	if !bytes.Equal(seen[0], seen[1]) {
		t.Errorf("the auth certificate differs between the contact and the contactless interface")
	}
}

func checkR19(t *T) {
	if !t.cfg.Interactive || t.cfg.Prompter == nil {
		t.Skipf("interactive: run with --interactive on a contactless reader")
	}
	s0, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s0.close() }()
	for _, o := range []string{"face up, long edge forward", "face down, long edge forward", "face up, rotated 180°", "face down, rotated 180°"} {
		ok := 0
		for i := 1; i <= t.cfg.Placements; i++ {
			if err := t.cfg.Prompter.Prompt(fmt.Sprintf("[%s] placement %d of %d: place the card on the reader (the suite then has 10 s to read it).", o, i, t.cfg.Placements)); err != nil {
				t.Fatalf("prompting: %v", err)
			}
			if placementOK(t, s0) {
				ok++
			}
			if err := t.cfg.Prompter.Prompt("Take the card away."); err != nil {
				t.Fatalf("prompting: %v", err)
			}
			_, _, _ = waitState(s0.ctx, t.cfg.Reader, pcsc.StateEmpty, 30*time.Second)
		}
		t.Record("orientation "+o, "%d of %d", ok, t.cfg.Placements)
		if ok*10 < t.cfg.Placements*9 {
			t.Errorf("orientation %s: %d of %d placements worked, want at least 90 %%", o, ok, t.cfg.Placements)
		}
	}
}

func placementOK(t *T, s0 *session) bool {
	if _, _, err := waitState(s0.ctx, t.cfg.Reader, pcsc.StatePresent, 10*time.Second); err != nil {
		return false
	}
	s, err := t.session(10 * time.Second)
	if err != nil {
		return false
	}
	defer func() { _ = s.close() }()
	if s.connect(pcsc.Shared) != nil {
		return false
	}
	if r, _, err := chained(s, selectAID(jpkiclient.AID, 0x0C)); err != nil || !bytes.HasSuffix(r, []byte{0x90, 0x00}) {
		return false
	}
	if r, _, err := chained(s, selectEF(jpkiclient.EFAuthCert)); err != nil || !bytes.HasSuffix(r, []byte{0x90, 0x00}) {
		return false
	}
	_, err = readDER(s)
	return err == nil
}
