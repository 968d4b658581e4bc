package conformance

import "github.com/mynahil/mynahil/harness/speclabel"

// Checks returns every check, in ID order. IDs, titles and sources are those
// of docs/conformance-checklist.md; R21 (mandatory/optional marking) is a
// property of the report, not a check of its own.
func Checks() []Check {
	return []Check{
		{ID: "R01", Title: "reader enumerates, powers the card and reports its attributes", Mandatory: true, run: checkR01,
			Procedure: "SCardListReaders lists the reader; with a card in it the reader reports PRESENT (not MUTE), SCardConnect succeeds, SCardStatus names the reader, reports it powered and the same ATR as SCardGetStatusChange. Vendor, IFD type, version and serial attributes are recorded where supported (optional, HLK Part B)."},
		{ID: "R02", Title: "insertion and removal detected via SCardGetStatusChange", Mandatory: true, Labels: []speclabel.Label{speclabel.CardControl}, run: checkR02,
			Procedure: "Three remove/insert cycles; each removal and insertion must show up in SCardGetStatusChange within the detection budget (1.5 s when the suite moves the card; 30 s with an operator). Latencies recorded."},
		{ID: "R03", Title: "reader hot-plug seen through \\\\?PnP?\\Notification", Labels: []speclabel.Label{speclabel.Interactive}, run: checkR03,
			Procedure: "Interactive: the operator unplugs and replugs the reader; the PnP pseudo-reader must signal both and the reader must disappear and reappear in SCardListReaders."},
		{ID: "R04", Title: "card removed during a transmit", Mandatory: true, Labels: []speclabel.Label{speclabel.CardControl}, run: checkR04,
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
			Procedure: "Whole-certificate reads of the auth and auth CA certificates and (with the auth PIN) a signature must complete with the right answer however long the card takes (the Digital Agency: 5 s or more); per-APDU latency recorded, budget 10 s per APDU (the fault matrix lowers it to 1 s, under its 2 s APDU timeout)."},
		{ID: "R12", Title: "no hang: every exchange ends within the timeout", Mandatory: true, run: checkR12,
			Procedure: "20 exchanges of cases 1–4 each must return within the APDU timeout, and no PC/SC call earlier in the run may have missed its deadline (a reader must time out with an error, not hang)."},
		{ID: "R13", Title: "truncated and malformed commands get a defined answer", Mandatory: true, run: checkR13,
			Procedure: "Commands of 2 and 3 bytes, an Lc larger or smaller than the data, an unknown INS and an unknown CLA must each end in a PC/SC error or a defined error SW (67xx, 68xx, 6Axx, 6Bxx, 6Dxx, 6Exx), never 9000 or a garbled SW. A 1-byte command is not sent: Debian's vpcd would hand it to the card as a control code (docs/vpcd-pcscd.md §2)."},
		{ID: "R14", Title: "receive buffer too small → SCARD_E_INSUFFICIENT_BUFFER", Mandatory: true, run: checkR14,
			Procedure: "A 12-byte response (READ BINARY Le 10) received into an 11-byte buffer must fail with SCARD_E_INSUFFICIENT_BUFFER, report 12 bytes needed and write nothing past the buffer; into a 12-byte buffer it must succeed with exactly the expected bytes."},
		{ID: "R15", Title: "sharing, transactions, reconnect and reset semantics", Mandatory: true, run: checkR15,
			Procedure: "An exclusive holder makes a shared connect fail with SCARD_E_SHARING_VIOLATION; two shared handles coexist; a transaction blocks another handle's transaction until it ends; an extra SCardEndTransaction gives SCARD_E_NOT_TRANSACTED; card state survives SCARD_LEAVE_CARD and is cleared by a reconnect with SCARD_RESET_CARD."},
		{ID: "R16", Title: "warm and cold resets; soak with per-APDU latency", Mandatory: true, Labels: []speclabel.Label{speclabel.Slow}, run: checkR16,
			Procedure: "10 warm and 5 cold resets, each clearing the card's selected file and keeping the ATR; then a soak of N APDUs (SELECT EF, READ BINARY 32 bytes, checked against the certificate). Median, p99 and max latency recorded; every APDU must succeed, p99 ≤ 250 ms and max ≤ 1 s."},
		{ID: "R17", Title: "full JPKI flow", Mandatory: true, Labels: []speclabel.Label{speclabel.PIN}, run: checkR17,
			Procedure: "SELECT AP; read the auth, auth CA and sign CA certificates and check the auth certificate's signature; tries left for both PINs (63Cx); the sign certificate needs the sign PIN: read it if given, else it must answer 6982; with the auth PIN: VERIFY, sign a SHA-256 DigestInfo and verify the signature with the certificate; without: the signature must answer 6982."},
		{ID: "R18", Title: "contact vs contactless parity", Labels: []speclabel.Label{speclabel.Interactive}, run: checkR18,
			Procedure: "Interactive: the same card is read through the contact and the contactless interface; the auth certificate and the JPKI answers must be identical, the contactless ATR a PC/SC part 3 one."},
		{ID: "R19", Title: "contactless placement: orientations × repeats, pass at 9 of 10", Labels: []speclabel.Label{speclabel.Interactive, speclabel.Slow}, run: checkR19,
			Procedure: "Interactive: for each of 4 orientations the card is placed N times (default 10); each placement must be detected and the auth certificate read within 10 s; an orientation passes with ≥ 90 % successes (NMDA/CLIC rule)."},
		{ID: "R20", Title: "concurrency of several contexts", Mandatory: true, run: checkR20,
			Procedure: "4 goroutines, each with its own context and shared handle, run 25 transactions of SELECT, READ BINARY (checked) and a tries-left query; all must succeed with correct data within the APDU timeout each."},
	}
}
