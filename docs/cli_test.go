package docs

// The mynahil commands and flags the docs name, checked against the built
// CLI's own help: a word after a command is a sub-command when
// 'mynahil PATH WORD -h' prints the help of "mynahil PATH WORD"; a flag is
// one the command's help lists under "Flags:".

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// cliHelp runs the built mynahil's help for command paths, remembering
// the answers.
type cliHelp struct {
	bin   string
	mu    sync.Mutex
	cache map[string]*command
}

// command is what a command's help says: whether it exists, its
// sub-commands (a "Commands" section) and its flags.
type command struct {
	exists  bool
	hasSubs bool
	flags   map[string]bool
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildOut  []byte
)

// buildCLI builds cmd/mynahil once per test binary.
func buildCLI(t *testing.T) *cliHelp {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := makeTempDir()
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "mynahil")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/mynahil")
		cmd.Dir = root
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building cmd/mynahil: %v\n%s", buildErr, buildOut)
	}
	return &cliHelp{bin: builtBin, cache: map[string]*command{}}
}

var flagLineRE = regexp.MustCompile(`^  --?([A-Za-z0-9][A-Za-z0-9-]*)`)

// lookup returns what 'mynahil PATH -h' says about the command PATH.
func (h *cliHelp) lookup(path []string) *command {
	key := strings.Join(path, " ")
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.cache[key]; ok {
		return c
	}
	var out bytes.Buffer
	cmd := exec.Command(h.bin, append(append([]string(nil), path...), "-h")...)
	cmd.Stdout = &out
	err := cmd.Run()
	c := &command{flags: map[string]bool{}}
	usage := strings.TrimSpace("Usage: mynahil " + key)
	help := out.String()
	c.exists = err == nil && (strings.Contains(help, usage+" ") || strings.Contains(help, usage+"\n"))
	if c.exists {
		inFlags := false
		for _, l := range strings.Split(help, "\n") {
			switch {
			case strings.HasPrefix(l, "Commands"):
				c.hasSubs = true
			case l == "Flags:":
				inFlags = true
			case inFlags:
				if m := flagLineRE.FindStringSubmatch(l); m != nil {
					c.flags[m[1]] = true
				}
			}
		}
	}
	h.cache[key] = c
	return c
}

// globalFlags are accepted by every command: help, and --json anywhere
// (docs/cli.md).
var globalFlags = map[string]bool{"h": true, "help": true, "json": true}

// invocationRE finds "mynahil ARGS" in a snippet: bin/mynahil, ./cmd/mynahil
// and a bare mynahil alike, but not a path inside the module name.
var invocationRE = regexp.MustCompile(`(?:^|[\s(;&|"'$])(?:[\w./-]*/)?mynahil((?:\s+[^\s|;&#)>]+)*)`)

// endToken ends an invocation's arguments.
func endToken(w string) bool {
	return strings.ContainsAny(w[:1], "|;&#)><`") || strings.HasPrefix(w, "2>")
}

// placeholder is a word the docs write for a value: <name>, …, ID.
func placeholder(w string) bool {
	return strings.ContainsAny(w, "<>…[]") || w == "..." || strings.ToUpper(w) == w
}

// checkInvocation checks the words after "mynahil": the command path and
// every flag. It returns the problems, each naming what does not exist.
func (h *cliHelp) checkInvocation(words []string) []string {
	var path []string
	if len(words) > 0 && words[0] == "help" {
		words = words[1:]
	}
	cmd := h.lookup(nil)
	var problems []string
	flagsSeen := false
	for _, w := range words {
		if endToken(w) || strings.HasSuffix(w, ":") || strings.Contains(w, "$(") {
			break // the end, a message the command printed ("mynahil sim list: …"), or "$(…)" whose end the snippet cut
		}
		if t := strings.Trim(w, "[]"); t != w {
			if !strings.HasPrefix(t, "-") {
				continue // an optional value or "[flags]"
			}
			w = t // an optional flag: [--out DIR]
		}
		quoted := strings.TrimRight(w, "'\"")
		last := quoted != w // the end of a quoted command: "Run 'mynahil sim -h' for usage."
		w = quoted
		if strings.HasPrefix(w, "-") && len(w) > 1 {
			if w == "--" {
				break // the rest belongs to another program ('sim -- CMD')
			}
			flagsSeen = true
			for _, f := range strings.Split(w, "/") { // --set/--advance
				name, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
				if !(len(path) == 0 && name == "version") && !cmd.flags[name] && !globalFlags[name] {
					problems = append(problems, "'mynahil "+strings.Join(path, " ")+"' has no flag --"+name)
				}
			}
			if last {
				break
			}
			continue
		}
		if flagsSeen || !cmd.hasSubs || placeholder(w) {
			continue // a flag's value or a positional argument
		}
		next := h.lookup(append(append([]string(nil), path...), w))
		if !next.exists {
			problems = append(problems, "'mynahil "+strings.Join(append(path, w), " ")+"' is not a command")
			break
		}
		path, cmd = append(path, w), next
		if last {
			break
		}
	}
	return problems
}

func TestDocsNameOnlyCommandsAndFlagsThatExist(t *testing.T) {
	h := buildCLI(t)
	if !h.lookup([]string{"sim"}).exists || !h.lookup([]string{"sim"}).flags["state"] {
		t.Fatalf("reading the CLI's help is broken: 'mynahil sim -h' gives %+v", h.lookup([]string{"sim"}))
	}
	for _, s := range allSnippets(t) {
		for _, m := range invocationRE.FindAllStringSubmatch(s.text, -1) {
			for _, p := range h.checkInvocation(strings.Fields(m[1])) {
				t.Errorf("%s: `mynahil%s`: %s", s, m[1], p)
			}
		}
	}
}

var (
	rowRE       = regexp.MustCompile(`^\|((?:[^|\\]|\\.)*)\|`) // the first cell; \| inside it
	tableHeadRE = regexp.MustCompile("^\\|\\s*`mynahil ([a-z-]+)")
)

// tableInvocations finds the commands of a table whose first row starts
// with "`mynahil CMD …`": the code spans of the other rows' first cells
// are sub-commands of CMD ("| `renew --card ID [--new-pins]` | …").
func tableInvocations(t *testing.T, file string) []snippet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	var out []snippet
	parent := ""
	for i, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "|") {
			parent = ""
			continue
		}
		if m := tableHeadRE.FindStringSubmatch(l); m != nil && parent == "" {
			parent = m[1]
		}
		m := rowRE.FindStringSubmatch(l)
		if parent == "" || m == nil {
			continue
		}
		for _, span := range spanRE.FindAllString(m[1], -1) {
			code := strings.Trim(span, "`")
			if !strings.HasPrefix(code, "mynahil ") {
				code = "mynahil " + parent + " " + code
			}
			out = append(out, snippet{file, i + 1, code})
		}
	}
	return out
}

func TestDocsTablesNameOnlyCommandsThatExist(t *testing.T) {
	h := buildCLI(t)
	n := 0
	for _, f := range docFiles(t) {
		for _, s := range tableInvocations(t, f) {
			n++
			words := strings.Fields(strings.TrimPrefix(s.text, "mynahil "))
			for _, p := range h.checkInvocation(words) {
				t.Errorf("%s: `%s`: %s", s, s.text, p)
			}
		}
	}
	if n < 10 {
		t.Errorf("found only %d commands in tables; the office table of docs/cli.md has more: the parser is broken", n)
	}
}
