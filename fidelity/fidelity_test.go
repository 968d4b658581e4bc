package fidelity_test

import (
	"os"
	"testing"

	"github.com/mynahil/mynahil/fidelity"
	"github.com/mynahil/mynahil/harness/transcript"
	"github.com/mynahil/mynahil/simcard/profile"
)

// recordSim records the probe against a fresh simulated card of profile p,
// with its PINs.
func recordSim(t *testing.T, p profile.Profile) *transcript.Transcript {
	t.Helper()
	sim, err := fidelity.Issue(p)
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Transport.Close()
	tr, err := transcript.Record(sim.Transport, transcript.Options{AuthPIN: sim.AuthPIN, SignPIN: sim.SignPIN, Card: sim.Description})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestDebugDump(t *testing.T) {
	tr := recordSim(t, profile.Default())
	tr.Write(os.Stdout)
	for _, q := range []profile.Profile{withToken(profile.TokenAndroid), withATR("contactless")} {
		_, diffs, err := fidelity.Compare(tr, q)
		if err != nil {
			t.Fatal(err)
		}
		rep, _ := fidelity.Issue(q)
		transcript.Report(os.Stdout, tr, &transcript.Transcript{Card: rep.Description}, diffs)
	}
}

func withToken(tok string) profile.Profile { p := profile.Default(); p.Token = tok; return p }
func withATR(a string) profile.Profile     { p := profile.Default(); p.ATR = a; return p }
