package jpkiclient

import "testing"

// okTransport answers every command with 9000 from a shared buffer, so that
// allocations measured through it are the client's own.
type okTransport struct{}

var sw9000 = []byte{0x90, 0x00}

func (okTransport) Transmit([]byte) ([]byte, error) { return sw9000, nil }
func (okTransport) ATR() ([]byte, error)            { return nil, nil }
func (okTransport) Reset() error                    { return nil }
func (okTransport) Close() error                    { return nil }

func TestCommandPathDoesNotAllocate(t *testing.T) {
	c := New(okTransport{})
	allocs := testing.AllocsPerRun(100, func() {
		if err := c.SelectEF(EFAuthCert); err != nil {
			t.Fatal(err)
		}
		if err := c.VerifyPIN(AuthPIN, "1234"); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("SELECT + VERIFY allocated %v times per run, want 0", allocs)
	}
}

func BenchmarkSelectEF(b *testing.B) {
	c := New(okTransport{})
	b.ReportAllocs()
	for b.Loop() {
		if err := c.SelectEF(EFAuthCert); err != nil {
			b.Fatal(err)
		}
	}
}
