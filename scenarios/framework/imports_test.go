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

// The one-way imports of docs/suites.md ("One-way imports"):
//
//   - a harness package (the independent clients and the target chooser)
//     never depends on the simulator, directly or not: no simcard/... and no
//     simd in its dependencies, and no use of the vpcd card side (package
//     vpcd also holds the reader side, which the harness may use);
//   - a scenario suite reaches the simulator only through this framework:
//     it imports no simcard/... (but the card's profile, simcard/profile),
//     simd, vpcd, control or simapi itself, in its code or its tests.

const module = "github.com/mynahil/mynahil"

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

// harnessViolations lists harness packages that depend on the simulator or
// use the vpcd card side.
func harnessViolations(t *testing.T, pkgs []listed) []string {
	var out []string
	for _, p := range pkgs {
		for _, d := range p.Deps {
			if simulatorPath(d) {
				out = append(out, fmt.Sprintf("%s depends on %s", p.ImportPath, d))
			}
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
	return out
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

// suiteViolations lists scenario suites importing the simulator (or its
// transports) around the framework.
func suiteViolations(pkgs []listed) []string {
	forbidden := func(p string) bool {
		if p == module+"/simcard/profile" {
			return false
		}
		return simulatorPath(p) || p == module+"/vpcd" || p == module+"/control" || p == module+"/simapi"
	}
	var out []string
	for _, p := range pkgs {
		if p.ImportPath == module+"/scenarios/framework" || strings.HasPrefix(p.ImportPath, module+"/scenarios/framework/") {
			continue
		}
		for _, imps := range [][]string{p.Imports, p.TestImports, p.XTestImports} {
			for _, i := range imps {
				if forbidden(i) {
					out = append(out, fmt.Sprintf("%s imports %s (reach the simulator through scenarios/framework)", p.ImportPath, i))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestImportGraph(t *testing.T) {
	if v := harnessViolations(t, goList(t, "", "-deps=false", "./harness/...")); len(v) > 0 {
		t.Errorf("the harness must not depend on the simulator:\n%s", strings.Join(v, "\n"))
	}
	if v := suiteViolations(goList(t, "", "./scenarios/...")); len(v) > 0 {
		t.Errorf("scenario suites must reach the simulator through the framework:\n%s", strings.Join(v, "\n"))
	}
}

// TestImportGraphCatchesPlantedImports plants, through a go list overlay
// (the tree is not touched), a suite test importing the office, a harness
// file importing the simulator and one serving a card with the vpcd card
// side, and expects each to be named.
func TestImportGraphCatchesPlantedImports(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	plant := map[string]string{
		filepath.Join(root, "scenarios/jpki/planted_test.go"): `package jpki_test
import _ "github.com/mynahil/mynahil/simcard/office"
`,
		filepath.Join(root, "harness/jpkiclient/planted.go"): `package jpkiclient
import _ "github.com/mynahil/mynahil/simcard"
`,
		filepath.Join(root, "harness/apduclient/planted.go"): `package apduclient
import "github.com/mynahil/mynahil/vpcd"
var _ = vpcd.NewCardSide
`,
	}
	replace := map[string]string{}
	for target, src := range plant {
		f := filepath.Join(dir, filepath.Base(filepath.Dir(target))+"_"+filepath.Base(target))
		if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		replace[target] = f
	}
	b, _ := json.Marshal(map[string]any{"Replace": replace})
	overlay := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlay, b, 0o600); err != nil {
		t.Fatal(err)
	}

	suites := strings.Join(suiteViolations(goList(t, overlay, "./scenarios/...")), "\n")
	if !strings.Contains(suites, "scenarios/jpki imports "+module+"/simcard/office") {
		t.Errorf("a suite importing the office went unnoticed:\n%s", suites)
	}
	// go list names the planted files in their package directory; read them
	// from the overlay.
	pkgs := goList(t, overlay, "-deps=false", "./harness/...")
	for i := range pkgs {
		for j, f := range pkgs[i].GoFiles {
			if r, ok := replace[filepath.Join(pkgs[i].Dir, f)]; ok {
				pkgs[i].GoFiles[j] = r
			}
		}
	}
	harness := strings.Join(harnessViolations(t, pkgs), "\n")
	for _, want := range []string{"harness/jpkiclient depends on " + module + "/simcard", "harness/apduclient: ", "vpcd.NewCardSide"} {
		if !strings.Contains(harness, want) {
			t.Errorf("planted harness violation %q went unnoticed:\n%s", want, harness)
		}
	}
}
