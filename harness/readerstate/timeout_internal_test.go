package readerstate

import (
	"testing"
	"time"
)

func TestTimeoutMillis(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want uint32
	}{
		{-1, 0xFFFFFFFF},
		{0, 0},
		{999 * time.Microsecond, 0},
		{1500 * time.Millisecond, 1500},
		{0xFFFFFFFF * time.Millisecond, 0xFFFFFFFF},
		{0x100000000 * time.Millisecond, 0xFFFFFFFE},
	} {
		if got := timeoutMillis(c.d); got != c.want {
			t.Errorf("timeoutMillis(%v) = %#x, want %#x", c.d, got, c.want)
		}
	}
}
