package keypool

import "testing"

func TestPoolRotates(t *testing.T) {
	p := NewPool(3)
	var got []string
	for range 7 {
		k, err := p.Key()
		if err != nil {
			t.Fatal(err)
		}
		if k.N.BitLen() != Bits {
			t.Fatalf("key of %d bits", k.N.BitLen())
		}
		got = append(got, k.N.String())
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("keys %d and %d are the same", i-1, i)
		}
	}
	if got[0] != got[3] || got[1] != got[4] {
		t.Fatal("pool generated more keys than its size")
	}
}

func BenchmarkKeySource(b *testing.B) {
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			if _, err := (Fresh{}).Key(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pool", func(b *testing.B) {
		p := NewPool(4)
		for b.Loop() {
			if _, err := p.Key(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
