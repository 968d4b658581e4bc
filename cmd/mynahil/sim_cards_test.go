package main

import (
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/vpcd"
)

// TestCardSet: --cards N takes the profiles in turn, gives every holder a
// My Number of its own, and refuses counts and slots pcscd cannot serve.
func TestCardSet(t *testing.T) {
	other := profile.Default()
	other.Holder.Name = "試験　次郎"
	other.MyNumber = "987654321000"
	other.MyNumber = other.MyNumber[:11] + string(must(profile.MyNumberCheckDigit(other.MyNumber[:11])))
	set, err := cardSet(5, 0, []profile.Profile{profile.Default(), other})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, p := range set {
		wantName := []string{profile.Default().Holder.Name, other.Holder.Name}[i%2]
		if p.Holder.Name != wantName {
			t.Errorf("card %d: holder %q, want %q (the profiles in turn)", i, p.Holder.Name, wantName)
		}
		if seen[p.MyNumber] {
			t.Errorf("card %d: My Number %s given twice", i, p.MyNumber)
		}
		seen[p.MyNumber] = true
	}
	if set, err := cardSet(3, 0, nil); err != nil || len(set) != 3 || set[0].MyNumber != profile.Default().MyNumber {
		t.Errorf("cardSet(3) without profiles = %d cards, %v; want 3 from the built-in profile", len(set), err)
	}
	for _, bad := range []struct{ n, first int }{{0, 0}, {17, 0}, {-1, 0}, {16, 1}, {4, 13}} {
		if _, err := cardSet(bad.n, bad.first, nil); err == nil {
			t.Errorf("cardSet(%d, slot %d) accepted", bad.n, bad.first)
		}
	}
	if _, err := cardSet(16, 0, nil); err != nil {
		t.Errorf("cardSet(16): %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestSimCardsThroughPCSCD runs 'mynahil sim --cards 4' against a pcscd
// serving four vpcd slots (scripts/with-pcscd --slots 4 or more, or one
// this test starts): 'sim wait' returns once all four are in their
// readers, and 'mynahil readers' lists the four with four different cards.
func TestSimCardsThroughPCSCD(t *testing.T) {
	const n = 4
	pcscdenv.Require(t, pcscdenv.WithSlots(n))
	// This process holds the slot lock; the sim process serves the slots.
	t.Setenv(pcscdenv.EnvSlotsLent, strconv.Itoa(os.Getpid()))
	state := t.TempDir()
	sim := startSimProcess(t, state, simd.DefaultVPCD, "--cards", strconv.Itoa(n))

	code, out, errOut := runCLI(t, "sim", "wait", "--state", state, "--timeout", "60s", "--json")
	if code != 0 {
		t.Fatalf("sim wait: exit %d, %s\n--- sim ---\n%s", code, errOut, sim.log)
	}
	var ready []simd.SlotInfo
	if err := json.Unmarshal([]byte(out), &ready); err != nil {
		t.Fatalf("sim wait --json %q: %v", out, err)
	}
	if len(ready) != n {
		t.Fatalf("sim wait listed %d cards, want %d: %+v", len(ready), n, ready)
	}
	for i, s := range ready {
		if s.Slot != i || s.Reader != vpcd.ReaderName(i) || !s.Inserted || !s.Connected {
			t.Errorf("card %d: %+v, want inserted and connected in slot %d, reader %q", i, s, i, vpcd.ReaderName(i))
		}
	}

	code, out, errOut = runCLI(t, "readers", "--json", "--fingerprint")
	if code != 0 {
		t.Fatalf("readers: exit %d, %s", code, errOut)
	}
	var rs []readerJSON
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("readers --json %q: %v", out, err)
	}
	byName := map[string]readerJSON{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	prints := map[string]string{}
	for i := range n {
		name := vpcd.ReaderName(i)
		r, ok := byName[name]
		switch {
		case !ok:
			t.Errorf("readers does not list %q: %+v", name, rs)
		case r.State == "empty" || r.Fingerprint == "":
			t.Errorf("reader %q: state %q, fingerprint %q; want a card with a readable certificate", name, r.State, r.Fingerprint)
		case prints[r.Fingerprint] != "":
			t.Errorf("readers %q and %q hold the same card %s", prints[r.Fingerprint], name, r.Fingerprint)
		default:
			prints[r.Fingerprint] = name
		}
	}
}
