package conformance

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apdutrace "github.com/mynahil/mynahil/harness/trace"
)

// traceLimit bounds the exchanges a trace keeps: the first and the last
// ones of a long check (R16's soak) are what a reader maker needs.
const traceLimit = 200

// trace is the APDU log of the running check, PINs masked and, on a
// physical card, the holder's personal data hidden unless the user asked
// for it with MYNAHIL_REPORT_PERSONAL=1 (package harness/trace,
// docs/physical-cards.md). Checks run one at a time, so one trace is
// current; R20's workers add to it concurrently.
type trace struct {
	mu      sync.Mutex
	start   time.Time
	head    []string
	tail    []string
	dropped int
	hider   *apdutrace.Hider
}

var currentTrace atomic.Pointer[trace]

// startTrace starts the trace of a check on a physical card or not.
func startTrace(physical bool) *trace {
	t := &trace{start: time.Now(), hider: apdutrace.NewHider(physical)}
	currentTrace.Store(t)
	return t
}

func stopTrace() { currentTrace.Store(nil) }

// traceExchange adds one exchange to the current trace, if any.
func traceExchange(cmd, resp []byte, d time.Duration, err error) {
	t := currentTrace.Load()
	if t == nil {
		return
	}
	if err != nil {
		t.hider.Response(cmd, nil) // the card's selection is no longer known
	}
	line := fmt.Sprintf("+%7.1f ms  > %s", float64(time.Since(t.start).Microseconds())/1000, hexs(MaskPIN(cmd)))
	if err != nil {
		line += fmt.Sprintf("\n              < error after %.1f ms: %v", float64(d.Microseconds())/1000, err)
	} else {
		line += fmt.Sprintf("\n              < %s (%.1f ms)", t.hider.Response(cmd, resp), float64(d.Microseconds())/1000)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.head) < traceLimit/2 {
		t.head = append(t.head, line)
		return
	}
	t.tail = append(t.tail, line)
	if len(t.tail) > traceLimit/2 {
		t.tail = t.tail[1:]
		t.dropped++
	}
}

func (t *trace) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.head...)
	if t.dropped > 0 {
		out = append(out, fmt.Sprintf("… %d exchanges not shown …", t.dropped))
	}
	return append(out, t.tail...)
}

// MaskPIN returns cmd with the data of PIN commands replaced by "**":
// VERIFY (20), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER (2C)
// carry PINs (ISO/IEC 7816-4 clauses 11.5.6–11.5.10); traces and reports
// never show them.
func MaskPIN(cmd []byte) []byte {
	if len(cmd) <= 5 || (cmd[1] != 0x20 && cmd[1] != 0x24 && cmd[1] != 0x2C) {
		return cmd
	}
	out := append([]byte(nil), cmd[:5]...)
	for range cmd[5:] {
		out = append(out, 0x2A) // '*'
	}
	return out
}
