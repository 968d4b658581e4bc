package target_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mynahil/mynahil/harness/target"
)

// Without the suite framework no simulator is registered: a simulated
// target is a configuration error that says what to import, not a panic.
func TestOpenWithoutSimulator(t *testing.T) {
	for _, k := range []target.Kind{target.Sim, target.VPCD, target.PCSC} {
		_, err := target.Open(context.Background(), target.Config{Kind: k})
		if !errors.Is(err, target.ErrConfig) {
			t.Errorf("%s: Open = %v, want ErrConfig", k, err)
		}
	}
}
