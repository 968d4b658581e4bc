package conformance

import "strings"

// Branch is one way a mandatory check fails: one thing a reader can get
// wrong. docs/conformance-checklist.md lists every branch with the fault
// profiles (package vpcd/faults) that prove it: run against the simulated
// card, the profile makes the check fail with this branch's message while
// the unrelated mandatory checks pass (conformance/fault_matrix_test.go).
type Branch struct {
	ID    string // "R07.length"
	What  string // what the reader got wrong, one line
	Match string // a fragment of the failure message the branch writes
	// Also lists fragments of the branch's other failure messages (the
	// same fault seen at another step), as they appear in the check's code.
	Also []string
	// NoProfile, when not empty, says why no fault profile can take this
	// branch.
	NoProfile string
}

// Check returns the ID of the branch's check ("R07").
func (b Branch) Check() string { id, _, _ := strings.Cut(b.ID, "."); return id }

// Branches returns the failure branches of the mandatory checks, by check.
func Branches() []Branch {
	return []Branch{
		{ID: "R01.not-ready", What: "the card is present but the reader cannot power it or make it ready (MUTE, SCardConnect fails)", Match: "ready to communicate", Also: []string{"reports the card MUTE"}},
		{ID: "R01.status-reader", What: "SCardStatus names another reader", Match: "SCardStatus names reader"},
		{ID: "R01.status-powered", What: "SCardStatus reports the connected card unpowered", Match: "card not powered"},
		{ID: "R01.status-atr", What: "SCardStatus reports another ATR than SCardGetStatusChange", Match: "differs from SCardGetStatusChange ATR"},
		{ID: "R02.removal-late", What: "a removal shows up in SCardGetStatusChange after the detection budget", Match: "removal reported after", Also: []string{"removal not reported"}},
		{ID: "R02.insertion-late", What: "an insertion shows up in SCardGetStatusChange after the detection budget", Match: "insertion reported after", Also: []string{"insertion not reported"}},
		{ID: "R04.phantom-response", What: "a transmit interrupted by the card's removal delivers bytes the card never sent", Match: "that the card never sent"},
		{ID: "R04.handle-alive", What: "transmits on the old handle still succeed after the card left", Match: "still succeed"},
		{ID: "R05.atr", What: "the ATR does not parse or does not offer T=1", Match: "the ATR"},
		{ID: "R05.protocol", What: "SCardConnect negotiates another protocol than T=1", Match: "negotiated"},
		{ID: "R06.case1", What: "a case 1 command (no data, no Le) does not get the card's answer", Match: "case 1 "},
		{ID: "R06.case2", What: "a case 2 response has another length or content than asked for", Match: "case 2 "},
		{ID: "R06.case34", What: "a case 3 or 4 command of some length gets an undefined answer", Match: "Lc"},
		{ID: "R06.echo", What: "case 4 command data reach the card altered (the signature does not verify over the data sent)", Match: "does not verify over the data sent"},
		{ID: "R07.length", What: "Le=00 does not give exactly 256 data bytes and 9000 in one exchange", Match: "want 256 bytes + 9000"},
		{ID: "R08.assembly", What: "61xx chaining assembles the wrong length or data", Match: "assembled"},
		{ID: "R09.case2E", What: "a claimed extended-length READ BINARY does not return the data", Match: "case 2E READ BINARY"},
		{ID: "R09.case3E", What: "claimed extended-length commands do not reach the card", Match: "from the card"},
		{ID: "R10.response", What: "257- and 258-byte responses do not arrive whole", Match: "-byte response"},
		{ID: "R10.command", What: "258- to 261-byte commands do not reach the card", Match: "-byte command"},
		{ID: "R11.gives-up", What: "the reader gives up on a slow card operation (premature timeout)", Match: "reading EF", Also: []string{"reading %v: %v"}},
		{ID: "R11.budget", What: "a slow card operation arrives, but later than the slow-operation budget per APDU", Match: "per APDU, budget"},
		{ID: "R12.hang", What: "a PC/SC call does not return within the APDU timeout", Match: "did not return"},
		{ID: "R13.undefined", What: "a malformed command gets 9000 or a garbled status word", Match: "want a defined error"},
		{ID: "R13.no-sw", What: "a malformed command gets an answer without a status word", Match: "answer without status word"},
		{ID: "R14.insufficient-buffer", What: "a response larger than the receive buffer does not fail with SCARD_E_INSUFFICIENT_BUFFER", Match: "want SCARD_E_INSUFFICIENT_BUFFER"},
		{ID: "R14.needed", What: "SCARD_E_INSUFFICIENT_BUFFER reports the wrong length needed", Match: "bytes needed, want"},
		{ID: "R14.exact-size", What: "a response that exactly fits the receive buffer fails", Match: "12-byte buffer for a 12-byte response"},
		{ID: "R14.exact-content", What: "a response that exactly fits the receive buffer arrives altered", Match: "12-byte buffer: got"},
		{ID: "R14.overrun", What: "SCardTransmit writes past the receive buffer", Match: "wrote past", NoProfile: "libpcsclite copies the response into the application's buffer in the suite's own process: no reader or PC/SC stack fault can make it write past it; the check guards the byte after the buffer"},
		{ID: "R15.sharing", What: "an exclusive holder does not exclude a shared connect, or SCardEndTransaction without a transaction succeeds", Match: "SCARD_E_"},
		{ID: "R15.transaction", What: "a second context's transaction begins while the first is open, or does not begin after it ends", Match: "transaction", Also: []string{"the waiting transaction"}},
		{ID: "R15.leave", What: "SCARD_LEAVE_CARD resets the card: another handle is told of a reset or loses its selected file", Match: "after SCARD_LEAVE_CARD"},
		{ID: "R15.reset", What: "a reconnect with SCARD_RESET_CARD does not reset the card", Match: "the reset did not reach it"},
		{ID: "R16.reset", What: "warm or cold resets leave the card's state as it was", Match: "kept its selected file"},
		{ID: "R16.reset-atr", What: "the ATR read after a reset differs from the one before", Match: "ATR changed or unreadable"},
		{ID: "R16.soak-answer", What: "a soak APDU gets a wrong answer", Match: "soak APDU"},
		{ID: "R16.soak-p99", What: "the 99th percentile of the soak's latencies exceeds its limit", Match: "soak p99 latency"},
		{ID: "R16.soak-latency", What: "the slowest APDU of the soak exceeds the latency limit", Match: "soak max latency"},
		{ID: "R17.flow", What: "the JPKI flow (certificates, PIN tries, signature) fails through the reader", Match: "reading the auth certificate", Also: []string{
			"reading the %v: %v", "not signed by the auth CA certificate", "tries left for the %v", "reading the sign certificate", "selecting the sign certificate",
			"signing without the auth PIN", "after VERIFY the auth PIN should have", "signing: %v", "the signature does not verify with the auth certificate",
		}},
		{ID: "R20.concurrency", What: "exchanges of several contexts fail or hang", Match: "worker", Also: []string{"workers did not finish"}},
	}
}

// OtherFailure is a failure message of a mandatory check that is no branch
// of its own, and why.
type OtherFailure struct {
	Check  string // "R06"
	Format string // the message's format, as in the check's code
	Why    string // one of the Why… constants
}

// Why a failure message is no branch of its own.
const (
	// WhyCallError: the message passes on the error of a PC/SC call, which
	// names what went wrong; readers that drop the card or hang are proven
	// under R01.not-ready, R11.gives-up and R12.hang.
	WhyCallError = "a PC/SC call failed: its error is reported as is"
	// WhyNotReader: the card or the suite itself, which the run has
	// identified as a My Number Card before the checks.
	WhyNotReader = "the card or the suite, not the reader: the run identified a My Number Card first"
	// WhyEnvironment: what the run's preflight checks (reader listed, card
	// present) changed during the run.
	WhyEnvironment = "the environment changed during the run (the preflight found it ready)"
	// WhyElsewhere: the same defect as a branch of another check, proven
	// there (R02's detection of removals and insertions).
	WhyElsewhere = "the same defect as R02.removal-late or R02.insertion-late, proven there"
)

// OtherFailures lists the failure messages of the mandatory checks that
// are not branches (docs/conformance-checklist.md, "Other failures").
func OtherFailures() []OtherFailure {
	call := func(check string, formats ...string) []OtherFailure {
		var out []OtherFailure
		for _, f := range formats {
			out = append(out, OtherFailure{check, f, WhyCallError})
		}
		return out
	}
	var out []OtherFailure
	for _, l := range [][]OtherFailure{
		call("R01", "%v", "closing: %v", "reading reader state: %v", "SCardStatus: %v"),
		{{"R01", "reader %q is not listed", WhyEnvironment}, {"R01", "no card reported: %v", WhyEnvironment}},
		call("R02", "%v"),
		{{"R02", "no card at the start: %v", WhyEnvironment}},
		call("R04", "%v", "SCardDisconnect after removal: %v", "SCardReleaseContext after removal: %v"),
		{{"R04", "prompting: %v", WhyEnvironment}, {"R04", "removal not reported: %v", WhyElsewhere}, {"R04", "card not back after re-insertion: %v", WhyElsewhere}},
		call("R05", "SCardStatus: %v"),
		{{"R06", "the auth certificate's key is not RSA", WhyNotReader}},
		{{"R07", "the auth certificate has only %d bytes: no full Le=00 chunk to read", WhyNotReader}, {"R07", "building DigestInfo: %v", WhyNotReader}},
		call("R08", "%s Le %d: %v"),
		call("R10", "GET CHALLENGE Le %d: %v"),
		call("R12", "exchange % X: %v"),
		call("R14", "%v"),
		call("R15", "%v", "disconnecting the exclusive handle: %v", "shared connect: %v", "second shared connect: %v", "disconnecting with SCARD_LEAVE_CARD: %v", "reconnecting with SCARD_RESET_CARD: %v"),
		call("R16", "SCardStatus: %v", "%s reset %d: %v"),
		call("R17", "%v"),
		{{"R17", "parsing the auth certificate: %v", WhyNotReader}, {"R17", "parsing the auth CA certificate: %v", WhyNotReader}, {"R17", "the auth certificate's key is not RSA", WhyNotReader}},
		call("R20", "%v"),
	} {
		out = append(out, l...)
	}
	return out
}
