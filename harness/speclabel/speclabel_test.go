package speclabel

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// A misspelt label would escape the physical-card guard: Of refuses it
// before the suite starts.
func TestOfRefusesUnknownLabels(t *testing.T) {
	got := Of(Destructive, NeedsSignPIN)
	if !slices.Equal([]string(got), []string{"destructive", "needs-sign-pin"}) {
		t.Errorf("Of(Destructive, NeedsSignPIN) = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Of accepted the unknown label \"destrutive\"")
		}
	}()
	Of(Label("destrutive"))
}

// Every registered label is described in docs/suites.md, and every label
// that page lists in its table is registered.
func TestLabelsDocumented(t *testing.T) {
	page, err := os.ReadFile("../../docs/suites.md")
	if err != nil {
		t.Fatal(err)
	}
	table := regexp.MustCompile("(?s)\\| label \\| meaning \\|\n(.*?)\n\\s*\n").FindSubmatch(page)
	if table == nil {
		t.Fatal("docs/suites.md has no table headed | label | meaning |")
	}
	rows := regexp.MustCompile("(?m)^\\s*\\| `([a-z-]+)` \\|").FindAllStringSubmatch(string(table[1]), -1)
	documented := map[Label]bool{}
	for _, r := range rows {
		documented[Label(r[1])] = true
		if !Known(Label(r[1])) {
			t.Errorf("docs/suites.md lists the label %q, which is not registered", r[1])
		}
	}
	for _, l := range All() {
		if !documented[l] {
			t.Errorf("label %q is not in the table of docs/suites.md", l)
		}
	}
}
