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
	// NoProfile, when not empty, says why no reader fault behind vpcd can
	// take this branch (pcscd itself implements what it checks).
	NoProfile string
}

// Check returns the ID of the branch's check ("R07").
func (b Branch) Check() string { id, _, _ := strings.Cut(b.ID, "."); return id }

const pcscdOwned = "pcscd implements this, not the reader driver: no reader fault behind vpcd can change it"

// Branches returns the failure branches of the mandatory checks, by check.
func Branches() []Branch {
	return []Branch{
		{ID: "R01.not-ready", What: "the card is present but the reader cannot power it or make it ready (MUTE, SCardConnect fails)", Match: "ready to communicate"},
		{ID: "R01.status", What: "SCardStatus names another reader, reports the card unpowered or another ATR", Match: "SCardStatus", NoProfile: pcscdOwned},
		{ID: "R02.removal-late", What: "a removal shows up in SCardGetStatusChange after the detection budget", Match: "removal reported after"},
		{ID: "R02.insertion-late", What: "an insertion shows up in SCardGetStatusChange after the detection budget", Match: "insertion reported after"},
		{ID: "R04.phantom-response", What: "a transmit interrupted by the card's removal delivers bytes the card never sent", Match: "that the card never sent"},
		{ID: "R04.handle-alive", What: "transmits on the old handle still succeed after the card left", Match: "still succeed", NoProfile: pcscdOwned},
		{ID: "R05.atr", What: "the ATR does not parse or does not offer T=1", Match: "the ATR"},
		{ID: "R05.protocol", What: "SCardConnect negotiates another protocol than T=1", Match: "negotiated"},
		{ID: "R06.case2", What: "a case 2 response has another length or content than asked for", Match: "case 2 "},
		{ID: "R06.echo", What: "case 4 command data reach the card altered (the signature does not verify over the data sent)", Match: "does not verify over the data sent"},
		{ID: "R07.length", What: "Le=00 does not give exactly 256 data bytes and 9000 in one exchange", Match: "want 256 bytes + 9000"},
		{ID: "R08.assembly", What: "61xx chaining assembles the wrong length or data", Match: "assembled"},
		{ID: "R09.case2E", What: "a claimed extended-length READ BINARY does not return the data", Match: "case 2E READ BINARY"},
		{ID: "R09.case3E", What: "claimed extended-length commands do not reach the card", Match: "from the card"},
		{ID: "R10.response", What: "257- and 258-byte responses do not arrive whole", Match: "-byte response"},
		{ID: "R10.command", What: "258- to 261-byte commands do not reach the card", Match: "-byte command"},
		{ID: "R11.gives-up", What: "the reader gives up on a slow card operation (premature timeout)", Match: "reading EF"},
		{ID: "R12.hang", What: "a PC/SC call does not return within the APDU timeout", Match: "did not return"},
		{ID: "R13.undefined", What: "a malformed command gets 9000, a garbled status word or no status word", Match: "want a defined error"},
		{ID: "R14.insufficient-buffer", What: "a response larger than the receive buffer does not fail with SCARD_E_INSUFFICIENT_BUFFER", Match: "want SCARD_E_INSUFFICIENT_BUFFER"},
		{ID: "R14.needed", What: "SCARD_E_INSUFFICIENT_BUFFER reports the wrong length needed", Match: "bytes needed, want"},
		{ID: "R15.sharing", What: "sharing violations, transactions or SCardEndTransaction misbehave", Match: "SCARD_E_", NoProfile: pcscdOwned},
		{ID: "R15.reset", What: "a reconnect with SCARD_RESET_CARD does not reset the card", Match: "the reset did not reach it"},
		{ID: "R16.soak-latency", What: "the slowest APDU of the soak exceeds the latency limit", Match: "soak max latency"},
		{ID: "R16.reset", What: "warm or cold resets leave the card's state as it was", Match: "kept its selected file"},
		{ID: "R17.flow", What: "the JPKI flow (certificates, PIN tries, signature) fails through the reader", Match: "reading the auth certificate"},
		{ID: "R20.concurrency", What: "exchanges of several contexts fail or hang", Match: "worker"},
	}
}
