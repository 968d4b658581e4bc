package simcard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// TestOneSetOfApplets: an issued card carries each applet once.
func TestOneSetOfApplets(t *testing.T) {
	iss := issue(t, profile.Default())
	seen := map[string]bool{}
	iss.Card.Inspect(func(st *card.State) {
		for _, df := range st.DFs {
			if seen[string(df.AID)] {
				t.Errorf("applet % X twice", df.AID)
			}
			seen[string(df.AID)] = true
		}
	})
	if len(seen) != 5 {
		t.Errorf("%d applets, want JPKI and the four card-info applets", len(seen))
	}
}

// TestCardRefusesDuplicateAID: a state with two applets of one AID is
// refused by card.New, card.Load and Restore.
func TestCardRefusesDuplicateAID(t *testing.T) {
	iss := issue(t, profile.Default())
	b, err := iss.Card.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var st card.State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if _, err := card.New(st); err != nil {
		t.Fatalf("card.New of an issued card's state: %v", err)
	}
	st.DFs = append(st.DFs, st.DFs[1])
	if _, err := card.New(st); err == nil || !strings.Contains(err.Error(), "two applications with AID") {
		t.Errorf("card.New with a duplicate AID: %v", err)
	}
	dup, err := json.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := card.Load(dup); err == nil || !strings.Contains(err.Error(), "start afresh") {
		t.Errorf("card.Load with a duplicate AID: %v", err)
	}
}

// TestSnapshotRestore: Restore puts back PIN counters and resets the
// volatile state; a snapshot is independent of later changes.
func TestSnapshotRestore(t *testing.T) {
	var persisted []byte
	iss := issue(t, profile.Default(), card.WithPersister(func(b []byte) error { persisted = b; return nil }))
	snap, err := iss.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	expectSW(t, iss.Card, selJPKI, 0x9000)
	expectSW(t, iss.Card, selAuthPIN, 0x9000)
	expectSW(t, iss.Card, "0020008004 30303030", 0x63C2)
	expectSW(t, iss.Card, "0020008004 30303030", 0x63C1)
	if err := iss.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if persisted == nil {
		t.Error("Restore did not store the restored state")
	}
	// The selected applet is gone: VERIFY without a selected DF fails.
	if _, sw := run(iss.Card, "0020008000"); sw&0xFFF0 == 0x63C0 {
		t.Error("Restore kept the selected applet")
	}
	expectSW(t, iss.Card, selJPKI, 0x9000)
	expectSW(t, iss.Card, selAuthPIN, 0x9000)
	expectSW(t, iss.Card, "0020008000", 0x63C3)
	// The snapshot is a copy: restoring it twice gives the same card.
	expectSW(t, iss.Card, "0020008004 30303030", 0x63C2)
	if err := iss.Restore(snap); err != nil {
		t.Fatal(err)
	}
	expectSW(t, iss.Card, selJPKI, 0x9000)
	expectSW(t, iss.Card, selAuthPIN, 0x9000)
	expectSW(t, iss.Card, "0020008000", 0x63C3)
	if err := iss.Restore(card.Snapshot{}); err == nil {
		t.Error("Restore of an empty snapshot succeeded")
	}
}
