package simd

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenRefusesLostRegistry: the daemon started on a state directory
// whose office.json is gone but whose cards remain refuses to start, naming
// the file and the remedy, and leaves the card file as it was (issue: it
// silently issued a new card-1 over the old one and replaced the authority).
func TestOpenRefusesLostRegistry(t *testing.T) {
	state := shortTempDir(t)
	quiet := slog.New(slog.DiscardHandler)
	d, err := Open(Config{StateDir: state, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	cardFile := filepath.Join(state, "cards", "card-1.json")
	card, err := os.ReadFile(cardFile)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := os.ReadFile(filepath.Join(state, "authority.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(state, "office.json")); err != nil {
		t.Fatal(err)
	}
	d, err = Open(Config{StateDir: state, Logger: quiet})
	if err == nil {
		d.Close()
		t.Fatal("Open succeeded without office.json")
	}
	if msg := err.Error(); !strings.Contains(msg, "office.json") || !strings.Contains(msg, "start afresh") {
		t.Errorf("Open: %v\nwant office.json and the remedy named", err)
	}
	if b, _ := os.ReadFile(cardFile); !bytes.Equal(b, card) {
		t.Error("card-1.json changed")
	}
	if b, _ := os.ReadFile(filepath.Join(state, "authority.json")); !bytes.Equal(b, auth) {
		t.Error("authority.json changed")
	}
	if _, err := os.Stat(filepath.Join(state, "office.json")); err == nil {
		t.Error("office.json written by the refused Open")
	}
}
