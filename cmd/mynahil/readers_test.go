package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ebfe/scard"
	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/harness/pcsc"
)

func TestPrintReaders(t *testing.T) {
	rs := []pcsc.ReaderInfo{
		{Name: "Virtual PCD 00 00", Index: 0, State: scard.StatePresent | scard.StateInuse, ATR: []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}},
		{Name: "Virtual PCD 00 01", Index: 1, State: scard.StateEmpty},
	}
	var table bytes.Buffer
	if err := printReaders(&table, rs, false); err != nil {
		t.Fatal(err)
	}
	want := "#  READER             STATE            ATR\n" +
		"0  Virtual PCD 00 00  present, in use  3B E0 00 FF 81 31 FE 45 14\n" +
		"1  Virtual PCD 00 01  empty            -\n"
	if d := cmp.Diff(want, table.String()); d != "" {
		t.Errorf("table (-want +got):\n%s", d)
	}

	var js bytes.Buffer
	if err := printReaders(&js, rs, true); err != nil {
		t.Fatal(err)
	}
	var got []readerJSON
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	wantJSON := []readerJSON{
		{Index: 0, Name: "Virtual PCD 00 00", State: "present, in use", ATR: "3B E0 00 FF 81 31 FE 45 14"},
		{Index: 1, Name: "Virtual PCD 00 01", State: "empty"},
	}
	if d := cmp.Diff(wantJSON, got); d != "" {
		t.Errorf("JSON (-want +got):\n%s", d)
	}

	var none bytes.Buffer
	if err := printReaders(&none, nil, false); err != nil || none.String() != "no readers\n" {
		t.Errorf("no readers: %q, %v", none.String(), err)
	}
}
