package framework_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The one-way imports of docs/suites.md ("One-way imports"), checked on
// transitive dependencies and on test imports:
//
//   - the client side (harness/..., vpcd/..., pcscdenv/..., control, simapi,
//     cli) never depends on the simulator (simcard/..., simd/...): not in
//     its code, not through another package, not in its tests; and no
//     harness code serves a card with the vpcd card side (package vpcd also
//     holds the reader side, which the harness may use);
//   - a scenario suite (scenarios/... outside the framework, examples/...)
//     reaches the simulator only through scenarios/framework/...: none of its
//     imports, in its code or its tests, is the simulator, vpcd, control or
//     simapi, or depends on the simulator by another way (simcard/profile,
//     the card's profile a suite reads its known values from, is allowed).

const module = "github.com/mynahil/mynahil"

// clientSide and suites are the package patterns the two rules cover.
var (
	clientSide = []string{"./harness/...", "./vpcd/...", "./pcscdenv/...", "./control", "./simapi", "./cli"}
	suites     = []string{"./scenarios/...", "./examples/..."}
)

// listed is what `go list -json` says of one package.
type listed struct {
	ImportPath   string
	Dir          string
	GoFiles      []string
	Deps         []string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

// goList runs `go list -json -deps=false` with an optional overlay file.
func goList(t *testing.T, overlay string, patterns ...string) []listed {
	t.Helper()
	args := []string{"list", "-json"}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	cmd := exec.Command("go", append(args, patterns...)...)
	cmd.Dir = repoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v\n%s", patterns, err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// simulatorPath reports whether an import path is the simulator's.
func simulatorPath(p string) bool {
	for _, s := range []string{module + "/simcard", module + "/simd"} {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// graph is the module's packages by import path, with their transitive
// (non-test) dependencies.
type graph map[string]listed

func newGraph(t *testing.T, overlay string) graph {
	g := graph{}
	for _, p := range goList(t, overlay, "./...") {
		g[p.ImportPath] = p
	}
	return g
}

// reaches returns the simulator packages among imp and its dependencies,
// leaving out those allowed.
func (g graph) reaches(imp string, allowed func(string) bool) []string {
	var out []string
	for _, d := range append([]string{imp}, g[imp].Deps...) {
		if simulatorPath(d) && !allowed(d) {
			out = append(out, d)
		}
	}
	return out
}

// allImports is a package's imports in its code and its tests.
func allImports(p listed) []string {
	return slices.Concat(p.Imports, p.TestImports, p.XTestImports)
}

// clientViolations lists client-side packages that depend on the
// simulator, in their code or their tests, directly or not, and harness
// files that use the vpcd card side.
func clientViolations(t *testing.T, g graph, pkgs []listed) []string {
	none := func(string) bool { return false }
	var out []string
	for _, p := range pkgs {
		for _, imp := range allImports(p) {
			if r := g.reaches(imp, none); len(r) > 0 {
				via := ""
				if r[0] != imp {
					via = " through " + imp
				}
				out = append(out, fmt.Sprintf("%s depends on %s%s", p.ImportPath, strings.Join(r, ", "), via))
			}
		}
		if !strings.HasPrefix(p.ImportPath, module+"/harness") {
			continue
		}
		for _, f := range p.GoFiles {
			path := f
			if !filepath.IsAbs(f) {
				path = filepath.Join(p.Dir, f)
			}
			if names := cardSideUses(t, path); len(names) > 0 {
				out = append(out, fmt.Sprintf("%s: %s uses the vpcd card side (%s)", p.ImportPath, f, strings.Join(names, ", ")))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// cardSideUses returns the vpcd card-side identifiers a file refers to.
func cardSideUses(t *testing.T, file string) []string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), file, src, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	vpcdName := ""
	for _, imp := range f.Imports {
		if path, _ := strconv.Unquote(imp.Path.Value); path == module+"/vpcd" {
			vpcdName = "vpcd"
			if imp.Name != nil {
				vpcdName = imp.Name.Name
			}
		}
	}
	if vpcdName == "" {
		return nil
	}
	var out []string
	for _, id := range []string{"CardSide", "NewCardSide"} {
		if bytes.Contains(src, []byte(vpcdName+"."+id)) {
			out = append(out, vpcdName+"."+id)
		}
	}
	return out
}

// inFramework reports whether a package is the framework or one of its own.
func inFramework(p string) bool {
	return p == module+"/scenarios/framework" || strings.HasPrefix(p, module+"/scenarios/framework/")
}

// suiteViolations lists scenario suites reaching the simulator (or its
// transports) other than through the framework.
func suiteViolations(g graph, pkgs []listed) []string {
	profile := g[module+"/simcard/profile"]
	allowed := func(p string) bool { return p == profile.ImportPath || slices.Contains(profile.Deps, p) }
	direct := func(p string) bool { return p == module+"/vpcd" || p == module+"/control" || p == module+"/simapi" }
	var out []string
	for _, p := range pkgs {
		if inFramework(p.ImportPath) {
			continue
		}
		for _, imp := range allImports(p) {
			switch {
			case inFramework(imp):
			case direct(imp):
				out = append(out, fmt.Sprintf("%s imports %s (reach the simulator through scenarios/framework)", p.ImportPath, imp))
			default:
				if r := g.reaches(imp, allowed); len(r) > 0 {
					via := ""
					if r[0] != imp {
						via = " through " + imp
					}
					out = append(out, fmt.Sprintf("%s reaches %s%s (reach the simulator through scenarios/framework)", p.ImportPath, strings.Join(r, ", "), via))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestImportGraph(t *testing.T) {
	g := newGraph(t, "")
	if v := clientViolations(t, g, goList(t, "", clientSide...)); len(v) > 0 {
		t.Errorf("the client side must not depend on the simulator:\n%s", strings.Join(v, "\n"))
	}
	if v := suiteViolations(g, goList(t, "", suites...)); len(v) > 0 {
		t.Errorf("scenario suites must reach the simulator through the framework:\n%s", strings.Join(v, "\n"))
	}
}

// TestImportGraphCatchesPlantedImports plants, through a go list overlay
// (the tree is not touched), each way around the rules seen before: a suite
// test importing the office; a suite issuing cards through a package beside
// the framework (simreplay); a harness package the suites use (the
// operator) calling the office itself, which the physical suite then
// reaches; the vpcd fault profiles, pcscdenv and a harness test depending
// on the simulator; a harness file serving a card with the vpcd card side.
// Each must be named.
func TestImportGraphCatchesPlantedImports(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	plant := map[string]string{
		"scenarios/jpki/planted_test.go":  "package jpki_test\nimport _ \"" + module + "/simcard/office\"\n",
		"scenarios/edges/planted_test.go": "package edges_test\nimport _ \"" + module + "/simreplay\"\n",
		"harness/operator/planted.go":     "package operator\nimport _ \"" + module + "/simcard/office\"\n",
		"vpcd/faults/planted.go":          "package faults\nimport _ \"" + module + "/simcard/card\"\n",
		"pcscdenv/planted.go":             "package pcscdenv\nimport _ \"" + module + "/simd\"\n",
		"harness/pcsc/planted_test.go":    "package pcsc_test\nimport _ \"" + module + "/simcard\"\n",
		"harness/apduclient/planted.go":   "package apduclient\nimport \"" + module + "/vpcd\"\nvar _ = vpcd.NewCardSide\n",
	}
	replace := map[string]string{}
	for rel, src := range plant {
		f := filepath.Join(dir, strings.ReplaceAll(rel, "/", "_"))
		if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		replace[filepath.Join(root, rel)] = f
	}
	b, _ := json.Marshal(map[string]any{"Replace": replace})
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, b, 0o600); err != nil {
		t.Fatal(err)
	}
	g := newGraph(t, overlay)

	suites := suiteViolations(g, goList(t, overlay, suites...))
	for _, want := range [][]string{
		{"scenarios/jpki reaches ", module + "/simcard/office, "},
		{"scenarios/edges reaches ", module + "/simcard/card, ", " through " + module + "/simreplay ("},
		{"scenarios/physical reaches ", module + "/simcard/office", " through " + module + "/harness/operator ("},
	} {
		if !lineWith(suites, want...) {
			t.Errorf("planted suite violation %q went unnoticed:\n%s", want, strings.Join(suites, "\n"))
		}
	}

	// go list names the planted files in their package directory; read them
	// from the overlay.
	pkgs := goList(t, overlay, clientSide...)
	for i := range pkgs {
		for j, f := range pkgs[i].GoFiles {
			if r, ok := replace[filepath.Join(pkgs[i].Dir, f)]; ok {
				pkgs[i].GoFiles[j] = r
			}
		}
	}
	client := clientViolations(t, g, pkgs)
	for _, want := range [][]string{
		{"harness/operator depends on ", module + "/simcard/office"},
		{"vpcd/faults depends on ", module + "/simcard/card"},
		{"pcscdenv depends on ", module + "/simd"},
		{"harness/pcsc depends on ", module + "/simcard"},
		{"harness/apduclient: ", "vpcd.NewCardSide"},
	} {
		if !lineWith(client, want...) {
			t.Errorf("planted client-side violation %q went unnoticed:\n%s", want, strings.Join(client, "\n"))
		}
	}
}

// lineWith reports whether one of lines holds every part.
func lineWith(lines []string, parts ...string) bool {
	for _, l := range lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}
