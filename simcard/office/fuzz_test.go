package office_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mynahil/mynahil/simcard/keypool"
)

// FuzzOpenState: one of the state files (office.json, authority.json or
// cards/card-1.json) replaced by arbitrary bytes: the office refuses to
// open with an error, or opens and answers for its cards; nothing panics.
// The state is testdata/state (one card) and the keys come from keypool's
// fixture: under fuzzing instrumentation generating keys takes minutes.
func FuzzOpenState(f *testing.F) {
	files := []string{"office.json", "authority.json", filepath.Join("cards", "card-1.json")}
	pem, err := os.ReadFile(filepath.Join("..", "keypool", "testdata", "keys.pem"))
	if err != nil {
		f.Fatal(err)
	}
	fixture, err := keypool.ParsePEM(pem)
	if err != nil {
		f.Fatal(err)
	}
	keys := keypool.Filled(fixture)
	src := filepath.Join("testdata", "state")
	orig := map[string][]byte{}
	err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		orig[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	for i, name := range files {
		f.Add(uint8(i), orig[name])
		f.Add(uint8(i), []byte(`{"version":1}`))
	}
	f.Add(uint8(0), []byte(`{"version":1,"next_id":1,"next_inquiry":0,"cards":[{"id":"card-1","status":"active","issued_at":"2026-04-01T10:00:00+09:00","expiry":"2026-04-01T10:00:00+09:00","history":[]}],"inquiries":[{"id":"q","card":"card-9"}]}`))
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "cards"), 0o700); err != nil {
			t.Fatal(err)
		}
		for rel, content := range orig {
			if rel == files[int(which)%len(files)] {
				content = b
			}
			if err := os.WriteFile(filepath.Join(dir, rel), content, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		o, err := openDirWith(t, dir, keys)
		if err != nil {
			return
		}
		defer o.Close()
		for _, c := range o.Cards() {
			if _, err := o.Report(c.ID); err != nil {
				t.Fatalf("report of a loaded card: %v", err)
			}
			if r := c.Chip.Transmit([]byte{0x00, 0xA4, 0x04, 0x0C, 0x01, 0xD3}); len(r) < 2 {
				t.Fatalf("no status word from a loaded card")
			}
		}
	})
}
