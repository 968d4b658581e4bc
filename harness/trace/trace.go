// Package trace records the APDU exchanges of a test so that a failing spec
// shows what went over the wire.
//
// PIN data never reaches the recording: the data field of every command that
// carries reference data (VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER,
// ENABLE/DISABLE VERIFICATION REQUIREMENT, and the JICSAP CHANGE KEY 80 32 of
// docs/card.md §3.4) is overwritten before it is stored, and the text
// rendering prints each masked byte as "**". Lc stays visible, so a trace
// shows how long a PIN was, never what it was. Likewise the data of a READ
// BINARY of the My Number file (券面事項入力補助AP EF 0001, whose content
// is also 照合番号A) is overwritten; its status word stays.
//
// On a physical card (NewFor(true)) the recording also drops the response
// data of every read that can carry the holder's personal data: the signing
// certificate (JPKI EF 0001, whose subject holds the name, address and birth
// date), the card-info applets' EFs other than their public certificates
// (the four facts, the card face's images, the integrity record), READ
// RECORD and READ BINARY outside the JPKI and card-info applets, and the GET
// DATA objects that identify the card or its municipality (docs/card.md §3).
// Only the status word and the number of bytes hidden remain, rendered as
// "<1768 bytes of personal data hidden>". MYNAHIL_REPORT_PERSONAL=1 keeps
// them (docs/physical-cards.md); the My Number stays masked even then.
// Simulated cards hold test data only: their recordings keep every byte.
//
// The Ginkgo hook lives in the ginkgotrace subpackage so that importing trace
// does not register Ginkgo's command-line flags in non-test binaries.
package trace

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mynahil/mynahil/harness/apduclient"
)

// MaskByte replaces every masked command byte in a recording.
const MaskByte = '*'

// Exchange is one recorded command-response pair, or a note (a reset, a
// power cycle) when Note is set.
type Exchange struct {
	Start    time.Time
	Duration time.Duration
	// Command is the command APDU with any PIN data overwritten by MaskByte.
	Command []byte
	// Masked is the range of Command that was overwritten (MaskedLen 0: none).
	MaskedOffset, MaskedLen int
	Response                []byte
	// ResponseMasked says the response data (not the status word) was
	// overwritten: it was the My Number, which is also 照合番号A.
	ResponseMasked bool
	// Hidden is the number of response data bytes dropped as personal
	// data (physical cards only): Response then holds the status word only.
	Hidden int
	Err    error // transport error, if the exchange failed
	Note   string
}

// Recorder collects exchanges. It is safe for concurrent use.
// The zero value is ready to use.
type Recorder struct {
	mu        sync.Mutex
	exchanges []Exchange
	// What the card has selected, as far as the commands tell, to know when
	// a read returns the My Number or other personal data.
	sel Follower
	// hidePersonal drops the response data of personal reads (NewFor).
	hidePersonal bool
}

// EnvReportPersonal names the environment variable with which the user asks
// for the personal data of a physical card in traces and reports ("1").
const EnvReportPersonal = "MYNAHIL_REPORT_PERSONAL"

// ReportPersonal reports whether the user asked, with
// MYNAHIL_REPORT_PERSONAL, for a physical card's personal data in reports.
func ReportPersonal() bool {
	b, _ := strconv.ParseBool(os.Getenv(EnvReportPersonal))
	return b
}

// HidePersonal reports whether traces of this card must hide personal
// data: it is physical and the user did not ask for the data.
func HidePersonal(physical bool) bool { return physical && !ReportPersonal() }

// NewFor returns an empty Recorder for a card: on a physical one it hides
// personal data unless the user asked for it (HidePersonal).
func NewFor(physical bool) *Recorder { return &Recorder{hidePersonal: HidePersonal(physical)} }

// New returns an empty Recorder that keeps every response byte except the
// My Number: for simulated cards.
func New() *Recorder { return &Recorder{} }

// Record stores one exchange. It copies cmd (masking PIN data in the copy)
// and resp, so the caller may reuse both buffers.
func (r *Recorder) Record(start time.Time, d time.Duration, cmd, resp []byte, err error) {
	masked, off, n := Mask(cmd)
	var respCopy []byte
	if resp != nil {
		respCopy = append([]byte(nil), resp...)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	content := r.sel.Next(cmd, resp)
	secret, hidden := false, 0
	if len(respCopy) > 2 {
		switch {
		case content == MyNumber:
			secret = true
			for i := range respCopy[:len(respCopy)-2] {
				respCopy[i] = MaskByte
			}
		case content == Personal && r.hidePersonal:
			hidden = len(respCopy) - 2
			respCopy = respCopy[hidden:]
		}
	}
	r.exchanges = append(r.exchanges, Exchange{
		Start: start, Duration: d,
		Command: masked, MaskedOffset: off, MaskedLen: n,
		Response: respCopy, ResponseMasked: secret, Hidden: hidden, Err: err,
	})
}

// Note records an event that is not an APDU exchange, such as a reset.
func (r *Recorder) Note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, Exchange{Start: time.Now(), Note: fmt.Sprintf(format, args...)})
}

// Exchanges returns a copy of what has been recorded so far.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}

// Len returns the number of recorded entries.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.exchanges)
}

// Clear forgets everything recorded.
func (r *Recorder) Clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = nil
}

// String renders the recording as text, one line per command and response:
//
//	#1  > 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01  SELECT
//	    < 90 00  success  (120µs)
//	#2  > 00 20 00 80 04 ** ** ** **  VERIFY
//	    < 63 C2  verification failed, 2 tries left  (85µs)
func (r *Recorder) String() string {
	var b strings.Builder
	_, _ = r.WriteTo(&b)
	return b.String()
}

// WriteTo writes the text rendering of String to w.
func (r *Recorder) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	for i, e := range r.Exchanges() {
		e.render(&b, i+1)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

func (e Exchange) render(b *strings.Builder, n int) {
	if e.Note != "" {
		fmt.Fprintf(b, "#%-3d -- %s\n", n, e.Note)
		return
	}
	fmt.Fprintf(b, "#%-3d > ", n)
	for i, c := range e.Command {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i >= e.MaskedOffset && i < e.MaskedOffset+e.MaskedLen {
			b.WriteString("**")
		} else {
			fmt.Fprintf(b, "%02X", c)
		}
	}
	fmt.Fprintf(b, "  %s\n", CommandName(e.Command))
	switch {
	case e.Err != nil:
		fmt.Fprintf(b, "     ! %v  (%v)\n", e.Err, e.Duration)
	case len(e.Response) < 2:
		fmt.Fprintf(b, "     < % X  malformed response  (%v)\n", e.Response, e.Duration)
	case e.Hidden > 0:
		r, _ := apduclient.ParseResponse(e.Response)
		fmt.Fprintf(b, "     < %s %02X %02X  %s  (%v)\n", HiddenText(e.Hidden),
			e.Response[len(e.Response)-2], e.Response[len(e.Response)-1], apduclient.Describe(r.SW), e.Duration)
	case e.ResponseMasked:
		r, _ := apduclient.ParseResponse(e.Response)
		fmt.Fprintf(b, "     < %s%02X %02X  %s, My Number masked  (%v)\n", strings.Repeat("** ", len(e.Response)-2),
			e.Response[len(e.Response)-2], e.Response[len(e.Response)-1], apduclient.Describe(r.SW), e.Duration)
	default:
		r, _ := apduclient.ParseResponse(e.Response)
		fmt.Fprintf(b, "     < % X  %s  (%v)\n", e.Response, apduclient.Describe(r.SW), e.Duration)
	}
}

// HiddenText is the placeholder a trace shows for n bytes of personal data.
func HiddenText(n int) string { return fmt.Sprintf("<%d bytes of personal data hidden>", n) }

// carriesPIN reports whether the data field of a command with this header is
// reference data (a PIN) that must not be recorded. ISO/IEC 7816-4 clause 11.5
// ("Basic security handling"): VERIFY (20, 21), CHANGE REFERENCE DATA (24),
// DISABLE / ENABLE VERIFICATION REQUIREMENT (26, 28), RESET RETRY COUNTER (2C);
// and the proprietary CHANGE KEY 80 32 (docs/card.md §3.4, §4.5).
func carriesPIN(cla, ins byte) bool {
	switch ins {
	case 0x20, 0x21, 0x24, 0x26, 0x28, 0x2C:
		return true
	case 0x32:
		return cla&0x80 != 0
	}
	return false
}

// Mask returns a copy of cmd with the data field of a PIN-carrying command
// overwritten by MaskByte, and the range it overwrote. A PIN-carrying command
// that does not parse as an APDU has everything after its header masked, so
// that a malformed VERIFY cannot leak a PIN either.
func Mask(cmd []byte) (masked []byte, offset, n int) {
	if cmd == nil {
		return nil, 0, 0
	}
	masked = append([]byte(nil), cmd...)
	if len(cmd) < 4 || !carriesPIN(cmd[0], cmd[1]) {
		return masked, 0, 0
	}
	offset, n = 4, len(cmd)-4
	if c, err := apduclient.ParseCommand(cmd); err == nil {
		if len(c.Data) == 0 {
			return masked, 0, 0
		}
		offset, n = 5, len(c.Data)
		if c.IsExtended() {
			offset = 7
		}
	}
	for i := offset; i < offset+n; i++ {
		masked[i] = MaskByte
	}
	return masked, offset, n
}

// proprietaryNames are the JPKI/JICSAP names of the proprietary
// instructions (CLA with bit 8 set) the card uses (docs/card.md §4).
var proprietaryNames = map[byte]string{
	0x2A: "COMPUTE DIGITAL SIGNATURE (JPKI 80 2A)",
	0x32: "CHANGE KEY (JICSAP 80 32)",
	0xA2: "VERIFY CERTIFICATE (80 A2)",
	0xAE: "SET SESSION KEY (80 AE)",
}

// interIndustryNames are the ISO/IEC 7816-4 names of the inter-industry
// instructions; SELECT and VERIFY are named in more detail by CommandName.
var interIndustryNames = map[byte]string{
	0xA4: "SELECT",
	0xB0: "READ BINARY",
	0xB1: "READ BINARY (odd INS)",
	0xB2: "READ RECORD",
	0xD6: "UPDATE BINARY",
	0x20: "VERIFY",
	0x21: "VERIFY (odd INS)",
	0x24: "CHANGE REFERENCE DATA",
	0x26: "DISABLE VERIFICATION REQUIREMENT",
	0x28: "ENABLE VERIFICATION REQUIREMENT",
	0x2C: "RESET RETRY COUNTER",
	0x22: "MANAGE SECURITY ENVIRONMENT",
	0x2A: "PERFORM SECURITY OPERATION",
	0x84: "GET CHALLENGE",
	0x88: "INTERNAL AUTHENTICATE",
	0x82: "EXTERNAL AUTHENTICATE",
	0xC0: "GET RESPONSE",
	0xCA: "GET DATA",
	0xCB: "GET DATA",
	0x70: "MANAGE CHANNEL",
}

// CommandName names the instruction of a command APDU for the trace: the
// ISO/IEC 7816-4 name for the inter-industry class, the JPKI/JICSAP name for
// the proprietary instructions the card uses (docs/card.md §4).
func CommandName(cmd []byte) string {
	if len(cmd) < 4 {
		return "(malformed)"
	}
	cla, ins, p1 := cmd[0], cmd[1], cmd[2]
	if cla&0x80 != 0 {
		if name, ok := proprietaryNames[ins]; ok {
			return name
		}
		return fmt.Sprintf("proprietary INS %02X", ins)
	}
	switch {
	case ins == 0xA4 && p1 == 0x04:
		return "SELECT by DF name"
	case ins == 0xA4 && p1 == 0x02:
		return "SELECT EF"
	case ins == 0x20 && len(cmd) <= 5:
		return "VERIFY (tries-left query)"
	}
	if name, ok := interIndustryNames[ins]; ok {
		return name
	}
	return fmt.Sprintf("INS %02X", ins)
}
