package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompareStatusWordBytes: `mynahil compare` against the simulated card
// reports a transcript whose status words differ from the card's in SW2
// only (6A86 recorded where the card answers 6A82; 63C2 where it answers
// 63C3), each as a difference with both words, and exits 1 (issue: compare
// read only SW1).
func TestCompareStatusWordBytes(t *testing.T) {
	b, err := os.ReadFile("../../simreplay/testdata/published-real-card.json")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, r := range []struct{ step, from, to string }{
		{`"name": "SELECT 3F00 by FID"`, `"sw": "6A82"`, `"sw": "6A86"`},
		{`"name": "auth PIN tries left"`, `"sw": "63C3"`, `"sw": "63C2"`},
	} {
		i := strings.Index(s, r.step)
		j := strings.Index(s[i:], r.from)
		if i < 0 || j < 0 || j > 300 {
			t.Fatalf("no step %s with %s in the published transcript", r.step, r.from)
		}
		s = s[:i+j] + r.to + s[i+j+len(r.from):]
	}
	path := filepath.Join(t.TempDir(), "changed.json")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"compare", path}, nil, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1; %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"2 differences", "status word recorded 6A86, replayed 6A82", "status word recorded 63C2, replayed 63C3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
