package docs

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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

// maxFuncLines is the longest a function may be without saying why it
// stays whole (docs/architecture.md, "House rules").
const maxFuncLines = 60

// longFunctions lists the non-test functions under root longer than
// maxFuncLines whose doc comment does not say why they read better whole.
func longFunctions(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1
			if n > maxFuncLines && (fn.Doc == nil || !strings.Contains(fn.Doc.Text(), "reads better whole")) {
				rel, _ := filepath.Rel(root, path)
				out = append(out, fmt.Sprintf("%s:%d: %s is %d lines: split it, or say in its doc comment why it reads better whole", rel, fset.Position(fn.Pos()).Line, fn.Name.Name, n))
			}
		}
		return nil
	})
	return out, err
}

// TestLongFunctionsSayWhy: no function outside the tests is over
// maxFuncLines lines unless its doc comment says why it reads better whole
// (a table, or a sequence of steps such as a conformance check's).
func TestLongFunctionsSayWhy(t *testing.T) {
	long, err := longFunctions("..")
	if err != nil {
		t.Fatal(err)
	}
	if len(long) > 0 {
		t.Error(strings.Join(long, "\n"))
	}
}

// TestLongFunctionsCaught plants a long function without the reason and
// one with it.
func TestLongFunctionsCaught(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("\t_ = 1\n", maxFuncLines)
	src := "package p\n\n// Long is long.\nfunc Long() {\n" + body + "}\n\n// Kept is long, and it reads better whole.\nfunc Kept() {\n" + body + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	long, err := longFunctions(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(long) != 1 || !strings.Contains(long[0], "Long is") {
		t.Errorf("want only Long named, got %q", long)
	}
}
