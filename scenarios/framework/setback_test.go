package framework_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// specBodies are the Ginkgo calls whose function argument is a spec's (or
// a setup node's) body: the scope in which a set-back must be registered.
var specBodies = map[string]bool{"It": true, "DescribeTable": true, "BeforeEach": true, "JustBeforeEach": true, "BeforeAll": true}

// callName is the name a call is made by: "DeferCleanup", "ChangePIN".
func callName(call *ast.CallExpr) string {
	switch fun := call.Fun.(type) {
	case *ast.Ident:
		return fun.Name
	case *ast.SelectorExpr:
		return fun.Sel.Name
	}
	return ""
}

// isChange reports whether n changes a PIN on the card: a ChangePIN call,
// a command string starting with CHANGE REFERENCE DATA (00 24) or RESET
// RETRY COUNTER (00 2C), or a command literal with INS 0x24 or 0x2C.
func isChange(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.CallExpr:
		if callName(n) == "ChangePIN" {
			return true
		}
		for _, a := range n.Args {
			if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && (strings.HasPrefix(s, "00 24") || strings.HasPrefix(s, "00 2C")) {
					return true
				}
			}
		}
	case *ast.KeyValueExpr:
		if k, ok := n.Key.(*ast.Ident); ok && k.Name == "INS" {
			if v, ok := n.Value.(*ast.BasicLit); ok && (v.Value == "0x24" || v.Value == "0x2C") {
				return true
			}
		}
	}
	return false
}

// lateSetBacks lists the PIN changes in a Go file that come before any
// set-back is registered in the spec that makes them: a DeferCleanup (or a
// setBack… helper that registers one) must come first in the spec's body,
// so that a failure between the change and its set-back cannot leave the
// card changed (docs/physical-cards.md). Changes made inside a cleanup
// (the set-back itself) are exempt.
func lateSetBacks(t *testing.T, path string, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var stack []ast.Node
	ast.Inspect(f, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, n)
		if !isChange(n) {
			return true
		}
		body, inCleanup := scopeOf(stack)
		if inCleanup {
			return true
		}
		if body == nil || !cleanupBefore(body, n.Pos()) {
			out = append(out, fset.Position(n.Pos()).String())
		}
		return true
	})
	return out
}

// scopeOf finds, going out from the innermost node of stack, the spec body
// the change is in, and whether it is inside a cleanup's function.
func scopeOf(stack []ast.Node) (*ast.FuncLit, bool) {
	for i := len(stack) - 1; i > 0; i-- {
		lit, ok := stack[i].(*ast.FuncLit)
		if !ok {
			continue
		}
		call, ok := stack[i-1].(*ast.CallExpr)
		if !ok {
			continue
		}
		switch name := callName(call); {
		case name == "DeferCleanup" || strings.HasPrefix(name, "setBack"):
			return nil, true
		case specBodies[name]:
			return lit, false
		}
	}
	return nil, false
}

// cleanupBefore reports whether body registers a set-back before pos.
func cleanupBefore(body *ast.FuncLit, pos token.Pos) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok && call.Pos() < pos {
			if name := callName(call); name == "DeferCleanup" || strings.HasPrefix(name, "setBack") {
				found = true
			}
		}
		return !found
	})
	return found
}

// TestSetBackRegisteredBeforeTheChange walks every Go file under scenarios/
// and examples/: each CHANGE REFERENCE DATA (ChangePIN, "00 24 …", INS
// 0x24) and RESET RETRY COUNTER a spec sends comes after the spec has
// registered its set-back (issue 17.2).
func TestSetBackRegisteredBeforeTheChange(t *testing.T) {
	root := repoRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "scenarios/*.go", "examples/*.go").Output()
	if err != nil {
		t.Fatalf("listing Go files: %v", err)
	}
	changes := 0
	for _, rel := range strings.Fields(string(out)) {
		if rel == "scenarios/framework/setback_test.go" {
			continue // this check's own patterns
		}
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		if bad := lateSetBacks(t, rel, src); len(bad) > 0 {
			t.Errorf("a PIN change before its set-back is registered (DeferCleanup first): %s", strings.Join(bad, ", "))
		}
		changes += strings.Count(string(src), "ChangePIN(") + strings.Count(string(src), `"00 24`)
	}
	if changes == 0 {
		t.Fatal("found no PIN change under scenarios/ or examples/: the walk is broken")
	}
}

// TestLateSetBackIsFound: the check finds a change made before the cleanup
// is registered, and one with no cleanup at all.
func TestLateSetBackIsFound(t *testing.T) {
	const src = `package x
var _ = It("late", func() {
	Expect(c.ChangePIN(ref, old, next)).To(Succeed())
	DeferCleanup(func() { c.ChangePIN(ref, next, old) })
})
var _ = It("none", func() {
	s.send("00 24 01 80 04 31323334")
})
var _ = It("first", func() {
	DeferCleanup(func() { c.ChangePIN(ref, next, old) })
	Expect(c.ChangePIN(ref, old, next)).To(Succeed())
})
var _ = It("in a helper closure, after the cleanup", func() {
	setBack(h, ref, old, &cur)
	change := func() { h.client.Do(apduclient.Command{INS: 0x24}) }
	change()
})
`
	got := lateSetBacks(t, "x.go", []byte(src))
	if len(got) != 2 || !strings.HasPrefix(got[0], "x.go:3:") || !strings.HasPrefix(got[1], "x.go:7:") {
		t.Errorf("lateSetBacks = %q, want the changes on lines 3 and 7", got)
	}
}
