package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestPrintReaders(t *testing.T) {
	rs := []readerRow{
		{ReaderInfo: pcsc.ReaderInfo{Name: "Virtual PCD 00 00", Index: 0, State: pcsc.StatePresent | pcsc.StateInuse,
			ATR: []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}}, fingerprint: "ab12"},
		{ReaderInfo: pcsc.ReaderInfo{Name: "Virtual PCD 00 01", Index: 1, State: pcsc.StateEmpty}},
	}
	var table bytes.Buffer
	if err := printReaders(&table, rs, false, false); err != nil {
		t.Fatal(err)
	}
	want := "#  READER             STATE            ATR\n" +
		"0  Virtual PCD 00 00  present, in use  3B E0 00 FF 81 31 FE 45 14\n" +
		"1  Virtual PCD 00 01  empty            -\n"
	if d := cmp.Diff(want, table.String()); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}

	table.Reset()
	if err := printReaders(&table, rs, false, true); err != nil {
		t.Fatal(err)
	}
	want = "#  READER             STATE            ATR                         AUTH CERT SHA-256\n" +
		"0  Virtual PCD 00 00  present, in use  3B E0 00 FF 81 31 FE 45 14  ab12\n" +
		"1  Virtual PCD 00 01  empty            -                           -\n"
	if d := cmp.Diff(want, table.String()); d != "" {
		t.Errorf("table with fingerprints (-want +got):\n%s", d)
	}

	var js bytes.Buffer
	if err := printReaders(&js, rs, true, true); err != nil {
		t.Fatal(err)
	}
	var got []readerJSON
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := []readerJSON{
		{Index: 0, Name: "Virtual PCD 00 00", State: "present, in use", ATR: "3B E0 00 FF 81 31 FE 45 14", Fingerprint: "ab12"},
		{Index: 1, Name: "Virtual PCD 00 01", State: "empty"},
	}
	if d := cmp.Diff(wantJSON, got); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}

	var none bytes.Buffer
	if err := printReaders(&none, nil, false, false); err != nil || none.String() != "no readers\n" {
		t.Errorf("no readers: %q, %v", none.String(), err)
	}
}

// TestReadersThroughPCSCD lists the readers of a real pcscd with the
// simulated card on slot 0 and vpcd's slot 1 empty, fingerprints included.
func TestReadersThroughPCSCD(t *testing.T) {
	pcscdenv.Require(t)
	is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := is.Issue(profile.Default())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := vpcdslot.Attach(ctx, issued.Card, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Detach(context.Background())

	var out bytes.Buffer
	if err := runReaders(&cli.IO{Stdout: &out}, []string{"--fingerprint"}); err != nil {
		t.Fatal(err)
	}
	fp := cardid.Of(issued.AuthCert.Raw)
	var slot0, slot1 string
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.Contains(line, pcscdenv.VPCDReader0):
			slot0 = line
		case strings.Contains(line, pcscdenv.VPCDReader1):
			slot1 = line
		}
	}
	if !strings.Contains(slot0, "present") || !strings.Contains(slot0, "3B E0 00 FF 81 31 FE 45 14") || !strings.HasSuffix(strings.TrimSpace(slot0), fp) {
		t.Errorf("slot 0 line %q, want present, the ATR and fingerprint %s", slot0, fp)
	}
	if !strings.Contains(slot1, "empty") {
		t.Errorf("slot 1 line %q, want empty", slot1)
	}
	if err := runReaders(&cli.IO{Stdout: &out}, []string{"extra"}); err == nil {
		t.Error("extra arguments accepted")
	}
}
