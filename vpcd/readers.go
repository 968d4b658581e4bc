package vpcd

import (
	"fmt"
	"strings"
)

// Slots and readers of one pcscd (docs/vpcd-pcscd.md, "Many cards"):
// Debian's vpcd driver serves SlotsPerEntry slots per reader.conf entry, and
// each entry listens on its own ports, so that slot n of the whole set is
// always 127.0.0.1:DefaultPort+n. pcscd holds at most MaxSlots readers
// (PCSCLITE_MAX_READERS_CONTEXTS).
const (
	SlotsPerEntry = 2
	MaxSlots      = 16
)

// ReaderName returns pcscd's name for the reader of slot n: Debian's entry
// (FRIENDLYNAME "Virtual PCD") names slots 0 and 1 "Virtual PCD 00 00" and
// "Virtual PCD 00 01"; entry k ≥ 1 of ReaderConf is named "Virtual PCD k",
// so slot 2k+j is "Virtual PCD k 00 0j". pcscd gives entries with one
// friendly name identical reader names, hence one name per entry.
func ReaderName(n int) string {
	if n < SlotsPerEntry {
		return fmt.Sprintf("Virtual PCD 00 %02X", n)
	}
	return fmt.Sprintf("%s 00 %02X", entryName(n/SlotsPerEntry), n%SlotsPerEntry)
}

// ReaderNames returns the reader names of slots 0 to n-1.
func ReaderNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = ReaderName(i)
	}
	return names
}

func entryName(k int) string {
	if k == 0 {
		return "Virtual PCD"
	}
	return fmt.Sprintf("Virtual PCD %d", k)
}

// Entries returns how many reader.conf entries serve n slots.
func Entries(n int) int { return (n + SlotsPerEntry - 1) / SlotsPerEntry }

// ReaderConf returns a pcscd reader.conf serving slots 0 to n-1 (rounded up
// to whole entries) in server mode: entry k listens on DefaultPort+2k and
// DefaultPort+2k+1. lib(k) is the driver file of entry k: each entry needs
// a copy of libifdvpcd.so of its own, because the driver keeps its
// connections in one static array indexed by slot number, which entries
// loaded from one file would share.
func ReaderConf(n int, lib func(entry int) string) string {
	var b strings.Builder
	for k := range Entries(n) {
		port := DefaultPort + SlotsPerEntry*k
		fmt.Fprintf(&b, "FRIENDLYNAME \"%s\"\nDEVICENAME /dev/null:%d\nLIBPATH %s\nCHANNELID %d\n\n", entryName(k), port, lib(k), port)
	}
	return b.String()
}
