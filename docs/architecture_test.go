package docs

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/mynahil/mynahil"

// mapRow is a row of architecture.md's package map: its first cell names
// one or more packages in backquotes.
var mapRow = regexp.MustCompile("(?m)^\\| (`[^|]+`) \\|")

// mapped returns the packages architecture.md's package map names.
func mapped(doc []byte) []string {
	start := bytes.Index(doc, []byte("## Package map"))
	if start < 0 {
		return nil
	}
	section := doc[start:]
	if end := bytes.Index(section[2:], []byte("\n## ")); end >= 0 {
		section = section[:end+2]
	}
	var out []string
	for _, m := range mapRow.FindAllSubmatch(section, -1) {
		for _, name := range strings.Split(string(m[1]), ",") {
			out = append(out, strings.Trim(strings.TrimSpace(name), "`"))
		}
	}
	return out
}

// mapDifferences names packages of the module missing from the map, and
// rows naming packages that do not exist.
func mapDifferences(doc []byte, pkgs []string) []string {
	names := mapped(doc)
	var out []string
	for _, p := range pkgs {
		if !slices.Contains(names, p) {
			out = append(out, "architecture.md: package "+p+" is missing from the package map")
		}
	}
	for _, n := range names {
		if !slices.Contains(pkgs, n) {
			out = append(out, "architecture.md: the package map names "+n+", which does not exist")
		}
	}
	return out
}

// TestArchitectureMap keeps architecture.md's package map true: every
// package of the module has a row, every row names a package that exists.
func TestArchitectureMap(t *testing.T) {
	doc, err := os.ReadFile("architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []string
	for _, p := range strings.Fields(string(out)) {
		p = strings.TrimPrefix(strings.TrimPrefix(p, module), "/")
		if p != "" {
			pkgs = append(pkgs, p)
		}
	}
	if d := mapDifferences(doc, pkgs); len(d) > 0 {
		t.Error(strings.Join(d, "\n"))
	}
}

// TestArchitectureMapCatches plants a missing package and a stale row.
func TestArchitectureMapCatches(t *testing.T) {
	doc := []byte("## Package map\n\n| package | what |\n|---|---|\n| `a`, `b` | two |\n| `gone` | stale |\n\n## Next\n| `c` | not in the map |\n")
	got := strings.Join(mapDifferences(doc, []string{"a", "b", "new"}), "\n")
	for _, want := range []string{"package new is missing", "names gone, which does not exist"} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "names c,") {
		t.Errorf("a row after the map counted:\n%s", got)
	}
}
