package transcript

import (
	"crypto/sha256"
	"slices"
	"strings"
)

// AIDs the probe selects (docs/card.md §2).
const (
	aidJPKI   = "D3 92 F0 00 26 01 00 00 00 01"
	aidText   = "D3 92 10 00 31 00 01 01 04 08"
	aidVisual = "D3 92 10 00 31 00 01 01 04 02"
	aidCommon = "D3 92 10 00 31 00 01 01 01 00"
	aidISD    = "A0 00 00 01 51 00 00"
)

func selDF(aid string) string {
	return "00 A4 04 0C " + Hex([]byte{byte(len(strings.Fields(aid)))}) + " " + aid
}

func selEF(fid string) string { return "00 A4 02 0C 02 " + fid }

// probeDigest is what the probe signs: a SHA-256 DigestInfo of a fixed
// text, as OpenSC and myna send it (docs/card.md §5.6).
func probeDigest() string {
	h := sha256.Sum256([]byte("mynahil transcript probe"))
	di := append([]byte{0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, h[:]...)
	return "80 2A 00 80 33 " + Hex(di) + " 00"
}

// prehashedSignBySFI signs probeDigest's SHA-256 hash with P1 02 (the
// card builds the DigestInfo) and the sign key by short EF identifier
// (P2 = 80 | 1A), as myna-card's JpkiAp::sign sends it (docs/card.md §4.6).
func prehashedSignBySFI() string {
	h := sha256.Sum256([]byte("mynahil transcript probe"))
	return "80 2A 02 9A 20 " + Hex(h[:]) + " 00"
}

// Probe is the fixed sequence Record sends. Without PINs every command
// either reads or is one the card refuses without a change of state
// (unknown files, 80 A2 with a wrong length, secure messaging, 80 AE): the
// exchanges real clients send (OpenSC card-jpki.c, jpki/myna, jpki-rs,
// myna-card, jsapdu's randr.e2e.test.ts), the MF level and the files EF
// scans find. VERIFY steps with a PIN placeholder are sent only when that
// PIN was given and every try is left (Record).
func Probe() []Step {
	return slices.Concat(probeMF(), probeJPKI(), probeWithPINs(), probeCardInfo())
}

// probeMF is the MF level (myna-card mf.rs) after a warm reset.
func probeMF() []Step {
	return []Step{
		{Name: "ATR", Command: cmdATR, Check: CheckValue},
		{Name: "warm reset: MF level", Command: cmdReset, Check: CheckLength},
		// MF level (myna-card mf.rs).
		{Name: "GET DATA 5F51 contact ATR", Command: "00 CA 5F 51 00", Check: CheckValue},
		{Name: "GET DATA 00F0 municipality", Command: "00 CA 00 F0 00", Check: CheckOpaque},
		{Name: "GET DATA 00F2 expiry", Command: "00 CA 00 F2 00", Check: CheckOpaque},
		{Name: "GET DATA 00F7 key ID", Command: "00 CA 00 F7 00", Check: CheckOpaque},
		{Name: "GET DATA 00F8 short Le", Command: "00 CA 00 F8 00", Check: CheckLength},
		{Name: "GET DATA 00F8 extended Le", Command: "00 CA 00 F8 00 00 00", Check: CheckLength},
		{Name: "GET DATA 7F21 short Le", Command: "00 CA 7F 21 00", Check: CheckLength},
		{Name: "GET DATA 7F21 extended Le", Command: "00 CA 7F 21 00 00 00", Check: CheckLength},
		{Name: "GET DATA 0042", Command: "00 CA 00 42 00", Check: CheckOpaque},
		{Name: "GET DATA 0045", Command: "00 CA 00 45 00", Check: CheckOpaque},
		{Name: "GET DATA 0066 card recognition", Command: "00 CA 00 66 00", Check: CheckSize},
		{Name: "SELECT MF after reset", Command: "00 A4 00 00", Check: CheckLength},
		{Name: "SELECT 3F00 by FID", Command: "00 A4 00 0C 02 3F 00", Check: CheckLength},
		{Name: "SELECT EF 2F10", Command: selEF("2F 10"), Check: CheckLength},
		{Name: "setcos probe GET DATA DF30", Command: "00 CA DF 30 05", Check: CheckLength},
		{Name: "SELECT PIV (foreign AID)", Command: "00 A4 04 00 09 A0 00 00 03 08 00 00 10 00", Check: CheckLength},
	}
}

// probeJPKI is the JPKI applet without PINs (OpenSC card-jpki.c, myna
// CheckCard), then the files EF scans find in it.
func probeJPKI() []Step {
	s := []Step{
		{Name: "SELECT JPKI", Command: selDF(aidJPKI), Check: CheckLength},
		{Name: "SELECT JPKI with FCI (jsapdu)", Command: "00 A4 04 00 0A " + aidJPKI + " 00", Check: CheckLength},
		{Name: "GET DATA 00F0 in an applet", Command: "00 CA 00 F0 00", Check: CheckOpaque},
		{Name: "GET DATA 5F51 in an applet", Command: "00 CA 5F 51 00", Check: CheckValue},
		{Name: "SELECT MF in an applet", Command: "00 A4 00 00", Check: CheckLength},
		{Name: "SELECT EF 0006 token info", Command: selEF("00 06"), Check: CheckLength},
		{Name: "READ token label (myna)", Command: "00 B0 00 00 20", Check: CheckValue},
		{Name: "READ token info", Command: "00 B0 00 00 00", Check: CheckOpaque},
		{Name: "READ past the end", Command: "00 B0 00 A0 00", Check: CheckLength},
		{Name: "SELECT EF 0008", Command: selEF("00 08"), Check: CheckLength},
		{Name: "READ EF 0008 certificates present", Command: "00 B0 00 00 00", Check: CheckValue},
		{Name: "SELECT EF 000A auth certificate", Command: selEF("00 0A"), Check: CheckLength},
		{Name: "READ auth certificate header (OpenSC)", Command: "00 B0 00 00 04", Check: CheckSize},
		{Name: "READ auth certificate, 7 bytes (myna)", Command: "00 B0 00 00 07", Check: CheckSize},
		{Name: "SELECT EF 000B auth CA", Command: selEF("00 0B"), Check: CheckLength},
		{Name: "READ auth CA header", Command: "00 B0 00 00 04", Check: CheckSize},
		{Name: "SELECT EF 0002 sign CA", Command: selEF("00 02"), Check: CheckLength},
		{Name: "READ sign CA header", Command: "00 B0 00 00 04", Check: CheckSize},
		{Name: "READ sign CA by SFI", Command: "00 B0 82 00 04", Check: CheckSize},
		{Name: "SELECT EF 0001 sign certificate", Command: selEF("00 01"), Check: CheckLength},
		{Name: "READ sign certificate without PIN", Command: "00 B0 00 00 04", Check: CheckLength},
		{Name: "SELECT EF 0018 auth PIN", Command: selEF("00 18"), Check: CheckLength},
		{Name: "auth PIN tries left", Command: "00 20 00 80", Check: CheckLength},
		{Name: "auth PIN tries left, 5-byte form (jpki-rs)", Command: "00 20 00 80 00", Check: CheckLength},
		{Name: "SELECT EF 001B sign PIN", Command: selEF("00 1B"), Check: CheckLength},
		{Name: "sign PIN tries left", Command: "00 20 00 80", Check: CheckLength},
		{Name: "READ a PIN EF", Command: "00 B0 00 00 00", Check: CheckLength},
		{Name: "SELECT EF 0017 auth key", Command: selEF("00 17"), Check: CheckLength},
		{Name: "sign without PIN", Command: probeDigest(), Check: CheckLength},
		{Name: "SELECT unknown EF 0099", Command: selEF("00 99"), Check: CheckLength},
		{Name: "80 A2 00 C1 with 256 bytes (jsapdu)", Command: "80 A2 00 C1 00 01 00 " + strings.Repeat("00 ", 256) + "00 00", Check: CheckLength},
		{Name: "80 A2 00 00", Command: "80 A2 00 00 02 00 00", Check: CheckLength},
		{Name: "80 AE set session key", Command: "80 AE 00 00 10 " + strings.TrimSpace(strings.Repeat("00 ", 16)), Check: CheckLength},
		{Name: "secure-messaging READ BINARY", Command: "08 B0 00 00 00", Check: CheckLength},
		{Name: "secure-messaging VERIFY", Command: "08 20 00 80", Check: CheckLength},
		{Name: "secure-messaging SELECT", Command: "08 A4 02 0C 02 00 0A", Check: CheckLength},
		{Name: "logical channel 1", Command: "01 A4 04 0C 0A " + aidJPKI, Check: CheckLength},
		{Name: "unknown INS", Command: "00 EE 00 00 00", Check: CheckLength},
		{Name: "unknown CLA", Command: "A0 A4 04 0C 0A " + aidJPKI, Check: CheckLength},
		{Name: "GET CHALLENGE 8", Command: "00 84 00 00 08", Check: CheckOpaque},
	}
	for _, ef := range []string{"00 05", "00 09", "00 10", "00 16", "00 19", "00 1C", "00 1E"} {
		s = append(s,
			Step{Name: "SELECT JPKI EF " + ef + " (EF scans)", Command: selEF(ef), Check: CheckLength},
			Step{Name: "READ JPKI EF " + ef, Command: "00 B0 00 00 00", Check: CheckLength})
	}
	return s
}

// probeWithPINs is sent with the PINs given: tries-left checks come first
// (Record refuses unless every try is left), then one correct VERIFY each,
// re-selecting, another applet and SCARD_RESET_CARD.
func probeWithPINs() []Step {
	var s []Step
	s = append(s,
		Step{Name: "SELECT EF 0018 auth PIN", Command: selEF("00 18"), Check: CheckLength},
		Step{Name: "VERIFY auth PIN", Command: "00 20 00 80 " + AuthPINPlaceholder, Check: CheckLength},
		Step{Name: "SELECT EF 0017 auth key", Command: selEF("00 17"), Check: CheckLength},
		Step{Name: "sign with the auth key", Command: probeDigest(), Check: CheckOpaque},
		Step{Name: "SELECT EF 000A after the auth PIN", Command: selEF("00 0A"), Check: CheckLength},
		Step{Name: "READ auth certificate header after the auth PIN", Command: "00 B0 00 00 04", Check: CheckSize},
		Step{Name: "SELECT EF 001B sign PIN", Command: selEF("00 1B"), Check: CheckLength},
		Step{Name: "VERIFY sign PIN", Command: "00 20 00 80 " + SignPINPlaceholder, Check: CheckLength},
		Step{Name: "SELECT EF 0001 sign certificate", Command: selEF("00 01"), Check: CheckLength},
		Step{Name: "READ sign certificate header", Command: "00 B0 00 00 04", Check: CheckSize},
		Step{Name: "80 AE with both PINs verified", Command: "80 AE 00 00 10 " + strings.TrimSpace(strings.Repeat("00 ", 16)), Check: CheckLength},
		// Re-selecting the current applet keeps the PINs; selecting another
		// clears them (docs/card.md §5.1).
		Step{Name: "SELECT JPKI again (the current applet)", Command: selDF(aidJPKI), Check: CheckLength},
		Step{Name: "sign a SHA-256 hash by SFI after re-select (80 2A 02 9A)", Command: prehashedSignBySFI(), Check: CheckOpaque},
		Step{Name: "SELECT EF 0001 sign certificate", Command: selEF("00 01"), Check: CheckLength},
		Step{Name: "READ sign certificate after re-select", Command: "00 B0 00 00 04", Check: CheckSize},
		Step{Name: "SELECT text applet (another applet)", Command: selDF(aidText), Check: CheckLength},
		Step{Name: "SELECT JPKI after another applet", Command: selDF(aidJPKI), Check: CheckLength},
		Step{Name: "SELECT EF 0001 sign certificate", Command: selEF("00 01"), Check: CheckLength},
		Step{Name: "READ sign certificate after another applet", Command: "00 B0 00 00 04", Check: CheckLength},
		// SCARD_RESET_CARD: whether a verified PIN survives a reconnect with
		// reset (through PC/SC, RESET is SCardReconnect with
		// SCARD_RESET_CARD; docs/record-compare.md).
		Step{Name: "SELECT EF 001B sign PIN", Command: selEF("00 1B"), Check: CheckLength},
		Step{Name: "VERIFY sign PIN before SCARD_RESET_CARD", Command: "00 20 00 80 " + SignPINPlaceholder, Check: CheckLength},
		Step{Name: "RESET: reconnect with SCARD_RESET_CARD", Command: cmdReset, Check: CheckLength},
		Step{Name: "SELECT JPKI after SCARD_RESET_CARD", Command: selDF(aidJPKI), Check: CheckLength},
		Step{Name: "SELECT EF 0001 sign certificate", Command: selEF("00 01"), Check: CheckLength},
		Step{Name: "READ sign certificate after SCARD_RESET_CARD", Command: "00 B0 00 00 04", Check: CheckLength},
	)
	return s
}

// probeCardInfo is the card-info applets, read-only (myna pin status,
// myna-card, jsapdu), then the common applet and the ISD.
func probeCardInfo() []Step {
	var s []Step
	s = append(s,
		Step{Name: "SELECT text applet", Command: selDF(aidText), Check: CheckLength},
		Step{Name: "SELECT text EF 0011 PIN", Command: selEF("00 11"), Check: CheckLength},
		Step{Name: "text PIN tries left", Command: "00 20 00 80", Check: CheckLength},
		Step{Name: "text 0014 code A tries left by SFI", Command: "00 20 00 94", Check: CheckLength},
		Step{Name: "text 0015 code B tries left by SFI", Command: "00 20 00 95", Check: CheckLength},
		Step{Name: "text 0012 blocked key", Command: "00 20 00 92", Check: CheckLength},
		Step{Name: "SELECT text EF 0004 CV certificate", Command: selEF("00 04"), Check: CheckLength},
		Step{Name: "READ text CV certificate header", Command: "00 B0 00 00 05", Check: CheckLength},
		Step{Name: "SELECT text EF 0005 basic info", Command: selEF("00 05"), Check: CheckLength},
		Step{Name: "READ text basic info (myna reads 256)", Command: "00 B0 00 00 00", Check: CheckLength},
		Step{Name: "SELECT text EF 0001 My Number", Command: selEF("00 01"), Check: CheckLength},
		Step{Name: "READ My Number without PIN", Command: "00 B0 00 00 11", Check: CheckLength},
	)
	for _, ef := range []string{"00 10", "00 1C", "00 1E"} {
		s = append(s,
			Step{Name: "SELECT text EF " + ef + " (EF scans)", Command: selEF(ef), Check: CheckLength},
			Step{Name: "READ text EF " + ef, Command: "00 B0 00 00 00", Check: CheckLength})
	}
	s = append(s,
		Step{Name: "SELECT face applet", Command: selDF(aidVisual), Check: CheckLength},
		Step{Name: "face 0013 code A tries left by SFI", Command: "00 20 00 93", Check: CheckLength},
		Step{Name: "face 0012 code B tries left by SFI", Command: "00 20 00 92", Check: CheckLength},
		Step{Name: "SELECT face EF 0003 basic info", Command: selEF("00 03"), Check: CheckLength},
		Step{Name: "READ face basic info header", Command: "00 B0 00 00 05", Check: CheckSize},
	)
	for _, ef := range []string{"00 1C", "00 1E"} {
		s = append(s,
			Step{Name: "SELECT face EF " + ef + " (EF scans)", Command: selEF(ef), Check: CheckLength},
			Step{Name: "READ face EF " + ef, Command: "00 B0 00 00 00", Check: CheckLength})
	}
	s = append(s,
		Step{Name: "SELECT common applet", Command: selDF(aidCommon), Check: CheckLength},
		Step{Name: "READ RECORD 1 of SFI 1 (myna unknown number)", Command: "00 B2 01 0C 00", Check: CheckOpaque},
		Step{Name: "SELECT ISD: back to the MF level", Command: selDF(aidISD), Check: CheckLength},
		Step{Name: "GET DATA 00F0 after the ISD", Command: "00 CA 00 F0 00", Check: CheckOpaque},
		Step{Name: "80 FC last command (iPhone token)", Command: "80 FC 00 00", Check: CheckLength},
	)
	return s
}
