package framework_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rawLabels lists, in one Go file, every Ginkgo Label(…) call given a string
// literal and every speclabel.Label("…") conversion: labels must be
// speclabel's constants (harness/speclabel), so a misspelt one cannot
// escape the physical-card guard.
func rawLabels(t *testing.T, path string, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		var name string
		switch fun := call.Fun.(type) {
		case *ast.Ident:
			name = fun.Name // ginkgo dot-imported
		case *ast.SelectorExpr:
			if x, ok := fun.X.(*ast.Ident); ok {
				name = x.Name + "." + fun.Sel.Name
			}
		}
		if name != "Label" && name != "ginkgo.Label" && name != "speclabel.Label" {
			return true
		}
		for _, a := range call.Args {
			if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				out = append(out, fset.Position(call.Pos()).String()+": "+name+"("+lit.Value+")")
			}
		}
		return true
	})
	return out
}

// TestNoRawLabels walks every Go file of the module (tests included) but
// the registry itself.
func TestNoRawLabels(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "*.go").Output()
	if err != nil {
		t.Fatalf("listing Go files: %v", err)
	}
	var found []string
	for _, rel := range strings.Fields(string(out)) {
		if strings.HasPrefix(rel, "harness/speclabel/") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, rawLabels(t, rel, src)...)
	}
	if len(found) > 0 {
		t.Errorf("labels written as strings (use harness/speclabel's constants with speclabel.Of):\n%s", strings.Join(found, "\n"))
	}
}

// TestRawLabelsCaught plants each form a raw label can take.
func TestRawLabelsCaught(t *testing.T) {
	src := []byte(`package x
var _ = Describe("a", Label("physical-safe"), func() {})
var _ = ginkgo.It("b", ginkgo.Label("sim-only"), func() {})
var _ = speclabel.Of(speclabel.Label("destrutive"))
var _ = Describe("c", speclabel.Of(speclabel.PhysicalSafe), func() {})
var _ = It("d", Label(conformance.SpecLabels(c)...), func() {})
`)
	got := rawLabels(t, "planted.go", src)
	want := []string{`Label("physical-safe")`, `ginkgo.Label("sim-only")`, `speclabel.Label("destrutive")`}
	if len(got) != len(want) {
		t.Fatalf("found %d raw labels, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], w) {
			t.Errorf("finding %d = %q, want …%s", i, got[i], w)
		}
	}
}
