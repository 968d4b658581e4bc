package keypool

import (
	"path/filepath"
	"sync"
	"testing"
)

// TestLoadOrCreateFile: callers at once (as ginkgo -p processes start) all
// get the same keys, generated once; a file with too few keys is
// regenerated.
func TestLoadOrCreateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.pem")
	const n = 3
	got := make([][]byte, 4)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys, err := LoadOrCreateFile(path, n)
			if err != nil || len(keys) != n {
				t.Errorf("caller %d: %d keys, %v", i, len(keys), err)
				return
			}
			for _, k := range keys {
				got[i] = append(got[i], k.N.Bytes()...)
			}
		}()
	}
	wg.Wait()
	for i := range got {
		if string(got[i]) != string(got[0]) {
			t.Errorf("caller %d got other keys than caller 0", i)
		}
	}
	more, err := LoadOrCreateFile(path, n+1)
	if err != nil || len(more) != n+1 {
		t.Fatalf("asking for more keys than the file holds: %d, %v", len(more), err)
	}
	again, err := LoadOrCreateFile(path, n+1)
	if err != nil || again[n].N.Cmp(more[n].N) != 0 {
		t.Errorf("the regenerated file was not kept: %v", err)
	}
}
