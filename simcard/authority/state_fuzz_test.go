package authority_test

import (
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
)

// FuzzLoad: an authority state file, however damaged, is refused with an
// error or loads into an authority that signs CRLs and answers OCSP and
// stores itself again; nothing panics.
//
// A valid state (two certificates, one revoked) is the seed in
// testdata/fuzz/FuzzLoad: the target itself generates no key, which under
// fuzzing instrumentation takes minutes.
func FuzzLoad(f *testing.F) {
	clk := clock.NewVirtual(clock.Date(2026, time.April, 1))
	f.Add([]byte(`{"version":1,"serial":-1}`))
	f.Add([]byte(`{"version":1,"records":[null]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := authority.Load(b, clk)
		if err != nil {
			return
		}
		for _, k := range []authority.Kind{authority.Auth, authority.Sign} {
			if _, err := a.CRL(k); err != nil {
				t.Fatalf("CRL of a loaded authority: %v", err)
			}
			if _, err := a.OCSP(k, []byte{0x30, 0x00}); err != nil {
				t.Fatalf("OCSP of a loaded authority: %v", err)
			}
		}
		if _, err := a.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}
