package pcscdenv

import (
	"errors"
	"os"
	"strconv"
	"testing"
)

// TestProvidedPCSCD: a $MYNAHIL_PCSCD_PID that is not a live pcscd is an
// error (StartPCSCD must not start a second pcscd beside with-pcscd's),
// none set means none provided.
func TestProvidedPCSCD(t *testing.T) {
	t.Setenv(EnvPID, "")
	if _, ok, err := providedPCSCD(); ok || err != nil {
		t.Errorf("unset: ok %v, %v", ok, err)
	}
	t.Setenv(EnvPID, strconv.Itoa(os.Getpid())) // alive, but not pcscd
	if _, ok, err := providedPCSCD(); ok || !errors.Is(err, ErrNotReady) {
		t.Errorf("a process that is not pcscd: ok %v, %v", ok, err)
	}
	t.Setenv(EnvPID, "pcscd")
	if _, ok, err := providedPCSCD(); ok || err == nil {
		t.Errorf("not a pid: ok %v, %v", ok, err)
	}
}

// TestSlots: MYNAHIL_VPCD_SLOTS from 1 to 16, Debian's two without it.
func TestSlots(t *testing.T) {
	for v, want := range map[string]int{"": 2, "1": 1, "16": 16, "0": -1, "17": -1, "x": -1} {
		t.Setenv(EnvSlots, v)
		n, err := Slots()
		if (want < 0) != (err != nil) || (want >= 0 && n != want) {
			t.Errorf("%s=%q: %d, %v; want %d", EnvSlots, v, n, err, want)
		}
	}
}
