package docs

// The documentation names only what exists: every make target, MYNAHIL_*
// variable, mynahil command, flag and exit code a user reads in README.md,
// docs/*.md or examples/**/README.md is checked against the code, and every
// MYNAHIL_* variable the code reads is named in the docs. What exists is
// derived from the code itself: the Makefile's rules, the built CLI's own
// help, the exit-code constants of packages cli and conformance, the string
// literals of the Go code and the scripts.

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// root is the checkout the docs describe.
const root = ".."

// docFiles are the documents users read: README.md, docs/*.md and
// examples/**/README.md, as paths relative to root.
func docFiles(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md"}
	md, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range md {
		files = append(files, rel(f))
	}
	err = filepath.WalkDir(filepath.Join(root, "examples"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "README.md" {
			files = append(files, rel(p))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func rel(p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return r
}

// snippet is code as a document shows it: a line of a fenced block or an
// inline `code span` (newlines folded to spaces), with where it starts.
type snippet struct {
	file string
	line int
	text string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d", s.file, s.line) }

// shellFence are the fenced blocks whose lines are commands or their
// output; code in other languages (a Go example of a command to add, a JSON
// profile) is not checked.
var shellFence = map[string]bool{"": true, "sh": true, "bash": true, "console": true, "shell": true, "yaml": true, "dockerfile": true, "Dockerfile": true}

// wrongOnPurpose, on the line before a fenced block, exempts the block: it
// shows a mistake and its error message.
const wrongOnPurpose = "<!-- docs test: wrong on purpose -->"

var spanRE = regexp.MustCompile("`[^`]+`")

// snippets returns the code of a document: fenced blocks line by line,
// then inline code spans.
func snippets(t *testing.T, file string) []snippet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []snippet
	fenced, lang, onPurpose := false, "", false
	prose := make([]string, len(lines))
	for i, l := range lines {
		if fence, ok := strings.CutPrefix(strings.TrimSpace(l), "```"); ok {
			fenced, lang = !fenced, fence
			onPurpose = fenced && i > 0 && strings.TrimSpace(lines[i-1]) == wrongOnPurpose
			continue
		}
		if fenced {
			if shellFence[lang] && !onPurpose {
				out = append(out, snippet{file, i + 1, l})
			}
			continue
		}
		prose[i] = l
	}
	text := strings.Join(prose, "\n")
	for _, m := range spanRE.FindAllStringIndex(text, -1) {
		line := 1 + strings.Count(text[:m[0]], "\n")
		code := strings.ReplaceAll(text[m[0]+1:m[1]-1], "\n", " ")
		out = append(out, snippet{file, line, code})
	}
	return out
}

// allSnippets is every snippet of every document.
func allSnippets(t *testing.T) []snippet {
	t.Helper()
	var out []snippet
	for _, f := range docFiles(t) {
		out = append(out, snippets(t, f)...)
	}
	return out
}

// --- make targets ---

var ruleRE = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_ -]*):([^=]|$)`)

// makeTargets parses the Makefile's rules: target name → its help comment
// ("" when the rule line has no "## " comment).
func makeTargets(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		m := ruleRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		_, help, _ := strings.Cut(l, "## ")
		for _, name := range strings.Fields(m[1]) {
			targets[name] = strings.TrimSpace(help)
		}
	}
	if len(targets) < 10 {
		t.Fatalf("Makefile: found only %d rules %v; the parser is broken", len(targets), targets)
	}
	return targets
}

var makeRE = regexp.MustCompile(`(?:^|[\s;&|(])make\s+(.*)`)
var targetRE = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// namedTargets returns the make targets a snippet names: the bare words
// after "make", skipping VAR=value and flags.
func namedTargets(code string) []string {
	var out []string
	for _, m := range makeRE.FindAllStringSubmatch(code, -1) {
		for _, w := range strings.Fields(m[1]) {
			switch {
			case strings.Contains(w, "=") || strings.HasPrefix(w, "-"):
				continue
			case targetRE.MatchString(w):
				out = append(out, w)
				continue
			}
			break
		}
	}
	return out
}

func TestDocsNameOnlyMakeTargetsThatExist(t *testing.T) {
	targets := makeTargets(t)
	for _, s := range allSnippets(t) {
		for _, name := range namedTargets(s.text) {
			if _, ok := targets[name]; !ok {
				t.Errorf("%s: `make %s`: the Makefile has no target %q", s, name, name)
			}
		}
	}
}

// TestMakeHelpListsEveryTarget: 'make help' (which lists the rules with a
// "## " comment) shows every target of the Makefile.
func TestMakeHelpListsEveryTarget(t *testing.T) {
	targets := makeTargets(t)
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make on PATH")
	}
	out, err := exec.Command("make", "-s", "-C", root, "help").CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	listed := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "make" {
			listed[f[1]] = true
		}
	}
	for _, name := range sortedKeys(targets) {
		if !listed[name] {
			t.Errorf("Makefile: target %q is missing from 'make help' (give its rule line a \"## what it does\" comment)", name)
		}
	}
}

// --- MYNAHIL_* variables ---

var envRE = regexp.MustCompile(`MYNAHIL_[A-Z0-9_]*[A-Z0-9]`)

// internalEnv are variables the code sets for itself (re-exec markers of a
// test or a script), which users never set: the docs need not name them.
var internalEnv = map[string]string{
	"MYNAHIL_PCSCD_NAMESPACE":   "with-pcscd's marker that it runs inside its own namespaces",
	"MYNAHIL_SYSTEM_PCSCD_NS":   "scripts/with-system-pcscd's marker that it runs inside its own namespaces",
	"MYNAHIL_TEST_PROMPT_CHILD": "harness/target's test re-running itself under a terminal",
	"MYNAHIL_TEST_RUN_AS_CLI":   "cmd/mynahil's test re-running its binary as the CLI",
	"MYNAHIL_INTEROP_PIN":       "package interop handing a PIN to the OpenSC tool it starts",
}

// codeEnv returns the MYNAHIL_* variables the code names, each with one
// place that names it: string literals of every Go file, and the scripts
// and the Makefile.
func codeEnv(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{}
	add := func(name, where string) {
		if _, ok := vars[name]; !ok {
			vars[name] = where
		}
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && p != root || d.Name() == "testdata" || d.Name() == "reports") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				for _, name := range envRE.FindAllString(lit.Value, -1) {
					pos := fset.Position(lit.Pos())
					add(name, fmt.Sprintf("%s:%d", rel(pos.Filename), pos.Line))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob(filepath.Join(root, "scripts", "*"))
	for _, p := range append(scripts, filepath.Join(root, "Makefile")) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			for _, name := range envRE.FindAllString(l, -1) {
				add(name, fmt.Sprintf("%s:%d", rel(p), i+1))
			}
		}
	}
	return vars
}

// docsEnv returns the MYNAHIL_* variables the docs name, each with the
// first place that names it.
func docsEnv(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			for _, name := range envRE.FindAllString(l, -1) {
				if _, ok := vars[name]; !ok {
					vars[name] = fmt.Sprintf("%s:%d", f, i+1)
				}
			}
		}
	}
	return vars
}

func TestDocsNameOnlyVariablesThatExist(t *testing.T) {
	code := codeEnv(t)
	for _, name := range sortedKeys(docsEnv(t)) {
		if _, ok := code[name]; !ok {
			t.Errorf("%s: %s: no code or script reads this variable", docsEnv(t)[name], name)
		}
	}
}

func TestDocsNameEveryVariableTheCodeReads(t *testing.T) {
	code, docs := codeEnv(t), docsEnv(t)
	for _, name := range sortedKeys(code) {
		_, documented := docs[name]
		_, internal := internalEnv[name]
		if !documented && !internal {
			t.Errorf("%s: %s is read here but no document names it (docs/cli.md lists the variables)", code[name], name)
		}
	}
	for name := range internalEnv {
		if _, ok := code[name]; !ok {
			t.Errorf("docs_test.go: internalEnv lists %s, which the code no longer names", name)
		}
	}
}

// --- exit codes ---

// exitCodes returns the exit codes the CLI defines: the Exit* constants of
// packages cli and conformance.
func exitCodes(t *testing.T) map[int]string {
	t.Helper()
	codes := map[int]string{}
	for _, dir := range []string{"cli", "conformance"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, p := range files {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				collectExitConsts(decl, dir, codes)
			}
		}
	}
	if len(codes) < 4 {
		t.Fatalf("found only exit codes %v in cli and conformance; the parser is broken", codes)
	}
	return codes
}

func collectExitConsts(decl ast.Decl, pkg string, codes map[int]string) {
	gd, ok := decl.(*ast.GenDecl)
	if !ok || gd.Tok != token.CONST {
		return
	}
	for _, spec := range gd.Specs {
		vs := spec.(*ast.ValueSpec)
		for i, name := range vs.Names {
			if !strings.HasPrefix(name.Name, "Exit") || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.INT {
				continue
			}
			if n, ok := constant.Int64Val(constant.MakeFromLiteral(lit.Value, lit.Kind, 0)); ok {
				if _, dup := codes[int(n)]; !dup {
					codes[int(n)] = pkg + "." + name.Name
				}
			}
		}
	}
}

// exitRE finds "exit 3", "exits 1", "Exit code 2", "(exit 3)" and the
// numbers listed after it in the same clause: "Exit 0 conformant, 1 not
// conformant, 3 could not run".
var (
	exitRE     = regexp.MustCompile(`\b[Ee]xit(?:s|ed|ing)?(?: codes?| status)?:? (\d+)\b([^.;:()]*)`)
	exitMoreRE = regexp.MustCompile(`(?:, |,? or )(\d+)\b`)
	unitRE     = regexp.MustCompile(`^\s*(?:s|ms|min|seconds?|minutes?|%)\b`)
)

// namedExitCodes returns the exit codes a line of prose names.
func namedExitCodes(line string) []int {
	var out []int
	for _, m := range exitRE.FindAllStringSubmatchIndex(line, -1) {
		first, rest := line[m[2]:m[3]], line[m[4]:m[5]]
		if unitRE.MatchString(line[m[3]:]) {
			continue // "exits 60 s after its last client": a duration
		}
		n, _ := strconv.Atoi(first)
		out = append(out, n)
		for _, mm := range exitMoreRE.FindAllStringSubmatchIndex(rest, -1) {
			if unitRE.MatchString(rest[mm[3]:]) {
				continue
			}
			n, _ := strconv.Atoi(rest[mm[2]:mm[3]])
			out = append(out, n)
		}
	}
	return out
}

var exitRowRE = regexp.MustCompile(`^\|\s*(\d+)\s*\|`)

func TestDocsNameOnlyExitCodesThatExist(t *testing.T) {
	codes := exitCodes(t)
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		inTable := false
		tabled := map[int]bool{}
		for i, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "#") {
				inTable = strings.Contains(l, "Exit codes")
			}
			var named []int
			if m := exitRowRE.FindStringSubmatch(l); inTable && m != nil {
				n, _ := strconv.Atoi(m[1])
				named, tabled[n] = append(named, n), true
			}
			for _, n := range append(named, namedExitCodes(l)...) {
				if _, ok := codes[n]; !ok {
					t.Errorf("%s:%d: exit code %d: mynahil has no such exit code (the Exit* constants of cli and conformance: %v)", f, i+1, n, codes)
				}
			}
		}
		if f != "docs/cli.md" {
			continue
		}
		for n, name := range codes {
			if !tabled[n] {
				t.Errorf("docs/cli.md: the exit-code table has no row for %d (%s)", n, name)
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func makeTempDir() (string, error) { return os.MkdirTemp("", "mynahil-docs-") }

// TestSuitesTableListsEverySuite: docs/suites.md's table names every suite
// of scenarios/ (a directory with a *_suite_test.go).
func TestSuitesTableListsEverySuite(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "suites.md"))
	if err != nil {
		t.Fatal(err)
	}
	suites, err := filepath.Glob(filepath.Join(root, "scenarios", "*", "*_suite_test.go"))
	if err != nil || len(suites) == 0 {
		t.Fatalf("no suites found under scenarios/ (%v)", err)
	}
	for _, s := range suites {
		dir := filepath.ToSlash(rel(filepath.Dir(s)))
		if !strings.Contains(string(b), "| `"+dir+"` |") {
			t.Errorf("docs/suites.md: the suites table has no row for %s", dir)
		}
	}
}

var (
	makeDefaultRE = regexp.MustCompile(`^([A-Z][A-Z0-9_]*) \?= (\S+)$`)
	docDefaultRE  = regexp.MustCompile("default:? `?([^`;,)\\s]+)")
)

// TestDocsGiveTheMakefilesDefaults: where a document gives the default of
// a make variable (FUZZTIME, REPORTS, ...), it is the Makefile's.
func TestDocsGiveTheMakefilesDefaults(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		if m := makeDefaultRE.FindStringSubmatch(l); m != nil && !strings.Contains(m[2], "$") {
			defaults[m[1]] = m[2]
		}
	}
	if defaults["FUZZTIME"] == "" {
		t.Fatalf("Makefile: no FUZZTIME ?= default found; the parser is broken (%v)", defaults)
	}
	for _, f := range docFiles(t) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(b), "\n") {
			for name, want := range defaults {
				if !strings.Contains(l, "`"+name+"`") && !strings.Contains(l, name+" ") {
					continue
				}
				for _, m := range docDefaultRE.FindAllStringSubmatch(l, -1) {
					if got := strings.TrimRight(m[1], "."); got != want {
						t.Errorf("%s:%d: gives %s's default as %q; the Makefile's is %q", f, i+1, name, got, want)
					}
				}
			}
		}
	}
}
