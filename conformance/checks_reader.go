package conformance

// Reader and card presence: R01 enumeration and power, R02 insertion and
// removal, R03 reader hot-plug, R04 removal during a transmit.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// checkR01 is check R01 (the reader enumerates, powers the card, reports its attributes) of docs/conformance-checklist.md. Its
// steps are the checklist item's, in its order, each recording what it
// saw: it reads better whole, beside the checklist, than split into
// helpers.
func checkR01(t *T) {
	s, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() {
		if err := s.close(); err != nil {
			t.Errorf("closing: %v", err)
		}
	}()
	readers, err := within(t.cfg.APDUTimeout, "listing readers", s.ctx.ReaderNames)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Record("readers", "%d: %s", len(readers), strings.Join(readers, "; "))
	if !contains(readers, t.cfg.Reader) {
		t.Fatalf("reader %q is not listed", t.cfg.Reader)
	}
	d, atr, err := waitState(s.ctx, t.cfg.Reader, pcsc.StatePresent, presenceWait)
	if err != nil {
		t.Fatalf("no card reported: %v", err)
	}
	t.Ms("card reported present after", d)
	rs := []pcsc.ReaderState{{Reader: t.cfg.Reader, CurrentState: pcsc.StateUnaware}}
	if err := s.ctx.GetStatusChange(rs, 0); err != nil {
		t.Fatalf("reading reader state: %v", err)
	}
	t.Record("reader state", "%#x", uint32(rs[0].EventState))
	if rs[0].EventState&pcsc.StateMute != 0 {
		t.Errorf("the reader reports the card MUTE: it could not power it (ATR %s)", hexs(atr))
	}
	start := time.Now()
	if err := s.connect(pcsc.Shared); err != nil {
		t.Fatalf("the reader does not make the card ready to communicate (NMDA C1): %v", err)
	}
	t.Ms("SCardConnect", time.Since(start))
	st, err := s.status()
	if err != nil {
		t.Fatalf("SCardStatus: %v", err)
	}
	if st.Reader != t.cfg.Reader {
		t.Errorf("SCardStatus names reader %q, want %q", st.Reader, t.cfg.Reader)
	}
	if st.State&(pcsc.Powered|pcsc.Specific|pcsc.Negotiable) == 0 {
		t.Errorf("SCardStatus state %#x: card not powered", uint32(st.State))
	}
	if !bytes.Equal(st.ATR, atr) {
		t.Errorf("SCardStatus ATR %s differs from SCardGetStatusChange ATR %s", hexs(st.ATR), hexs(atr))
	}
	for _, a := range []struct {
		name string
		id   pcsc.Attrib
		text bool
	}{
		{"vendor name", pcsc.AttrVendorName, true},
		{"IFD type", pcsc.AttrVendorIFDType, true},
		{"IFD version", pcsc.AttrVendorIFDVersion, false},
		{"IFD serial number", pcsc.AttrVendorIFDSerialNo, true},
		{"channel ID", pcsc.AttrChannelID, false},
	} {
		c := s.card
		v, err := within(t.cfg.APDUTimeout, "reading attribute", func() ([]byte, error) { return c.GetAttrib(a.id) })
		switch {
		case err != nil:
			t.Record("attribute "+a.name, "not supported (%v)", err)
		case a.text:
			t.Record("attribute "+a.name, "%q", strings.TrimRight(string(v), "\x00"))
		default:
			t.Record("attribute "+a.name, "%s", hexs(v))
		}
	}
}

// moveCard removes or inserts the card, by CardControl or by asking the
// operator; it returns the detection budget that applies.
func (t *T) moveCard(insert bool) time.Duration {
	switch {
	case t.cfg.Card != nil && insert:
		t.cfg.Card.Insert()
		return t.cfg.DetectBudget
	case t.cfg.Card != nil:
		t.cfg.Card.Remove()
		return t.cfg.DetectBudget
	}
	msg := "Remove the card from the reader now (the suite watches for 30 s)."
	if insert {
		msg = "Insert (or place) the card now (the suite watches for 30 s)."
	}
	if n, ok := t.cfg.Prompter.(Notifier); ok {
		n.Notify(msg)
	} else if err := t.cfg.Prompter.Prompt(msg); err != nil {
		t.Fatalf("prompting the operator: %v", err)
	}
	return 30 * time.Second
}

// needMover skips the check when the card can be moved neither by the suite
// nor by an operator.
func (t *T) needMover() {
	if t.cfg.Card == nil && (!t.cfg.Interactive || t.cfg.Prompter == nil) {
		t.SkipPart("moving the card", "an operator (--interactive) or the simulated card (--sim)", "nobody can insert or remove the card")
		runtime.Goexit()
	}
}

func checkR02(t *T) {
	t.needMover()
	s, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s.close() }()
	if _, _, err := waitState(s.ctx, t.cfg.Reader, pcsc.StatePresent, presenceWait); err != nil {
		t.Fatalf("no card at the start: %v", err)
	}
	var rem, ins latencies
	for i := 1; i <= 3; i++ {
		budget := t.moveCard(false)
		d, _, err := waitState(s.ctx, t.cfg.Reader, pcsc.StateEmpty, budget+5*time.Second)
		if err != nil {
			t.Fatalf("cycle %d: removal not reported: %v", i, err)
		}
		rem = append(rem, d)
		if d > budget {
			t.Errorf("cycle %d: removal reported after %v, budget %v", i, d.Round(time.Millisecond), budget)
		}
		budget = t.moveCard(true)
		d, _, err = waitState(s.ctx, t.cfg.Reader, pcsc.StatePresent, budget+10*time.Second)
		if err != nil {
			t.Fatalf("cycle %d: insertion not reported: %v", i, err)
		}
		ins = append(ins, d)
		if d > budget {
			t.Errorf("cycle %d: insertion reported after %v, budget %v", i, d.Round(time.Millisecond), budget)
		}
	}
	t.Ms("removal detection max", rem.max())
	t.Ms("removal detection median", rem.percentile(0.5))
	t.Ms("insertion detection max", ins.max())
	t.Ms("insertion detection median", ins.percentile(0.5))
}

func checkR03(t *T) {
	if !t.cfg.Interactive || t.cfg.Prompter == nil {
		t.Skipf("interactive: run with --interactive (vpcd's readers are static, docs/vpcd-pcscd.md §6.2)")
	}
	const pnp = `\\?PnP?\Notification`
	s, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s.close() }()
	for _, step := range []struct {
		msg  string
		want bool
	}{{"Unplug the reader now (the suite then watches for 30 s).", false}, {"Plug the reader back in now (the suite then watches for 30 s).", true}} {
		if err := t.cfg.Prompter.Prompt(step.msg); err != nil {
			t.Fatalf("prompting: %v", err)
		}
		start := time.Now()
		for {
			readers, _ := within(t.cfg.APDUTimeout, "listing readers", s.ctx.ReaderNames)
			if contains(readers, t.cfg.Reader) == step.want {
				t.Ms(fmt.Sprintf("reader listed=%v after", step.want), time.Since(start))
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("reader still listed=%v after 30 s", !step.want)
			}
			rs := []pcsc.ReaderState{{Reader: pnp, CurrentState: pcsc.StateUnaware}}
			_ = s.ctx.GetStatusChange(rs, time.Second)
		}
	}
}

// checkR04 is check R04 (card removed during a transmit) of docs/conformance-checklist.md. Its
// steps are the checklist item's, in its order, each recording what it
// saw: it reads better whole, beside the checklist, than split into
// helpers.
func checkR04(t *T) {
	t.needMover()
	s := t.open(pcsc.Shared)
	closed := false
	defer func() {
		if !closed {
			_ = s.close()
		}
	}()
	t.enterEF(s, jpkiclient.EFAuthCert)
	cmd := readBinary(0, 256)
	var resp []byte
	var err error
	start := time.Now()
	if t.cfg.Card != nil {
		t.cfg.Card.VanishOnNextAPDU()
		resp, _, err = s.transmit(cmd)
		t.cfg.Card.Remove()
	} else {
		if perr := t.cfg.Prompter.Prompt("Press Enter, then pull the card out within 5 s while the suite keeps reading."); perr != nil {
			t.Fatalf("prompting: %v", perr)
		}
		for time.Since(start) < 30*time.Second {
			if resp, _, err = s.transmit(readBinary(0, 0)); err != nil || len(resp) < 2 {
				break
			}
		}
	}
	vanished := time.Now()
	switch {
	case err != nil:
		t.Record("transmit during removal", "error: %v", err)
	case len(resp) < 2:
		t.Record("transmit during removal", "success with %d bytes (no status word): Debian vpcd's report of a vanished card (docs/vpcd-pcscd.md §5.2)", len(resp))
	case t.cfg.Card != nil:
		t.Errorf("the reader delivered a %d-byte response (%s) that the card never sent", len(resp), describe(resp))
	}
	var after error
	for time.Since(vanished) < 3*time.Second {
		if _, _, after = s.transmit(selectAID(jpkiclient.AID, 0x0C)); after != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after == nil {
		t.Errorf("transmits on the old handle still succeed 3 s after the card left")
	} else {
		t.Record("next transmit", "%v", after)
	}
	d, _, werr := waitState(s.ctx, t.cfg.Reader, pcsc.StateEmpty, 10*time.Second)
	switch {
	case werr != nil:
		t.Errorf("removal not reported: %v", werr)
	default:
		t.Ms("removal reported after", d)
	}
	derr := s.disconnect(pcsc.LeaveCard)
	t.Record("SCardDisconnect after removal", "%v", errOrOK(derr))
	if derr != nil && !errors.Is(derr, pcsc.ErrCardRemoved) && !errors.Is(derr, pcsc.ErrNoCard) {
		t.Errorf("SCardDisconnect after removal: %v", derr)
	}
	closed = true
	if err := s.close(); err != nil {
		t.Errorf("SCardReleaseContext after removal: %v", err)
	}
	t.moveCard(true)
	s2, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s2.close() }()
	if d, _, err := waitState(s2.ctx, t.cfg.Reader, pcsc.StatePresent, 30*time.Second); err != nil {
		t.Errorf("card not back after re-insertion: %v", err)
	} else {
		t.Ms("re-insertion reported after", d)
	}
}

func errOrOK(err error) string {
	if err == nil {
		return "success"
	}
	return err.Error()
}
