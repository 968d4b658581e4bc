package conformance

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/ebfe/scard"

	"github.com/mynahil/mynahil/harness/apdu"
	"github.com/mynahil/mynahil/harness/jpki"
)

// Checks returns every check, in ID order. IDs, titles and sources are those
// of docs/conformance-checklist.md §8; R21 (mandatory/optional marking) is a
// property of the report, not a check of its own.
func Checks() []Check {
	return []Check{
		{ID: "R01", Title: "reader enumerates, powers the card and reports its attributes", Mandatory: true, run: checkR01,
			Procedure: "SCardListReaders lists the reader; with a card in it the reader reports PRESENT (not MUTE), SCardConnect succeeds, SCardStatus names the reader, reports it powered and the same ATR as SCardGetStatusChange. Vendor, IFD type, version and serial attributes are recorded where supported (optional, HLK Part B)."},
		{ID: "R02", Title: "insertion and removal detected via SCardGetStatusChange", Mandatory: true, Labels: []string{LabelCardControl}, run: checkR02,
			Procedure: "Three remove/insert cycles; each removal and insertion must show up in SCardGetStatusChange within the detection budget (1.5 s when the suite moves the card; 30 s with an operator). Latencies recorded."},
		{ID: "R03", Title: "reader hot-plug seen through \\\\?PnP?\\Notification", Labels: []string{LabelInteractive}, run: checkR03,
			Procedure: "Interactive: the operator unplugs and replugs the reader; the PnP pseudo-reader must signal both and the reader must disappear and reappear in SCardListReaders."},
		{ID: "R04", Title: "card removed during a transmit", Mandatory: true, Labels: []string{LabelCardControl}, run: checkR04,
			Procedure: "The card vanishes while an APDU is in flight. The transmit must not deliver a response the card never sent (an error, or Debian vpcd's 0-byte success, is accepted and recorded); later transmits on the handle fail; SCardGetStatusChange reports EMPTY within the budget; SCardDisconnect and SCardReleaseContext return."},
		{ID: "R05", Title: "ATR read and parsed; card identified by AID SELECT, not by ATR", Mandatory: true, run: checkR05,
			Procedure: "The ATR parses (TS, T0, interface bytes, historical bytes, TCK checked when required), announces T=1 (the JPKI card is T=1 only; a contactless reader synthesises a T=1 ATR) and SCardConnect negotiates T=1. SELECT of the JPKI AID answers 9000 and SELECT of an unknown AID 6A82, whatever the ATR."},
		{ID: "R06", Title: "APDU cases 1–4 at every short length", Mandatory: true, run: checkR06,
			Procedure: "Case 1: VERIFY tries-left query (63Cx). Case 2: READ BINARY Le 1..256 (data must match the certificate) and GET CHALLENGE Le 1..256 (exact length). Case 3: SELECT by DF name Lc 1..255 (9000 for the AID, a defined error beyond it). Case 4: SELECT with FCI Lc 1..255 + Le 00; with the auth PIN, COMPUTE DIGITAL SIGNATURE over Lc bytes, each signature verified against the certificate (an end-to-end echo of the data)."},
		{ID: "R07", Title: "Le=00 returns exactly 256 bytes + 9000", Mandatory: true, run: checkR07,
			Procedure: "READ BINARY Le=00 of the auth certificate, GET CHALLENGE Le=00 and (with the auth PIN) the signature each return 256 data bytes and 9000 in one exchange under T=1 (61 00 + GET RESPONSE accepted under T=0 only)."},
		{ID: "R08", Title: "61xx / GET RESPONSE chaining incl. 61 00", Mandatory: true, run: checkR08,
			Procedure: "Probes of 1, 128, 255 and 256 bytes (GET CHALLENGE, READ BINARY); where the reader or card answers 61xx, GET RESPONSE must deliver exactly xx bytes (256 for 61 00) and the assembled data must have the requested length and content. Records how often chaining occurred."},
		{ID: "R09", Title: "extended-length APDUs where the reader claims them", Mandatory: true, run: checkR09,
			Procedure: "The claim is the reader's dwMaxAPDUDataSize (FEATURE_GET_TLV_PROPERTIES) or the maker's declaration (--extended). Without a claim (or a dwMaxAPDUDataSize of 256 or less) there is nothing to hold the reader to: the check passes and records a probe. With one: case 2E READ BINARY of the certificate (up to the claim) in one APDU must equal the short reads; case 3E SELECT and case 4E SELECT with Le must answer 9000, and a case 3E SELECT of an unknown 16-byte name the card's 6A82 (not a reader's 6700); a case 3E command with Lc 300 is recorded."},
		{ID: "R10", Title: "258/259-byte packets", Mandatory: true, run: checkR10,
			Procedure: "Responses of 257 and 258 bytes (GET CHALLENGE Le 255 and 00) arrive whole with 9000; commands of 258, 259, 260 and 261 bytes (SELECT with Lc 253–255, with and without Le) reach the card and get its answer."},
		{ID: "R11", Title: "slow card operations honoured (no premature reader timeout)", Mandatory: true, run: checkR11,
			Procedure: "Whole-certificate reads of the auth and auth CA certificates and (with the auth PIN) a signature must complete with the right answer however long the card takes (the Digital Agency: 5 s or more); per-APDU latency recorded, budget 10 s per APDU."},
		{ID: "R12", Title: "no hang: every exchange ends within the timeout", Mandatory: true, run: checkR12,
			Procedure: "20 exchanges of cases 1–4 each must return within the APDU timeout, and no PC/SC call earlier in the run may have missed its deadline (a reader must time out with an error, not hang)."},
		{ID: "R13", Title: "truncated and malformed commands get a defined answer", Mandatory: true, run: checkR13,
			Procedure: "Commands of 2 and 3 bytes, an Lc larger or smaller than the data, an unknown INS and an unknown CLA must each end in a PC/SC error or a defined error SW (67xx, 68xx, 6Axx, 6Bxx, 6Dxx, 6Exx), never 9000 or a garbled SW. A 1-byte command is not sent: Debian's vpcd would hand it to the card as a control code (docs/vpcd-pcscd.md §2)."},
		{ID: "R14", Title: "receive buffer too small → SCARD_E_INSUFFICIENT_BUFFER", Mandatory: true, run: checkR14,
			Procedure: "A 12-byte response (READ BINARY Le 10) received into an 11-byte buffer must fail with SCARD_E_INSUFFICIENT_BUFFER, report 12 bytes needed and write nothing past the buffer; into a 12-byte buffer it must succeed with exactly the expected bytes."},
		{ID: "R15", Title: "sharing, transactions, reconnect and reset semantics", Mandatory: true, run: checkR15,
			Procedure: "An exclusive holder makes a shared connect fail with SCARD_E_SHARING_VIOLATION; two shared handles coexist; a transaction blocks another handle's transaction until it ends; an extra SCardEndTransaction gives SCARD_E_NOT_TRANSACTED; card state survives SCARD_LEAVE_CARD and is cleared by a reconnect with SCARD_RESET_CARD."},
		{ID: "R16", Title: "warm and cold resets; soak with per-APDU latency", Mandatory: true, Labels: []string{LabelSlow}, run: checkR16,
			Procedure: "10 warm and 5 cold resets, each clearing the card's selected file and keeping the ATR; then a soak of N APDUs (SELECT EF, READ BINARY 32 bytes, checked against the certificate). Median, p99 and max latency recorded; every APDU must succeed, p99 ≤ 250 ms and max ≤ 1 s."},
		{ID: "R17", Title: "full JPKI flow", Mandatory: true, Labels: []string{LabelPIN}, run: checkR17,
			Procedure: "SELECT AP; read the auth, auth CA and sign CA certificates and check the auth certificate's signature; tries left for both PINs (63Cx); the sign certificate needs the sign PIN: read it if given, else it must answer 6982; with the auth PIN: VERIFY, sign a SHA-256 DigestInfo and verify the signature with the certificate; without: the signature must answer 6982."},
		{ID: "R18", Title: "contact vs contactless parity", Labels: []string{LabelInteractive}, run: checkR18,
			Procedure: "Interactive: the same card is read through the contact and the contactless interface; the auth certificate and the JPKI answers must be identical, the contactless ATR a PC/SC part 3 one."},
		{ID: "R19", Title: "contactless placement: orientations × repeats, pass at 9 of 10", Labels: []string{LabelInteractive, LabelSlow}, run: checkR19,
			Procedure: "Interactive: for each of 4 orientations the card is placed N times (default 10); each placement must be detected and the auth certificate read within 10 s; an orientation passes with ≥ 90 % successes (NMDA/CLIC rule)."},
		{ID: "R20", Title: "concurrency of several contexts", Mandatory: true, run: checkR20,
			Procedure: "4 goroutines, each with its own context and shared handle, run 25 transactions of SELECT, READ BINARY (checked) and a tries-left query; all must succeed with correct data within the APDU timeout each."},
	}
}

func checkR01(t *T) {
	s, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() {
		if err := s.close(); err != nil {
			t.Errorf("closing: %v", err)
		}
	}()
	readers, err := within(t.cfg.APDUTimeout, "listing readers", s.ctx.ListReaders)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Record("readers", "%d: %s", len(readers), strings.Join(readers, "; "))
	if !contains(readers, t.cfg.Reader) {
		t.Fatalf("reader %q is not listed", t.cfg.Reader)
	}
	d, atr, err := waitState(s.ctx, t.cfg.Reader, scard.StatePresent, presenceWait)
	if err != nil {
		t.Fatalf("no card reported: %v", err)
	}
	t.Ms("card reported present after", d)
	rs := []scard.ReaderState{{Reader: t.cfg.Reader, CurrentState: scard.StateUnaware}}
	if err := s.ctx.GetStatusChange(rs, 0); err != nil {
		t.Fatalf("reading reader state: %v", err)
	}
	t.Record("reader state", "%#x", uint32(rs[0].EventState))
	if rs[0].EventState&scard.StateMute != 0 {
		t.Errorf("the reader reports the card MUTE: it could not power it (ATR %s)", hexs(atr))
	}
	start := time.Now()
	if err := s.connect(scard.ShareShared); err != nil {
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
	if st.State&(scard.Powered|scard.Specific|scard.Negotiable) == 0 {
		t.Errorf("SCardStatus state %#x: card not powered", uint32(st.State))
	}
	if !bytes.Equal(st.Atr, atr) {
		t.Errorf("SCardStatus ATR %s differs from SCardGetStatusChange ATR %s", hexs(st.Atr), hexs(atr))
	}
	for _, a := range []struct {
		name string
		id   scard.Attrib
		text bool
	}{
		{"vendor name", scard.AttrVendorName, true},
		{"IFD type", scard.AttrVendorIfdType, true},
		{"IFD version", scard.AttrVendorIfdVersion, false},
		{"IFD serial number", scard.AttrVendorIfdSerialNo, true},
		{"channel ID", scard.AttrChannelId, false},
	} {
		v, err := within(t.cfg.APDUTimeout, "reading attribute", func() ([]byte, error) { return s.card.GetAttrib(a.id) })
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
	msg := "Remove the card from the reader now."
	if insert {
		msg = "Insert (or place) the card now."
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
		t.Skipf("needs the card moved: run with the simulated card, or --interactive with an operator")
	}
}

func checkR02(t *T) {
	t.needMover()
	s, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s.close() }()
	if _, _, err := waitState(s.ctx, t.cfg.Reader, scard.StatePresent, presenceWait); err != nil {
		t.Fatalf("no card at the start: %v", err)
	}
	var rem, ins latencies
	for i := 1; i <= 3; i++ {
		budget := t.moveCard(false)
		d, _, err := waitState(s.ctx, t.cfg.Reader, scard.StateEmpty, budget+5*time.Second)
		if err != nil {
			t.Fatalf("cycle %d: removal not reported: %v", i, err)
		}
		rem = append(rem, d)
		if d > budget {
			t.Errorf("cycle %d: removal reported after %v, budget %v", i, d.Round(time.Millisecond), budget)
		}
		budget = t.moveCard(true)
		d, _, err = waitState(s.ctx, t.cfg.Reader, scard.StatePresent, budget+10*time.Second)
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
	s, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s.close() }()
	for _, step := range []struct {
		msg  string
		want bool
	}{{"Unplug the reader now.", false}, {"Plug the reader back in now.", true}} {
		if err := t.cfg.Prompter.Prompt(step.msg); err != nil {
			t.Fatalf("prompting: %v", err)
		}
		start := time.Now()
		for {
			readers, _ := within(t.cfg.APDUTimeout, "listing readers", s.ctx.ListReaders)
			if contains(readers, t.cfg.Reader) == step.want {
				t.Ms(fmt.Sprintf("reader listed=%v after", step.want), time.Since(start))
				break
			}
			if time.Since(start) > 30*time.Second {
				t.Fatalf("reader still listed=%v after 30 s", !step.want)
			}
			rs := []scard.ReaderState{{Reader: pnp, CurrentState: scard.StateUnaware}}
			_ = s.ctx.GetStatusChange(rs, time.Second)
		}
	}
}

func checkR04(t *T) {
	t.needMover()
	s := t.open(scard.ShareShared)
	closed := false
	defer func() {
		if !closed {
			_ = s.close()
		}
	}()
	t.enterEF(s, jpki.EFAuthCert)
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
		if _, _, after = s.transmit(selectAID(jpki.AID, 0x0C)); after != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if after == nil {
		t.Errorf("transmits on the old handle still succeed 3 s after the card left")
	} else {
		t.Record("next transmit", "%v", after)
	}
	d, _, werr := waitState(s.ctx, t.cfg.Reader, scard.StateEmpty, 10*time.Second)
	switch {
	case werr != nil:
		t.Errorf("removal not reported: %v", werr)
	default:
		t.Ms("removal reported after", d)
	}
	derr := s.disconnect(scard.LeaveCard)
	t.Record("SCardDisconnect after removal", "%v", errOrOK(derr))
	if derr != nil && !isScardErr(derr, scard.ErrRemovedCard) && !isScardErr(derr, scard.ErrNoSmartcard) {
		t.Errorf("SCardDisconnect after removal: %v", derr)
	}
	closed = true
	if err := s.close(); err != nil {
		t.Errorf("SCardReleaseContext after removal: %v", err)
	}
	t.moveCard(true)
	s2, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s2.close() }()
	if d, _, err := waitState(s2.ctx, t.cfg.Reader, scard.StatePresent, 30*time.Second); err != nil {
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

func checkR05(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	st, err := s.status()
	if err != nil {
		t.Fatalf("SCardStatus: %v", err)
	}
	t.Record("ATR", "%s", hexs(st.Atr))
	known := false
	for _, k := range knownJPKIATRs {
		known = known || k == hexs(st.Atr)
	}
	t.Record("ATR in the list of known My Number Card ATRs", "%v (information only: the card is identified by SELECT)", known)
	a, err := ParseATR(st.Atr)
	if err != nil {
		t.Errorf("parsing the ATR: %v", err)
	}
	t.Record("TS", "%02X", a.TS)
	t.Record("T0", "%02X (K=%d historical bytes)", a.T0, a.T0&0x0F)
	var ib []string
	for _, b := range a.Interface {
		ib = append(ib, fmt.Sprintf("%s=%02X", b.Name, b.Value))
	}
	t.Record("interface bytes", "%s", strings.Join(ib, " "))
	t.Record("protocols", "%v", a.Protocols)
	t.Record("historical bytes", "%s", hexs(a.Historical))
	if a.HasTCK {
		t.Record("TCK", "%02X (checks)", a.TCK)
	}
	t.Record("interface", "%s", interfaceOf(a))
	if err == nil && !a.Offers(1) {
		t.Errorf("the ATR does not offer T=1 (protocols %v); the My Number Card is T=1 only", a.Protocols)
	}
	proto := s.card.ActiveProtocol()
	t.Record("negotiated protocol", "%s", protoName(proto))
	if proto != scard.ProtocolT1 {
		t.Errorf("SCardConnect negotiated %s, want T=1", protoName(proto))
	}
	t.expectSW(s, "SELECT of the JPKI AID", selectAID(jpki.AID, 0x0C), 0x9000)
	t.expectSW(s, "SELECT of an unknown AID", selectAID([]byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0xEE}, 0x0C), 0x6A82)
}

func interfaceOf(a ATR) string {
	if a.Contactless() {
		return "contactless (PC/SC part 3 ATR)"
	}
	return "contact (or an ATR passed through unchanged)"
}

func protoName(p scard.Protocol) string {
	switch p {
	case scard.ProtocolT0:
		return "T=0"
	case scard.ProtocolT1:
		return "T=1"
	}
	return fmt.Sprintf("protocol %#x", uint32(p))
}

// definedErr reports whether sw is a defined error answer to a malformed or
// unsuitable command (ISO/IEC 7816-4 clause 5.6).
func definedErr(sw uint16) bool {
	switch sw >> 8 {
	case 0x67, 0x68, 0x6A, 0x6B, 0x6D, 0x6E:
		return sw == 0x6700 || sw == 0x6881 || sw == 0x6882 || sw&0xFF00 == 0x6A00 && sw >= 0x6A80 && sw <= 0x6A88 ||
			sw == 0x6B00 || sw == 0x6D00 || sw == 0x6E00
	}
	return false
}

func checkR06(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)

	// Case 1.
	t.enterEF(s, jpki.EFAuthPIN)
	resp := t.xfer(s, triesQuery)
	if sw, _ := swOf(resp); len(resp) != 2 || sw&0xFFF0 != 0x63C0 {
		t.Errorf("case 1 (VERIFY tries-left query): got %s, want 63Cx", describe(resp))
	}

	// Case 2, every Le.
	t.enterEF(s, jpki.EFAuthCert)
	bad := 0
	for n := 1; n <= 256; n++ {
		resp, _, err := chained(s, readBinary(0, n))
		if err != nil {
			t.Fatalf("case 2 READ BINARY Le %d: %v", n, err)
		}
		sw, _ := swOf(resp)
		if sw != 0x9000 || len(resp)-2 != n || !equalPrefix(resp[:len(resp)-2], ref.authCert) {
			if bad++; bad <= 5 {
				t.Errorf("case 2 READ BINARY Le %d: got %s, want %d certificate bytes + 9000", n, describe(resp), n)
			}
		}
	}
	for n := 1; n <= 256; n++ {
		resp, _, err := chained(s, getChallenge(n))
		if err != nil {
			t.Fatalf("case 2 GET CHALLENGE Le %d: %v", n, err)
		}
		if sw, _ := swOf(resp); sw != 0x9000 || len(resp)-2 != n {
			if bad++; bad <= 10 {
				t.Errorf("case 2 GET CHALLENGE Le %d: got %s, want %d bytes + 9000", n, describe(resp), n)
			}
		}
	}
	t.Record("case 2 lengths", "Le 1..256 (READ BINARY and GET CHALLENGE), %d wrong", bad)

	// Cases 3 and 4, every Lc.
	for _, c := range []struct {
		name string
		p2   byte
		le   bool
	}{{"case 3 SELECT", 0x0C, false}, {"case 4 SELECT with FCI", 0x00, true}} {
		bad, partial := 0, 0
		for n := 1; n <= 255; n++ {
			data := make([]byte, n)
			copy(data, jpki.AID)
			cmd := selectAID(data, c.p2)
			if c.le {
				cmd = append(cmd, 0x00)
			}
			resp, _, err := chained(s, cmd)
			if err != nil {
				t.Fatalf("%s Lc %d: %v", c.name, n, err)
			}
			sw, _ := swOf(resp)
			ok := false
			switch {
			case n == len(jpki.AID):
				ok = sw == 0x9000
			case n < len(jpki.AID):
				ok = sw == 0x9000 || definedErr(sw)
				if sw == 0x9000 {
					partial++
				}
			default:
				ok = definedErr(sw)
			}
			if !ok {
				if bad++; bad <= 5 {
					t.Errorf("%s Lc %d: got %s", c.name, n, describe(resp))
				}
			}
		}
		t.Record(c.name+" lengths", "Lc 1..255, %d wrong; partial DF names accepted for %d of 9 lengths", bad, partial)
	}

	// Case 4 echo through the signature.
	if why := t.verifyAuthPIN(s); why != "" {
		t.Record("case 4 signature echo", "skipped: %s", why)
		return
	}
	t.expectSW(s, "selecting the auth key", selectEF(jpki.EFAuthKey), 0x9000)
	lengths := []int{1, 2, 3, 15, 16, 17, 32, 34, 51, 63, 64, 65, 127, 128, 129, 200, 244, 245}
	if t.cfg.Full {
		lengths = lengths[:0]
		for n := 1; n <= 245; n++ {
			lengths = append(lengths, n)
		}
	}
	pub, _ := ref.cert.PublicKey.(*rsa.PublicKey)
	if pub == nil {
		t.Fatalf("the auth certificate's key is not RSA")
	}
	for _, n := range lengths {
		data := make([]byte, n)
		_, _ = rand.Read(data)
		sig := t.expectSW(s, fmt.Sprintf("case 4 signature Lc %d", n), signCmd(data), 0x9000)
		if err := rsa.VerifyPKCS1v15(pub, crypto.Hash(0), data, sig); err != nil {
			t.Errorf("case 4 signature Lc %d: does not verify over the data sent (mangled in transit?): %v", n, err)
		}
	}
	t.Record("case 4 signature echo", "%d lengths from %d to %d, each verified", len(lengths), lengths[0], lengths[len(lengths)-1])
}

// le00 sends cmd (Le=00) and checks for 256 bytes + 9000 in one exchange
// (under T=0, 61 00 followed by GET RESPONSE is accepted too).
func (t *T) le00(s *session, what string, cmd []byte, want []byte) {
	resp, d, err := s.transmit(cmd)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	t.Ms(what+" round trip", d)
	if sw, _ := swOf(resp); sw == 0x6100 && s.card.ActiveProtocol() == scard.ProtocolT0 {
		resp, _, err = chained(s, []byte{0x00, 0xC0, 0x00, 0x00, 0x00})
		if err != nil {
			t.Errorf("%s: GET RESPONSE: %v", what, err)
			return
		}
		t.Record(what, "61 00 + GET RESPONSE (T=0)")
	}
	sw, _ := swOf(resp)
	switch {
	case len(resp) != 258 || sw != 0x9000:
		t.Errorf("%s: got %s, want 256 bytes + 9000", what, describe(resp))
	case want != nil && !bytes.Equal(resp[:256], want):
		t.Errorf("%s: the 256 bytes differ from the certificate", what)
	}
}

func checkR07(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	if len(ref.authCert) <= 256 {
		t.Fatalf("the auth certificate has only %d bytes: no full Le=00 chunk to read", len(ref.authCert))
	}
	t.enterEF(s, jpki.EFAuthCert)
	t.le00(s, "READ BINARY Le=00", readBinary(0, 256), ref.authCert[:256])
	t.le00(s, "GET CHALLENGE Le=00", getChallenge(256), nil)
	if why := t.verifyAuthPIN(s); why != "" {
		t.Record("signature Le=00", "skipped: %s", why)
		return
	}
	t.expectSW(s, "selecting the auth key", selectEF(jpki.EFAuthKey), 0x9000)
	h := sha256.Sum256([]byte("mynahil R07"))
	di, err := jpki.DigestInfo(crypto.SHA256, h[:])
	if err != nil {
		t.Fatalf("building DigestInfo: %v", err)
	}
	t.le00(s, "signature Le=00", signCmd(di), nil)
}

func checkR08(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	t.enterEF(s, jpki.EFAuthCert)
	probes, chainedN := 0, 0
	for _, n := range []int{1, 128, 255, 256} {
		for _, p := range []struct {
			name string
			cmd  []byte
			want []byte
		}{
			{"GET CHALLENGE", getChallenge(n), nil},
			{"READ BINARY", readBinary(0, n), ref.authCert[:min(n, len(ref.authCert))]},
		} {
			probes++
			resp, rounds, err := chained(s, p.cmd)
			if err != nil {
				t.Errorf("%s Le %d: %v", p.name, n, err)
				continue
			}
			if rounds > 0 {
				chainedN++
			}
			sw, _ := swOf(resp)
			data := resp[:len(resp)-2]
			switch {
			case sw != 0x9000 || len(data) != n:
				t.Errorf("%s Le %d: assembled %s after %d GET RESPONSE rounds, want %d bytes + 9000", p.name, n, describe(resp), rounds, n)
			case p.want != nil && !bytes.Equal(data, p.want):
				t.Errorf("%s Le %d: assembled data differ from the certificate", p.name, n)
			}
		}
	}
	t.Record("61xx chaining", "%d of %d probes chained", chainedN, probes)
}

// featureTLV is FEATURE_GET_TLV_PROPERTIES and its dwMaxAPDUDataSize tag
// (PC/SC part 10 v2.02.09 §2.6.14, §2.6.14.3 tag 0x0A).
const (
	featureGetTLVProperties = 0x12
	tagMaxAPDUDataSize      = 0x0A
)

// advertisedExtended asks the reader for dwMaxAPDUDataSize; 0 when it says
// nothing (Debian's vpcd answers no SCardControl, docs/vpcd-pcscd.md §9).
func advertisedExtended(s *session) (int, string) {
	feat, err := within(s.timeout, "SCardControl", func() ([]byte, error) {
		return s.card.Control(scard.CtlCode(3400), nil)
	})
	if err != nil {
		return 0, fmt.Sprintf("CM_IOCTL_GET_FEATURE_REQUEST: %v", err)
	}
	for i := 0; i+6 <= len(feat); i += 6 {
		if feat[i] != featureGetTLVProperties || feat[i+1] != 4 {
			continue
		}
		ioctl := uint32(feat[i+2])<<24 | uint32(feat[i+3])<<16 | uint32(feat[i+4])<<8 | uint32(feat[i+5])
		props, err := within(s.timeout, "SCardControl", func() ([]byte, error) { return s.card.Control(ioctl, nil) })
		if err != nil {
			return 0, fmt.Sprintf("FEATURE_GET_TLV_PROPERTIES: %v", err)
		}
		for j := 0; j+2 <= len(props); {
			tag, l := props[j], int(props[j+1])
			if j+2+l > len(props) {
				break
			}
			if tag == tagMaxAPDUDataSize {
				v := 0
				for k := l - 1; k >= 0; k-- { // little-endian
					v = v<<8 | int(props[j+2+k])
				}
				return v, "advertised by the reader (dwMaxAPDUDataSize)"
			}
			j += 2 + l
		}
		return 0, "FEATURE_GET_TLV_PROPERTIES without dwMaxAPDUDataSize"
	}
	return 0, "no FEATURE_GET_TLV_PROPERTIES"
}

func checkR09(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	max, how := advertisedExtended(s)
	t.Record("reader advertisement", "%d (%s)", max, how)
	if max == 0 && t.cfg.ExtendedMax > 0 {
		max, how = t.cfg.ExtendedMax, "declared by the reader maker (--extended)"
	}
	t.Record("extended claim", "%d bytes, %s", max, how)
	if max <= 256 {
		max = 0 // dwMaxAPDUDataSize 0 (or a short size) means short APDUs only (PC/SC part 10 §2.6.14.3)
	}
	n := len(ref.authCert)
	if max > 0 {
		n = min(n, max)
	}
	case2E := []byte{0x00, 0xB0, 0x00, 0x00, 0x00, byte(n >> 8), byte(n)}
	t.enterEF(s, jpki.EFAuthCert)
	if max == 0 {
		resp, _, err := chained(s, case2E)
		t.Record("probe", "case 2E READ BINARY Le %d: %s", n, probeResult(resp, err))
		t.Record("result", "no extended-APDU claim to check (declare one with --extended to test it)")
		return
	}
	start := time.Now()
	resp, rounds, err := chained(s, case2E)
	switch sw, _ := swOf(resp); {
	case err != nil:
		t.Errorf("case 2E READ BINARY Le %d: %v", n, err)
	case sw != 0x9000 || !bytes.Equal(resp[:len(resp)-2], ref.authCert[:n]):
		t.Errorf("case 2E READ BINARY Le %d: got %s, want %d certificate bytes + 9000", n, describe(resp), n)
	default:
		t.Record("case 2E", "%d-byte response in %.2f ms (%d GET RESPONSE rounds)", len(resp), float64(time.Since(start).Microseconds())/1000, rounds)
	}
	aid := jpki.AID
	unknown := make([]byte, 16) // the longest DF name (ISO/IEC 7816-4 clause 8.2.1.2)
	for _, c := range []struct {
		name string
		cmd  []byte
		sw   uint16
	}{
		{"case 3E SELECT", append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, byte(len(aid))}, aid...), 0x9000},
		{"case 4E SELECT", append(append([]byte{0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, byte(len(aid))}, aid...), 0x00, 0x00), 0x9000},
		{"case 3E SELECT of an unknown 16-byte name", append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, 0x10}, unknown...), 0x6A82},
	} {
		resp, _, err := chained(s, c.cmd)
		if sw, _ := swOf(resp); err != nil || sw != c.sw {
			t.Errorf("%s: %s, want %04X from the card", c.name, probeResult(resp, err), c.sw)
		}
	}
	big := append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x01, 0x2C}, make([]byte, 300)...)
	resp, _, err = s.transmit(big)
	t.Record("case 3E Lc 300", "%s", probeResult(resp, err))
}

func probeResult(resp []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return describe(resp)
}

func checkR10(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	for _, n := range []int{255, 256} {
		resp, _, err := chained(s, getChallenge(n))
		if err != nil {
			t.Errorf("GET CHALLENGE Le %d: %v", n, err)
			continue
		}
		if sw, _ := swOf(resp); len(resp) != n+2 || sw != 0x9000 {
			t.Errorf("%d-byte response (GET CHALLENGE Le %d): got %s", n+2, n%256, describe(resp))
		}
	}
	for _, c := range []struct {
		lc int
		le bool
	}{{253, false}, {254, false}, {255, false}, {255, true}} {
		data := make([]byte, c.lc)
		copy(data, jpki.AID)
		p2 := byte(0x0C)
		if c.le {
			p2 = 0x00
		}
		cmd := selectAID(data, p2)
		if c.le {
			cmd = append(cmd, 0x00)
		}
		resp, _, err := chained(s, cmd)
		sw, _ := swOf(resp)
		if err != nil || !definedErr(sw) {
			t.Errorf("%d-byte command (SELECT Lc %d): %s, want the card's error for an over-long DF name", len(cmd), c.lc, probeResult(resp, err))
		}
	}
	t.Record("packets", "responses of 257 and 258 bytes; commands of 258, 259, 260 and 261 bytes")
}

func checkR11(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	const budget = 10 * time.Second
	var worst time.Duration
	for _, ef := range []jpki.FileID{jpki.EFAuthCert, jpki.EFAuthCA} {
		t.enterEF(s, ef)
		start := time.Now()
		der, err := readDER(s)
		d := time.Since(start)
		if err != nil {
			t.Errorf("reading %v: %v", ef, err)
			continue
		}
		t.Ms(fmt.Sprintf("whole read of %v (%d bytes)", ef, len(der)), d)
		worst = max(worst, d/time.Duration((len(der)+255)/256))
	}
	if why := t.verifyAuthPIN(s); why != "" {
		t.Record("signature", "skipped: %s", why)
	} else {
		t.expectSW(s, "selecting the auth key", selectEF(jpki.EFAuthKey), 0x9000)
		h := sha256.Sum256([]byte("mynahil R11"))
		di, _ := jpki.DigestInfo(crypto.SHA256, h[:])
		start := time.Now()
		t.expectSW(s, "signature", signCmd(di), 0x9000)
		d := time.Since(start)
		t.Ms("signature", d)
		worst = max(worst, d)
	}
	t.Ms("slowest APDU (mean per chunk)", worst)
	if worst > budget {
		t.Errorf("an operation took %v per APDU, budget %v", worst, budget)
	}
}

func checkR12(t *T) {
	before := hangs.Load() - t.run.hangsAtStart
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	t.enterEF(s, jpki.EFAuthPIN)
	var l latencies
	for i := 0; i < 5; i++ {
		for _, cmd := range [][]byte{triesQuery, getChallenge(8), selectEF(jpki.EFAuthPIN), append(selectAID(jpki.AID[:8], 0x00), 0x00)} {
			_, d, err := s.transmit(cmd)
			if err != nil {
				t.Fatalf("exchange % X: %v", cmd[:4], err)
			}
			l = append(l, d)
			if len(cmd) > 5 && cmd[1] == 0xA4 && cmd[2] == 0x04 {
				t.expectSW(s, "reselecting the PIN EF", selectEF(jpki.EFAuthPIN), 0x9000)
			}
		}
	}
	t.Ms("max of 20 exchanges", l.max())
	total := hangs.Load() - t.run.hangsAtStart
	t.Record("PC/SC calls that missed their deadline in this run", "%d (before this check: %d)", total, before)
	if total > 0 {
		t.Errorf("%d PC/SC calls in this run did not return within %v: the reader hangs instead of failing", total, t.cfg.APDUTimeout)
	}
}

func checkR13(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	t.enterEF(s, jpki.EFAuthCert)
	for _, c := range []struct {
		name string
		cmd  []byte
	}{
		{"2-byte command", []byte{0x00, 0xA4}},
		{"3-byte command", []byte{0x00, 0xA4, 0x04}},
		{"Lc 10 with 2 data bytes", []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92}},
		{"Lc 2 with 4 data bytes", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A, 0x00, 0x0A}},
		{"unknown INS", []byte{0x00, 0x02, 0x00, 0x00}},
		{"unknown CLA", []byte{0x90, 0xA4, 0x04, 0x0C, 0x02, 0xD3, 0x92}},
		{"READ BINARY beyond the file", []byte{0x00, 0xB0, 0x7F, 0xFF, 0x01}},
	} {
		resp, _, err := s.transmit(c.cmd)
		switch sw, ok := swOf(resp); {
		case err != nil:
			t.Record(c.name, "PC/SC error: %v", err)
		case !ok:
			t.Errorf("%s: %d-byte answer without status word", c.name, len(resp))
		case !definedErr(sw):
			t.Errorf("%s: got %s, want a defined error", c.name, describe(resp))
		default:
			t.Record(c.name, "%04X", sw)
		}
	}
}

func checkR14(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	t.enterEF(s, jpki.EFAuthCert)
	r, err := within(t.cfg.APDUTimeout, "connecting", func() (*rawCard, error) { return rawConnect(t.cfg.Reader) })
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer r.close()
	want := append(append([]byte(nil), ref.authCert[:10]...), 0x90, 0x00)
	// send issues READ BINARY Le 10, following a 61xx with GET RESPONSE;
	// the data-bearing exchange gets the buffer under test.
	send := func(bufLen int) rawResult {
		res, err := within(t.cfg.APDUTimeout, "transmitting", func() (rawResult, error) { return r.transmit(readBinary(0, 10), bufLen), nil })
		if err != nil {
			t.Fatalf("%v", err)
		}
		if sw, ok := swOf(res.Resp); ok && len(res.Resp) == 2 && sw>>8 == 0x61 {
			res, _ = within(t.cfg.APDUTimeout, "transmitting", func() (rawResult, error) {
				return r.transmit([]byte{0x00, 0xC0, 0x00, 0x00, byte(sw)}, bufLen), nil
			})
		}
		return res
	}
	small := send(len(want) - 1)
	t.Record("11-byte buffer", "error %v, needed %d", small.Err, small.Needed)
	switch {
	case small.Overflowed:
		t.Errorf("SCardTransmit wrote past an 11-byte buffer")
	case !isScardErr(small.Err, scard.ErrInsufficientBuffer):
		t.Errorf("11-byte buffer for a 12-byte response: got %v (%d bytes), want SCARD_E_INSUFFICIENT_BUFFER", errOrOK(small.Err), len(small.Resp))
	case small.Needed != len(want):
		t.Errorf("11-byte buffer: SCardTransmit reports %d bytes needed, want %d", small.Needed, len(want))
	}
	exact := send(len(want))
	switch {
	case exact.Overflowed:
		t.Errorf("SCardTransmit wrote past a 12-byte buffer")
	case exact.Err != nil:
		t.Errorf("12-byte buffer for a 12-byte response: %v (needed %d)", exact.Err, exact.Needed)
	case !bytes.Equal(exact.Resp, want):
		t.Errorf("12-byte buffer: got %s, want %s", hexs(exact.Resp), hexs(want))
	}
}

func checkR15(t *T) {
	a := t.open(scard.ShareExclusive)
	defer func() { _ = a.close() }()
	b, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = b.close() }()
	err = b.connect(scard.ShareShared)
	t.Record("shared connect against an exclusive holder", "%v", errOrOK(err))
	if !isScardErr(err, scard.ErrSharingViolation) {
		t.Errorf("shared connect while another context holds the card exclusively: got %v, want SCARD_E_SHARING_VIOLATION", errOrOK(err))
		_ = b.disconnect(scard.LeaveCard)
	}
	// A fresh shared connect rather than SCardReconnect from exclusive to
	// shared: on pcsc-lite 1.9.9 that reconnect leaves the reader locked and
	// the next SCardConnect waits forever (observed on Debian 12).
	if err := a.disconnect(scard.LeaveCard); err != nil {
		t.Fatalf("disconnecting the exclusive handle: %v", err)
	}
	if err := a.connect(scard.ShareShared); err != nil {
		t.Fatalf("shared connect: %v", err)
	}
	if err := b.connect(scard.ShareShared); err != nil {
		t.Fatalf("second shared connect: %v", err)
	}
	// Transactions.
	if _, err := within(t.cfg.APDUTimeout, "beginning a transaction", func() (struct{}, error) { return struct{}{}, a.card.BeginTransaction() }); err != nil {
		t.Fatalf("%v", err)
	}
	got := make(chan error, 1)
	go func() { got <- b.card.BeginTransaction() }()
	select {
	case err := <-got:
		t.Errorf("a second transaction began (%v) while the first was open", errOrOK(err))
	case <-time.After(300 * time.Millisecond):
	}
	ended := time.Now()
	if err := endTx(a); err != nil {
		t.Errorf("ending the transaction: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("the waiting transaction failed: %v", err)
		} else {
			t.Ms("waiting transaction began after the first ended, after", time.Since(ended))
			endTransaction(b)
		}
	case <-time.After(t.cfg.APDUTimeout):
		t.Errorf("the waiting transaction did not begin within %v of the first one ending", t.cfg.APDUTimeout)
	}
	err = endTx(a)
	t.Record("extra SCardEndTransaction", "%v", errOrOK(err))
	if !isScardErr(err, scard.ErrNotTransacted) {
		t.Errorf("SCardEndTransaction without a transaction: got %v, want SCARD_E_NOT_TRANSACTED", errOrOK(err))
	}
	// Card state across handles and resets.
	t.enterEF(a, jpki.EFAuthCert)
	if err := a.disconnect(scard.LeaveCard); err != nil {
		t.Errorf("disconnecting with SCARD_LEAVE_CARD: %v", err)
	}
	resp := t.xfer(b, readBinary(0, 16))
	if sw, _ := swOf(resp); sw != 0x9000 && sw>>8 != 0x61 {
		t.Errorf("after SCARD_LEAVE_CARD the selected file is gone (READ BINARY: %s)", describe(resp))
	}
	if err := b.reconnect(scard.ShareShared, scard.ResetCard); err != nil {
		t.Fatalf("reconnecting with SCARD_RESET_CARD: %v", err)
	}
	resp = t.xfer(b, readBinary(0, 16))
	t.Record("READ BINARY after SCARD_RESET_CARD", "%s", describe(resp))
	if sw, _ := swOf(resp); sw == 0x9000 || sw>>8 == 0x61 {
		t.Errorf("after a reconnect with SCARD_RESET_CARD the card still has its file selected: the reset did not reach it")
	}
}

func checkR16(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	st, err := s.status()
	if err != nil {
		t.Fatalf("SCardStatus: %v", err)
	}
	atr := st.Atr
	var resets latencies
	for i := 0; i < 15; i++ {
		disp, kind := scard.ResetCard, "warm"
		if i >= 10 {
			disp, kind = scard.UnpowerCard, "cold"
		}
		t.enterEF(s, jpki.EFAuthCert)
		start := time.Now()
		if err := s.reconnect(scard.ShareShared, disp); err != nil {
			t.Fatalf("%s reset %d: %v", kind, i+1, err)
		}
		resets = append(resets, time.Since(start))
		resp := t.xfer(s, readBinary(0, 16))
		if sw, _ := swOf(resp); sw == 0x9000 || sw>>8 == 0x61 {
			t.Errorf("%s reset %d: the card kept its selected file", kind, i+1)
		}
		if st, err := s.status(); err != nil || !bytes.Equal(st.Atr, atr) {
			t.Errorf("%s reset %d: ATR changed or unreadable (%v)", kind, i+1, err)
		}
	}
	t.Ms("reset max", resets.max())

	t.expectSW(s, "selecting the JPKI AP", selectAID(jpki.AID, 0x0C), 0x9000)
	var l latencies
	bad := 0
	for i := 0; i < t.cfg.SoakCount; i++ {
		var cmd []byte
		off := (i / 2 * 32) % 256
		if i%2 == 0 {
			cmd = selectEF(jpki.EFAuthCert)
		} else {
			cmd = readBinary(off, 32)
		}
		start := time.Now()
		resp, _, err := chained(s, cmd)
		l = append(l, time.Since(start))
		if err != nil {
			t.Fatalf("soak APDU %d: %v", i+1, err)
		}
		sw, _ := swOf(resp)
		ok := sw == 0x9000 && (i%2 == 0 || bytes.Equal(resp[:len(resp)-2], ref.authCert[off:off+32]))
		if !ok {
			if bad++; bad <= 5 {
				t.Errorf("soak APDU %d: got %s", i+1, describe(resp))
			}
		}
	}
	t.Record("soak APDUs", "%d, %d wrong", t.cfg.SoakCount, bad)
	t.Ms("soak latency median", l.percentile(0.5))
	t.Ms("soak latency p99", l.percentile(0.99))
	t.Ms("soak latency max", l.max())
	if p := l.percentile(0.99); p > 250*time.Millisecond {
		t.Errorf("soak p99 latency %v exceeds 250 ms", p)
	}
	if m := l.max(); m > time.Second {
		t.Errorf("soak max latency %v exceeds 1 s", m)
	}
}

func checkR17(t *T) {
	s := t.open(scard.ShareShared)
	defer func() { _ = s.close() }()
	c := jpki.New(transport{s})
	if err := c.SelectAP(); err != nil {
		t.Fatalf("%v", err)
	}
	certs := map[jpki.Cert][]byte{}
	for _, k := range []jpki.Cert{jpki.AuthCert, jpki.AuthCACert, jpki.SignCACert} {
		_, der, err := c.ReadCertificate(k)
		if err != nil {
			t.Fatalf("reading the %v: %v", k, err)
		}
		certs[k] = der
		t.Record(k.String(), "%d bytes", len(der))
	}
	auth, err := x509.ParseCertificate(certs[jpki.AuthCert])
	if err != nil {
		t.Fatalf("parsing the auth certificate: %v", err)
	}
	authCA, err := x509.ParseCertificate(certs[jpki.AuthCACert])
	if err != nil {
		t.Fatalf("parsing the auth CA certificate: %v", err)
	}
	if err := auth.CheckSignatureFrom(authCA); err != nil {
		t.Errorf("the auth certificate is not signed by the auth CA certificate read from the card: %v", err)
	}
	for _, p := range []jpki.PINRef{jpki.AuthPIN, jpki.SignPIN} {
		n, err := c.TriesLeft(p)
		if err != nil {
			t.Errorf("tries left for the %v: %v", p, err)
			continue
		}
		t.Record("tries left, "+p.String(), "%d of %d", n, p.MaxTries())
	}
	if why := t.verifyPIN(s, jpki.SignPIN); why == "" {
		if _, der, err := c.ReadCertificate(jpki.SignCert); err != nil {
			t.Errorf("reading the sign certificate after VERIFY of the sign PIN: %v", err)
		} else {
			t.Record(jpki.SignCert.String(), "%d bytes (sign PIN verified)", len(der))
		}
	} else if err := c.SelectEF(jpki.EFSignCert); err != nil {
		t.Errorf("selecting the sign certificate: %v", err)
	} else {
		resp := t.xfer(s, readBinary(0, 7))
		t.Record("sign certificate without the sign PIN", "%s", describe(resp))
		if sw, _ := swOf(resp); sw != 0x6982 {
			t.Errorf("reading the sign certificate without the sign PIN: got %s, want 6982", describe(resp))
		}
	}
	h := sha256.Sum256([]byte("mynahil R17 " + time.Now().String()))
	if why := t.verifyAuthPIN(s); why != "" {
		t.Record("sign with the auth key", "without the PIN: %s", why)
		if err := c.SelectAP(); err != nil {
			t.Fatalf("%v", err)
		}
		_, err := c.Sign(jpki.AuthKey, h[:], crypto.SHA256)
		if !isSW(err, 0x6982) {
			t.Errorf("signing without the auth PIN: got %v, want 6982", err)
		}
		return
	}
	n, err := c.TriesLeft(jpki.AuthPIN)
	if err != nil || n != jpki.AuthPIN.MaxTries() {
		t.Errorf("after VERIFY the auth PIN should have %d tries: got %d (%v)", jpki.AuthPIN.MaxTries(), n, err)
	}
	start := time.Now()
	sig, err := c.Sign(jpki.AuthKey, h[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	t.Ms("signature", time.Since(start))
	pub, _ := auth.PublicKey.(*rsa.PublicKey)
	if pub == nil {
		t.Fatalf("the auth certificate's key is not RSA")
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("the signature does not verify with the auth certificate: %v", err)
	}
}

func isSW(err error, sw uint16) bool {
	got, ok := apdu.StatusOf(err)
	return ok && got == sw
}

// transport adapts a session to harness.Transport for the JPKI client.
type transport struct{ s *session }

func (t transport) Transmit(cmd []byte) ([]byte, error) {
	resp, _, err := chained(t.s, cmd)
	return resp, err
}

func (t transport) ATR() ([]byte, error) {
	st, err := t.s.status()
	if err != nil {
		return nil, err
	}
	return st.Atr, nil
}

func (t transport) Reset() error { return t.s.reconnect(scard.ShareShared, scard.ResetCard) }
func (t transport) Close() error { return nil }

func checkR18(t *T) {
	if !t.cfg.Interactive || t.cfg.Prompter == nil {
		t.Skipf("interactive: run with --interactive on a dual-interface reader")
	}
	var seen [][]byte
	for _, iface := range []string{"contact", "contactless"} {
		if err := t.cfg.Prompter.Prompt(fmt.Sprintf("Present the card through the %s interface of %q.", iface, t.cfg.Reader)); err != nil {
			t.Fatalf("prompting: %v", err)
		}
		s := t.open(scard.ShareShared)
		st, err := s.status()
		if err != nil {
			_ = s.close()
			t.Fatalf("SCardStatus: %v", err)
		}
		a, _ := ParseATR(st.Atr)
		t.Record(iface+" ATR", "%s (%s)", hexs(st.Atr), interfaceOf(a))
		t.enterEF(s, jpki.EFAuthCert)
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
	s0, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = s0.close() }()
	for _, o := range []string{"face up, long edge forward", "face down, long edge forward", "face up, rotated 180°", "face down, rotated 180°"} {
		ok := 0
		for i := 1; i <= t.cfg.Placements; i++ {
			if err := t.cfg.Prompter.Prompt(fmt.Sprintf("[%s] placement %d of %d: place the card on the reader.", o, i, t.cfg.Placements)); err != nil {
				t.Fatalf("prompting: %v", err)
			}
			if placementOK(t, s0) {
				ok++
			}
			if err := t.cfg.Prompter.Prompt("Take the card away."); err != nil {
				t.Fatalf("prompting: %v", err)
			}
			_, _, _ = waitState(s0.ctx, t.cfg.Reader, scard.StateEmpty, 30*time.Second)
		}
		t.Record("orientation "+o, "%d of %d", ok, t.cfg.Placements)
		if ok*10 < t.cfg.Placements*9 {
			t.Errorf("orientation %s: %d of %d placements worked, want at least 90 %%", o, ok, t.cfg.Placements)
		}
	}
}

func placementOK(t *T, s0 *session) bool {
	if _, _, err := waitState(s0.ctx, t.cfg.Reader, scard.StatePresent, 10*time.Second); err != nil {
		return false
	}
	s, err := openSession(t.cfg.Reader, 10*time.Second)
	if err != nil {
		return false
	}
	defer func() { _ = s.close() }()
	if s.connect(scard.ShareShared) != nil {
		return false
	}
	if r, _, err := chained(s, selectAID(jpki.AID, 0x0C)); err != nil || !bytes.HasSuffix(r, []byte{0x90, 0x00}) {
		return false
	}
	if r, _, err := chained(s, selectEF(jpki.EFAuthCert)); err != nil || !bytes.HasSuffix(r, []byte{0x90, 0x00}) {
		return false
	}
	_, err = readDER(s)
	return err == nil
}

func checkR20(t *T) {
	s := t.open(scard.ShareShared)
	ref := t.ref(s)
	_ = s.close()
	const workers, rounds = 4, 25
	errs := make(chan error, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		go func(w int) {
			errs <- r20Worker(t, w, rounds, ref)
		}(w)
	}
	deadline := time.After(time.Duration(rounds*5)*t.cfg.APDUTimeout + lockWait)
	for w := 0; w < workers; w++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("%v", err)
			}
		case <-deadline:
			t.Fatalf("workers did not finish")
		}
	}
	t.Ms(fmt.Sprintf("%d workers × %d transactions", workers, rounds), time.Since(start))
}

// endTx ends a transaction (SCARD_LEAVE_CARD), bounded by the timeout.
func endTx(s *session) error {
	_, err := within(s.timeout, "ending a transaction", func() (struct{}, error) { return struct{}{}, s.card.EndTransaction(scard.LeaveCard) })
	return err
}

// endTransaction ends a transaction on an error path.
func endTransaction(s *session) { _ = endTx(s) }

// lockWait bounds SCardBeginTransaction in R20.
const lockWait = 30 * time.Second

func r20Worker(t *T, w, rounds int, ref *reference) error {
	s, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		return fmt.Errorf("worker %d: %w", w, err)
	}
	defer func() { _ = s.close() }()
	if err := s.connect(scard.ShareShared); err != nil {
		return fmt.Errorf("worker %d: %w", w, err)
	}
	for i := 0; i < rounds; i++ {
		// pcsc-lite lets waiting transactions poll for the lock, so a
		// worker can wait for all the others: bound the wait by their work.
		if _, err := within(lockWait, "beginning a transaction", func() (struct{}, error) { return struct{}{}, s.card.BeginTransaction() }); err != nil {
			return fmt.Errorf("worker %d round %d: %w", w, i, err)
		}
		off := ((w*rounds + i) * 64) % 256
		for _, step := range []struct {
			cmd  []byte
			want func([]byte) bool
		}{
			{selectAID(jpki.AID, 0x0C), func(r []byte) bool { return bytes.Equal(r, []byte{0x90, 0x00}) }},
			{selectEF(jpki.EFAuthCert), func(r []byte) bool { return bytes.Equal(r, []byte{0x90, 0x00}) }},
			{readBinary(off, 64), func(r []byte) bool {
				return bytes.Equal(r, append(append([]byte(nil), ref.authCert[off:off+64]...), 0x90, 0x00))
			}},
			{selectEF(jpki.EFAuthPIN), func(r []byte) bool { return bytes.Equal(r, []byte{0x90, 0x00}) }},
			{triesQuery, func(r []byte) bool { sw, _ := swOf(r); return len(r) == 2 && sw&0xFFF0 == 0x63C0 }},
		} {
			resp, _, err := chained(s, step.cmd)
			if err != nil {
				endTransaction(s)
				return fmt.Errorf("worker %d round %d: % X: %w", w, i, step.cmd[:4], err)
			}
			if !step.want(resp) {
				endTransaction(s)
				return fmt.Errorf("worker %d round %d: % X answered %s", w, i, step.cmd[:4], describe(resp))
			}
		}
		if err := endTx(s); err != nil {
			return fmt.Errorf("worker %d round %d: %w", w, i, err)
		}
	}
	return nil
}
