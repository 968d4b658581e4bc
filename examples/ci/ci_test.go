// Package ci holds the CI recipes users copy (README.md, "CI recipes"): a
// GitHub Actions workflow, a GitLab CI job and a Dockerfile, each on
// Debian 12. Its test extracts their shell steps and runs them in this
// checkout, so that they cannot rot.
package ci

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// root is the checkout the recipes run in (their checkout step, or COPY).
const root = "../.."

// recipe is one file's shell steps, in order.
type recipe struct {
	file  string
	steps []string
}

var (
	runRE     = regexp.MustCompile(`^\s*(?:-\s+)?run:\s*(.*)$`)
	keyRE     = regexp.MustCompile(`^(\s*)([a-z_]+):\s*$`)
	itemRE    = regexp.MustCompile(`^(\s*)-\s+(.*)$`)
	checkout  = regexp.MustCompile(`^\s*-?\s*uses:\s*actions/checkout@`)
	dockerRE  = regexp.MustCompile(`^(RUN|ENTRYPOINT|CMD|FROM|WORKDIR|COPY)\s+(.*)$`)
	installRE = regexp.MustCompile(`apt-get\s+install\s+(.*)$`)
)

// githubSteps returns the workflow's run: steps (a "run: |" block joined),
// and whether it checks the repository out.
func githubSteps(t *testing.T, text string) (steps []string, checksOut bool) {
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		if checkout.MatchString(lines[i]) {
			checksOut = true
		}
		m := runRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		if v := strings.TrimSpace(m[1]); v != "|" && v != ">" {
			steps = append(steps, v)
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		var block []string
		for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent) {
			i++
			block = append(block, strings.TrimSpace(lines[i]))
		}
		steps = append(steps, strings.Join(block, "\n"))
	}
	return steps, checksOut
}

// gitlabSteps returns the items of before_script and script, in that order.
func gitlabSteps(text string) []string {
	lists := map[string][]string{}
	key, keyIndent := "", -1
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") || strings.TrimSpace(l) == "" {
			continue
		}
		if m := keyRE.FindStringSubmatch(l); m != nil {
			key, keyIndent = m[2], len(m[1])
			continue
		}
		if m := itemRE.FindStringSubmatch(l); m != nil && len(m[1]) > keyIndent {
			lists[key] = append(lists[key], strings.TrimSpace(m[2]))
			continue
		}
		key = ""
	}
	return append(lists["before_script"], lists["script"]...)
}

// dockerSteps returns the RUN lines (continuations joined) and the
// container's command, ENTRYPOINT followed by CMD.
func dockerSteps(t *testing.T, text string) []string {
	var steps, entry, cmd []string
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, l := range strings.Split(text, "\n") {
		m := dockerRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		switch m[1] {
		case "RUN":
			steps = append(steps, m[2])
		case "ENTRYPOINT", "CMD":
			var argv []string
			if err := json.Unmarshal([]byte(m[2]), &argv); err != nil {
				t.Fatalf("Dockerfile: %s %s: want the JSON form: %v", m[1], m[2], err)
			}
			if m[1] == "ENTRYPOINT" {
				entry = argv
			} else {
				cmd = argv
			}
		}
	}
	if argv := append(entry, cmd...); len(argv) > 0 {
		steps = append(steps, shellQuote(argv))
	}
	return steps
}

var safeWord = regexp.MustCompile(`^[A-Za-z0-9_./=:-]+$`)

func shellQuote(argv []string) string {
	var q []string
	for _, a := range argv {
		if safeWord.MatchString(a) {
			q = append(q, a)
		} else {
			q = append(q, "'"+strings.ReplaceAll(a, "'", `'\''`)+"'")
		}
	}
	return strings.Join(q, " ")
}

func recipes(t *testing.T) []recipe {
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gh, checksOut := githubSteps(t, read("github-actions.yml"))
	if !checksOut {
		t.Error("github-actions.yml: no actions/checkout step: the other steps need the checkout")
	}
	rs := []recipe{
		{"github-actions.yml", gh},
		{"gitlab-ci.yml", gitlabSteps(read("gitlab-ci.yml"))},
		{"Dockerfile", dockerSteps(t, read("Dockerfile"))},
	}
	for _, r := range rs {
		if len(r.steps) < 3 {
			t.Fatalf("%s: found only %d shell steps %q; the recipe or its parser changed", r.file, len(r.steps), r.steps)
		}
	}
	return rs
}

// TestRecipesParse: the extraction finds the steps the recipes hold.
func TestRecipesParse(t *testing.T) {
	for _, r := range recipes(t) {
		joined := strings.Join(r.steps, "\n")
		for _, want := range []string{"apt-get install", "make build", "bin/mynahil sim"} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: no step with %q among %q", r.file, want, r.steps)
			}
		}
	}
}

// installed checks an apt-get install step without running it (it would
// change this machine): every package it names must be installed here, as
// the step leaves a fresh Debian 12; else the test cannot stand for a
// fresh container and skips, naming the package.
func installed(t *testing.T, file, step string) {
	m := installRE.FindStringSubmatch(step)
	if m == nil {
		return
	}
	for _, p := range strings.Fields(m[1]) {
		if strings.HasPrefix(p, "-") {
			continue
		}
		if err := exec.Command("dpkg", "-s", p).Run(); err != nil {
			t.Skipf("%s: package %s of the install step is not installed here, so the later steps would not stand for the recipe", file, p)
		}
	}
}

// TestRecipesRun runs every recipe's shell steps in this checkout, in a
// private pcscd and namespaces (scripts/with-pcscd --isolate), as the CI
// runner or the container would: each must exit 0. A step shared by
// several recipes runs once. apt-get steps are checked, not run.
func TestRecipesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs pcscd")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the steps run in namespaces of their own (scripts/with-pcscd --isolate)")
	}
	var script []string
	seen := map[string]bool{}
	for _, r := range recipes(t) {
		for _, s := range r.steps {
			if strings.Contains(s, "apt-get") {
				installed(t, r.file, s)
				continue
			}
			if !seen[s] {
				seen[s] = true
				script = append(script, "echo '== "+strings.ReplaceAll(s, "'", "")+"'", s)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "scripts/with-pcscd", "--isolate", "--", "bash", "-e", "-c", strings.Join(script, "\n"))
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MYNAHIL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "MYNAHIL_NO_PROMPT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	state := filepath.Join(root, "mynahil-state")
	if _, err := os.Stat(state); err == nil {
		t.Fatalf("%s exists before the run: move it aside, the test checks that the steps leave none", state)
	}
	defer func() {
		if _, err := os.Stat(state); err == nil {
			t.Errorf("a step left the sim's state directory (its keys) in the checkout: give the sim --state outside it")
		}
	}()
	if err := cmd.Run(); err != nil {
		t.Fatalf("the recipes' steps failed: %v\n--- steps\n%s\n--- output\n%s", err, strings.Join(script, "\n"), out.String())
	}
	if !strings.Contains(out.String(), "User Authentication Certificate") {
		t.Errorf("the client step did not read the card's certificates:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(root, "sim.log")); err == nil {
		t.Error("a step left sim.log in the checkout")
	}
}
