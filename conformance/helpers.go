package conformance

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/pinbudget"
)

// presenceWait is how long a check waits for the card at its start (after a
// previous check removed and re-inserted it).
const presenceWait = 15 * time.Second

// open returns a session connected to the card in mode; the caller defers
// close. It ends the check on failure.
func (t *T) open(mode pcsc.Mode) *session {
	s, err := t.session(t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if _, _, err := waitState(s.ctx, t.cfg.Reader, pcsc.StatePresent, presenceWait); err != nil {
		_ = s.close()
		t.Fatalf("no card in %q: %v", t.cfg.Reader, err)
	}
	if err := s.connect(mode); err != nil {
		_ = s.close()
		t.Fatalf("%v", err)
	}
	return s
}

// session opens a PC/SC session for the check, as the run's PC/SC stack
// shows it (Config.stackFault).
func (t *T) session(timeout time.Duration) (*session, error) {
	s, err := openSession(t.cfg.Reader, timeout)
	if err == nil {
		s.lies = t.cfg.stackFault()
	}
	return s, err
}

// xfer sends cmd and ends the check on a transport error.
func (t *T) xfer(s *session, cmd []byte) []byte {
	resp, _, err := s.transmit(cmd)
	if err != nil {
		t.Fatalf("sending % X: %v", cmd[:min(len(cmd), 5)], err)
	}
	return resp
}

// expectSW sends cmd and ends the check unless the status word is sw.
func (t *T) expectSW(s *session, what string, cmd []byte, sw uint16) []byte {
	resp, _, err := chained(s, cmd)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got, ok := swOf(resp)
	if !ok || got != sw {
		t.Fatalf("%s: got %s, want %04X", what, describe(resp), sw)
	}
	return resp[:len(resp)-2]
}

func describe(resp []byte) string {
	sw, ok := swOf(resp)
	if !ok {
		return fmt.Sprintf("a %d-byte response without status word", len(resp))
	}
	return fmt.Sprintf("%04X (%s) after %d data bytes", sw, apduclient.Describe(sw), len(resp)-2)
}

// maxChain bounds GET RESPONSE rounds (a card or reader announcing 61xx
// forever must not hang the suite).
const maxChain = 300

// chained sends cmd and, while the answer is 61xx, fetches the rest with
// GET RESPONSE 00 C0 00 00 xx (ISO/IEC 7816-4 clause 5.3.4, as OpenSC does).
// It returns data + final SW and the number of GET RESPONSE rounds.
func chained(s *session, cmd []byte) ([]byte, int, error) {
	resp, _, err := s.transmit(cmd)
	if err != nil {
		return nil, 0, err
	}
	var data []byte
	for round := 0; ; round++ {
		sw, ok := swOf(resp)
		if !ok || sw>>8 != 0x61 {
			return append(data, resp...), round, nil
		}
		if round == maxChain {
			return nil, round, fmt.Errorf("chaining: still 61xx after %d GET RESPONSE rounds", maxChain)
		}
		data = append(data, resp[:len(resp)-2]...)
		resp, _, err = s.transmit([]byte{0x00, 0xC0, 0x00, 0x00, byte(sw)})
		if err != nil {
			return nil, round, fmt.Errorf("GET RESPONSE: %w", err)
		}
	}
}

func selectAID(aid []byte, p2 byte) []byte {
	return append([]byte{0x00, 0xA4, 0x04, p2, byte(len(aid))}, aid...)
}

func selectEF(id jpkiclient.FileID) []byte {
	return []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, byte(id >> 8), byte(id)}
}

// readBinary is READ BINARY at a 15-bit offset with short Le n (256 → 00).
func readBinary(off, n int) []byte {
	return []byte{0x00, 0xB0, byte(off >> 8), byte(off), byte(n)}
}

func getChallenge(n int) []byte { return []byte{0x00, 0x84, 0x00, 0x00, byte(n)} }

// triesQuery is VERIFY with no data on the current PIN EF: 63Cx, x = tries left.
var triesQuery = []byte{0x00, 0x20, 0x00, 0x80}

// enterEF selects the JPKI AP and then ef.
func (t *T) enterEF(s *session, ef jpkiclient.FileID) {
	t.expectSW(s, "selecting the JPKI AP", selectAID(jpkiclient.AID, 0x0C), 0x9000)
	t.expectSW(s, "selecting "+ef.String(), selectEF(ef), 0x9000)
}

// reference is what the card holds, read once per run and compared against
// every later read: the auth certificate.
type reference struct {
	authCert []byte
	cert     *x509.Certificate
}

// ref reads the auth certificate once per run (R17 reads it again its own way).
func (t *T) ref(s *session) *reference {
	t.run.mu.Lock()
	r := t.run.ref
	t.run.mu.Unlock()
	if r != nil {
		return r
	}
	t.enterEF(s, jpkiclient.EFAuthCert)
	// Half chunks: the reference must not depend on the Le=00 path that
	// R07 and R10 test.
	der, err := readDERChunks(s, 128)
	if err != nil {
		t.Fatalf("reading the auth certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing the auth certificate: %v", err)
	}
	r = &reference{authCert: der, cert: cert}
	t.run.mu.Lock()
	t.run.ref = r
	t.run.mu.Unlock()
	return r
}

// readDER reads the current EF's DER object with Le=00 chunks, as OpenSC
// and myna do (docs/conformance-checklist.md, Background).
func readDER(s *session) ([]byte, error) { return readDERChunks(s, 256) }

// readDERChunks reads the current EF's DER object in chunks of at most chunk bytes.
func readDERChunks(s *session, chunk int) ([]byte, error) {
	var out []byte
	total := -1
	for off := 0; total < 0 || off < total; {
		if off > 0x7FFF {
			return nil, fmt.Errorf("object longer than a 15-bit offset reaches")
		}
		n := chunk
		if total >= 0 {
			n = min(chunk, total-off)
		}
		resp, _, err := chained(s, readBinary(off, n))
		if err != nil {
			return nil, fmt.Errorf("reading at %d: %w", off, err)
		}
		if sw, _ := swOf(resp); sw != 0x9000 {
			return nil, fmt.Errorf("reading at %d: %s", off, describe(resp))
		}
		data := resp[:len(resp)-2]
		if len(data) == 0 || len(data) > n {
			return nil, fmt.Errorf("reading at %d: %d bytes for Le %d", off, len(data), n)
		}
		out = append(out, data...)
		off += len(data)
		if total < 0 {
			h, err := jpkiclient.ParseDERHeader(out)
			if err != nil {
				return nil, fmt.Errorf("parsing DER header: %w", err)
			}
			total = h.TotalLen()
		}
	}
	return out[:total], nil
}

// pinKey is the PIN budget's key of ref (harness/pinbudget).
func pinKey(ref jpkiclient.PINRef) pinbudget.Key {
	if ref == jpkiclient.SignPIN {
		return pinbudget.Sign
	}
	return pinbudget.Auth
}

// checkTransport is a session as a harness.Transport for the PIN budget;
// a transmission error ends the check, as xfer does.
type checkTransport struct {
	t *T
	s *session
}

func (c checkTransport) Transmit(cmd []byte) ([]byte, error) { return c.t.xfer(c.s, cmd), nil }

// pinFor returns the given PIN for ref if the run's PIN budget lets it
// through (harness/pinbudget): one was given, the card has not refused it
// in this run, and the card shows every try left. The PIN's EF must be
// selected. Otherwise it returns why not, in the budget's words.
func (t *T) pinFor(s *session, ref jpkiclient.PINRef) (jpkiclient.PIN, string) {
	pin, k := t.cfg.AuthPIN, pinKey(ref)
	if ref == jpkiclient.SignPIN {
		pin = t.cfg.SignPIN
	}
	if pin == "" {
		return "", fmt.Sprintf("no %v given (%s)", ref, k.Env)
	}
	if r := t.run.pins.Result(k); r.State == pinbudget.Refused {
		return "", r.Reason()
	}
	if err := t.run.pins.Ready(checkTransport{t, s}, k); err != nil {
		return "", err.Error()
	}
	return pin, ""
}

// verifyPIN selects the AP and the PIN's EF and verifies the given PIN if
// the budget allows; it returns "" on success, else why the PIN-dependent
// part is skipped. A refusal bars the PIN for the rest of the run and
// leaves the run incomplete, never not conformant: the PIN, not the
// reader, was wrong (docs/conformance.md).
func (t *T) verifyPIN(s *session, ref jpkiclient.PINRef) string {
	t.enterEF(s, ref.EF())
	pin, why := t.pinFor(s, ref)
	if why != "" {
		return why
	}
	resp := t.xfer(s, append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...))
	sw, _ := swOf(resp)
	t.run.pins.Note(pinKey(ref), sw)
	if sw != 0x9000 {
		if r := t.run.pins.Result(pinKey(ref)); r.State == pinbudget.Refused {
			return r.Reason()
		}
		t.Fatalf("VERIFY with the given %v: %s", ref, describe(resp))
	}
	return ""
}

// skipPIN records that the part name did not run for want of the PIN ref.
// When the PIN was given but the budget withheld it, the part's "needs"
// carries the budget's reason (cause and remedy), so the check's message
// says it: "… needs the auth PIN (MYNAHIL_AUTH_PIN): the auth PIN given
// was refused; 2 of 3 tries left: …; check MYNAHIL_AUTH_PIN".
func (t *T) skipPIN(name string, ref jpkiclient.PINRef, why string) {
	k := pinKey(ref)
	needs := fmt.Sprintf("the %v (%s)", ref, k.Env)
	if given := t.cfg.AuthPIN != "" && ref == jpkiclient.AuthPIN || t.cfg.SignPIN != "" && ref == jpkiclient.SignPIN; given {
		needs += ": " + why
	}
	t.SkipPart(name, needs, why)
}

// verifyAuthPIN is verifyPIN for the auth PIN.
func (t *T) verifyAuthPIN(s *session) string { return t.verifyPIN(s, jpkiclient.AuthPIN) }

// signCmd is COMPUTE DIGITAL SIGNATURE 80 2A 00 80 Lc data 00 on the
// current key EF (docs/conformance-checklist.md, Background).
func signCmd(data []byte) []byte {
	return append(append([]byte{0x80, 0x2A, 0x00, 0x80, byte(len(data))}, data...), 0x00)
}

// latencies summarises round trips.
type latencies []time.Duration

func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s)-1) + 0.5)
	return s[i]
}

func (l latencies) max() time.Duration { return l.percentile(1) }

func hexs(b []byte) string { return fmt.Sprintf("% X", b) }

func equalPrefix(a, ref []byte) bool { return len(a) <= len(ref) && bytes.Equal(a, ref[:len(a)]) }
