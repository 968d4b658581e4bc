// Package quickstart runs the README's quick starts as written, one per
// audience: a CI pipeline, a reader maker, and a QA team with a physical
// card — the simulated card in "Virtual PCD 00 00" standing in for it.
package quickstart

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// root is the checkout the quick starts run in.
const root = "../.."

var blockRE = regexp.MustCompile("(?s)<!-- quickstart: ([a-z]+) -->\n```sh\n(.*?)```")

// quickstarts returns the README's quick-start blocks by name.
func quickstarts(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range blockRE.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	for _, name := range []string{"ci", "reader", "physical"} {
		if out[name] == "" {
			t.Fatalf("README.md has no quick start %q", name)
		}
	}
	return out
}

// env is the environment a new user has: no MYNAHIL_* settings of the
// test run, no prompts.
func env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MYNAHIL_") {
			out = append(out, kv)
		}
	}
	return append(append(out, "MYNAHIL_NO_PROMPT=1"), extra...)
}

// bash runs a quick start in a pcscd and namespaces of its own
// (scripts/with-pcscd --isolate; docs/vpcd-pcscd.md §6.4): the sim it starts
// then has the vpcd slots to itself, as on the user's machine, while other
// test processes of 'make test' hold theirs. The quick start's own
// scripts/with-pcscd reuses that pcscd.
func bash(t *testing.T, ctx context.Context, script string, extra ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, "scripts/with-pcscd", "--isolate", "--", "bash", "-e", "-c", script)
	cmd.Dir = root
	cmd.Env = env(extra...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("quick start failed: %v\n--- script\n%s\n--- output\n%s", err, script, out.String())
	}
	return out.String()
}

// untracked lists files git does not know (ignored ones left out).
func untracked(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=all").Output()
	if err != nil {
		t.Skipf("no git checkout: %v", err)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "??") {
			m[l] = true
		}
	}
	return m
}

func TestQuickStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs pcscd")
	}
	qs := quickstarts(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root: the quick starts run in namespaces of their own (scripts/with-pcscd --isolate)")
	}
	before := untracked(t)
	defer func() {
		for l := range untracked(t) {
			if !before[l] {
				t.Errorf("the quick starts left %s in the checkout", l)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "mynahil-state")); err == nil && !before["?? mynahil-state/"] {
			t.Errorf("a state directory appeared in the checkout")
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	t.Run("ci", func(t *testing.T) {
		out := bash(t, ctx, qs["ci"])
		if !strings.Contains(out, "User Authentication Certificate") {
			t.Errorf("the client did not read the card's certificates:\n%s", out)
		}
	})
	t.Run("reader", func(t *testing.T) {
		bash(t, ctx, qs["reader"])
		if _, err := os.Stat(filepath.Join(root, "reports/virtual-reader/report.html")); err != nil {
			t.Errorf("no conformance report: %v", err)
		}
	})
	t.Run("physical", func(t *testing.T) {
		script := strings.Replace(qs["physical"], `READER="ACS ACR39U"`, `READER="Virtual PCD 00 00"`, 1)
		if script == qs["physical"] {
			t.Fatal(`the physical quick start no longer names its reader as READER="ACS ACR39U"`)
		}
		// The simulated card stands in for the physical one: 'mynahil sim --
		// CMD' serves it in "Virtual PCD 00 00" of the same private pcscd
		// while the quick start runs.
		state := t.TempDir()
		out := bash(t, ctx, `make build >/dev/null
bin/mynahil sim --state `+state+` --log `+state+`/sim.log -- bash -e -c '`+strings.ReplaceAll(script, "'", `'\''`)+`'`)
		if !strings.Contains(out, "Virtual PCD 00 00") || !regexp.MustCompile(`[1-9]\d* passed, 0 failed`).MatchString(out) {
			t.Errorf("no specs passed on the stand-in card:\n%s", out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, `mynahil: the card in "Virtual PCD 00 00" is left with `) {
			t.Errorf("the run does not end with the card's state; last line %q", last)
		}
		for _, f := range []string{"physical-card-1.xml", "physical-card-1.json", "physical-card.html"} {
			if _, err := os.Stat(filepath.Join(root, "reports", f)); err != nil {
				t.Errorf("no report %s: %v", f, err)
			}
		}
	})
}
