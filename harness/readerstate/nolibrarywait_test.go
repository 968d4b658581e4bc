package readerstate_test

import (
	"go/ast"
	"go/types"
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/packages"
)

// libraryWait is the method package readerstate replaces: a call to it in
// a process where another goroutine calls it too stops the process.
const libraryWait = "(*github.com/ebfe/scard.Context).GetStatusChange"

// No code of this module, tests included, calls github.com/ebfe/scard's
// GetStatusChange: every wait for reader events goes through package
// readerstate. The check resolves each call's method with the type
// checker, so a call through a variable, a field or an embedded context
// is found as surely as a direct one.
func TestNoCallToTheLibrarysGetStatusChange(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &packages.Config{
		Mode:  packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:   root,
		Tests: true,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		t.Fatal(err)
	}
	if n := packages.PrintErrors(pkgs); n > 0 {
		t.Fatalf("loading the module's packages: %d errors", n)
	}
	checked := 0
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			checked++
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				fn, ok := p.TypesInfo.Uses[sel.Sel].(*types.Func)
				if ok && fn.FullName() == libraryWait {
					t.Errorf("%s calls %s; use package readerstate (its doc says why)", p.Fset.Position(sel.Pos()), libraryWait)
				}
				return true
			})
		}
	}
	if checked < 100 {
		t.Fatalf("only %d files checked: the module was not loaded", checked)
	}
}
