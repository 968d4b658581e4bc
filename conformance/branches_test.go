package conformance_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// TestEveryBranchProven: every failure branch of every mandatory check has
// a fault profile in the matrix that proves it (or says why none can), and
// docs/conformance-checklist.md lists each branch with those profiles.
func TestEveryBranchProven(t *testing.T) {
	doc, err := os.ReadFile("../docs/conformance-checklist.md")
	if err != nil {
		t.Fatalf("the checklist the report links: %v", err)
	}
	if !strings.Contains(string(doc), "Checklist version: "+conformance.ChecklistVersion+"\n") {
		t.Errorf("the checklist does not say it is version %s", conformance.ChecklistVersion)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(string(doc), "\n") {
		if id, ok := strings.CutPrefix(l, "| `"); ok {
			id, _, _ = strings.Cut(id, "`")
			lines[id] = l
		}
	}
	proven := map[string][]string{}
	for _, fc := range faultTable {
		if _, ok := faults.ByName(fc.profile); !ok {
			t.Errorf("fault table row %q names no profile", fc.profile)
		}
		for _, b := range fc.proves {
			proven[b] = append(proven[b], fc.profile)
		}
	}
	known := map[string]bool{}
	mandatory := map[string]bool{}
	for _, c := range conformance.Checks() {
		mandatory[c.ID] = c.Mandatory
	}
	hasBranch := map[string]bool{}
	for _, b := range conformance.Branches() {
		known[b.ID] = true
		hasBranch[b.Check()] = true
		if !mandatory[b.Check()] {
			t.Errorf("%s: a branch of %s, which is not a mandatory check", b.ID, b.Check())
		}
		if b.Match == "" || b.What == "" {
			t.Errorf("%s: no message fragment or description", b.ID)
		}
		line, ok := lines[b.ID]
		if !ok {
			t.Errorf("%s is not listed in docs/conformance-checklist.md", b.ID)
		}
		switch {
		case b.NoProfile != "" && len(proven[b.ID]) > 0:
			t.Errorf("%s says no profile can reach it, but %v do", b.ID, proven[b.ID])
		case b.NoProfile != "":
			if !strings.Contains(line, "no profile") {
				t.Errorf("the checklist's line for %s does not say why it has no profile", b.ID)
			}
		case len(proven[b.ID]) == 0:
			t.Errorf("failure branch %s (%s) has no fault profile that proves it", b.ID, b.What)
		}
		for _, p := range proven[b.ID] {
			if !strings.Contains(line, "`"+p+"`") {
				t.Errorf("the checklist's line for %s does not name profile %s", b.ID, p)
			}
		}
	}
	for b := range proven {
		if !known[b] {
			t.Errorf("the fault table proves %s, which is no failure branch", b)
		}
	}
	for id, m := range mandatory {
		if m && !hasBranch[id] {
			t.Errorf("mandatory check %s has no failure branch listed", id)
		}
	}
}

// failureFormats returns, by check ID, the format strings of every
// t.Errorf and t.Fatalf in the check functions (checkRxx) of checks_*.go.
func failureFormats(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob("checks_*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no check files: %v", err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			id := strings.TrimPrefix(fd.Name.Name, "check")
			switch {
			case fd.Recv != nil:
				id = "helpers" // methods of T that checks call (le00 …)
			case !strings.HasPrefix(fd.Name.Name, "checkR"):
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				ce, ok := n.(*ast.CallExpr)
				if !ok || len(ce.Args) == 0 {
					return true
				}
				se, ok := ce.Fun.(*ast.SelectorExpr)
				if !ok || (se.Sel.Name != "Errorf" && se.Sel.Name != "Fatalf") {
					return true
				}
				if x, ok := se.X.(*ast.Ident); !ok || x.Name == "fmt" {
					return true // fmt.Errorf builds an error; its caller reports it
				}
				lit, ok := ce.Args[0].(*ast.BasicLit)
				if !ok {
					t.Errorf("%s: a failure message that is not a literal format", fset.Position(ce.Pos()))
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[id] = append(out[id], s)
				return true
			})
		}
	}
	return out
}

// TestEveryFailureIsABranch: every failure message a mandatory check can
// write belongs to one of its failure branches (and so to a fault profile
// that proves it), or is listed among the other failures with the reason it
// is no branch; the checklist lists those too. A new t.Errorf in a check
// fails here until it is one or the other.
func TestEveryFailureIsABranch(t *testing.T) {
	doc, err := os.ReadFile("../docs/conformance-checklist.md")
	if err != nil {
		t.Fatal(err)
	}
	mandatory := map[string]bool{}
	for _, c := range conformance.Checks() {
		mandatory[c.ID] = c.Mandatory
	}
	formats := failureFormats(t)
	other := map[[2]string]string{}
	for _, o := range conformance.OtherFailures() {
		other[[2]string{o.Check, o.Format}] = o.Why
		if !strings.Contains(string(doc), "| "+o.Check+" | `"+o.Format+"` |") {
			t.Errorf("the checklist's other failures do not list %s %q", o.Check, o.Format)
		}
		if !slices.Contains(formats[o.Check], o.Format) {
			t.Errorf("other failure %s %q: the check writes no such message", o.Check, o.Format)
		}
	}
	for id, fs := range formats {
		if !mandatory[id] {
			continue
		}
		for _, f := range fs {
			var claims []string
			for _, b := range conformance.Branches() {
				if b.Check() != id {
					continue
				}
				for _, frag := range append([]string{b.Match}, b.Also...) {
					if strings.Contains(f, frag) {
						claims = append(claims, b.ID)
						break
					}
				}
			}
			_, listed := other[[2]string{id, f}]
			switch {
			case len(claims) == 0 && !listed:
				t.Errorf("%s writes %q, which is no failure branch and not listed among the other failures", id, f)
			case len(claims) > 0 && listed:
				t.Errorf("%s %q is listed among the other failures but belongs to %v", id, f, claims)
			}
		}
	}
	// A branch's fragment is written by its check or a helper it calls; two
	// name the file read, which the message fills in ("reading %v").
	filledIn := map[string]bool{"R11.gives-up": true, "R17.flow": true}
	for _, b := range conformance.Branches() {
		found := filledIn[b.ID]
		for _, f := range append(formats[b.Check()], formats["helpers"]...) {
			found = found || strings.Contains(f, b.Match)
		}
		if !found {
			t.Errorf("%s: no message of %s contains its fragment %q", b.ID, b.Check(), b.Match)
		}
	}
}
