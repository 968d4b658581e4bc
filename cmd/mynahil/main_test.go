package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simcard/office"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// singleDashFlag finds a flag list or usage spelling a flag -name.
var singleDashFlag = regexp.MustCompile(`(?m)(^\s+|\[)-[a-z][a-z-]+`)

// TestHelpOnStdout: every help is on stdout with exit 0, spells flags
// --name, and a sub-command's help shows that sub-command only.
func TestHelpOnStdout(t *testing.T) {
	for _, tt := range []struct {
		args        []string
		want, avoid []string
	}{
		{[]string{"-h"}, []string{"Commands:", "office", "sim", "version"}, nil},
		{[]string{"help"}, []string{"Commands:"}, nil},
		{[]string{"help", "sim", "list"}, []string{"Usage: mynahil sim list"}, []string{"--profile"}},
		{[]string{"sim", "-h"}, []string{"--profile", "1234", "SIGN2026", "wait"}, nil},
		{[]string{"sim", "list", "-h"}, []string{"Usage: mynahil sim list", "--state"}, []string{"--profile", "--vpcd"}},
		{[]string{"sim", "wait", "--help"}, []string{"--timeout"}, []string{"--profile"}},
		{[]string{"office", "-h"}, []string{"renew", "reset-pin"}, []string{"Flags:"}},
		{[]string{"office", "renew", "-h"}, []string{"--new-pins", "--card"}, []string{"--kind", "--profile", "--inquiry"}},
		{[]string{"readers", "-h"}, []string{"--fingerprint"}, nil},
		{[]string{"conformance", "-h"}, []string{"--reader", "incomplete"}, nil},
		{[]string{"version", "-h"}, []string{"Usage: mynahil version"}, nil},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q; want 0 and nothing on stderr", code, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("help lacks %q:\n%s", w, out)
				}
			}
			for _, a := range tt.avoid {
				if strings.Contains(out, a) {
					t.Errorf("help shows %q, which belongs to another command:\n%s", a, out)
				}
			}
			if m := singleDashFlag.FindString(out); m != "" && !strings.Contains(m, "-h") {
				t.Errorf("help spells a flag with one dash (%q):\n%s", m, out)
			}
		})
	}
}

// TestUsageErrors: an unknown flag or command prints the error once and
// how to get help, on stderr, and exits 2.
func TestUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
		help string
	}{
		{[]string{"sim", "list", "--bogus"}, "unknown flag --bogus", "mynahil sim list -h"},
		{[]string{"office", "renew", "--kind", "auth"}, "unknown flag --kind", "mynahil office renew -h"},
		{[]string{"office", "renew"}, "--card is required", "mynahil office renew -h"},
		{[]string{"office", "frobnicate"}, `unknown command "frobnicate"`, "mynahil office -h"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "mynahil -h"},
		{[]string{"sim", "insert"}, "--card ID, --slot N or --all", "mynahil sim insert -h"},
		{[]string{"sim", "wait", "--timeout", "soon"}, "invalid value", "mynahil sim wait -h"},
		{[]string{"office", "time", "--set", "notadate"}, `--set: time "notadate"`, "mynahil office time -h"},
		{[]string{"office", "time", "--advance", "5x"}, `--advance "5x"`, "mynahil office time -h"},
		{[]string{"sim", "insert", "--slot", "-3"}, "--slot -3", "mynahil sim insert -h"},
		{[]string{"sim", "remove", "--slot", "one"}, "invalid value", "mynahil sim remove -h"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != cli.ExitUsage {
				t.Errorf("exit %d, want %d", code, cli.ExitUsage)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if strings.Count(errOut, tt.msg) != 1 || !strings.Contains(errOut, "Run '"+tt.help+"' for usage.") {
				t.Errorf("stderr:\n%s\nwant %q once and how to get help (%s)", errOut, tt.msg, tt.help)
			}
			if n := strings.Count(errOut, "\n"); n > 3 {
				t.Errorf("stderr has %d lines, want the error and the hint only:\n%s", n, errOut)
			}
		})
	}
}

// TestExitCodesAndJSONErrors: each class of failure has its exit code, and
// with --json the error is one JSON object on stdout with that code.
func TestExitCodesAndJSONErrors(t *testing.T) {
	addr, _, _ := startOffice(t)
	noSim := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		code int
		rule string
		msg  string
	}{
		{"office refusal", []string{"office", "status", "--control", addr, "--card", "card-9"}, cli.ExitFailed, office.RuleUnknownCard, "card-9"},
		{"usage", []string{"office", "status", "--control", addr}, cli.ExitUsage, "", "--card is required"},
		{"sim not running", []string{"sim", "list", "--state", noSim}, cli.ExitEnv, "", "state directory " + noSim},
		{"sim wait times out", []string{"sim", "wait", "--state", noSim, "--timeout", "300ms"}, cli.ExitEnv, "", "no sim answers on unix:" + noSim},
		{"sim not running, office", []string{"office", "cards", "--state", filepath.Join(noSim, "x")}, cli.ExitEnv, "", "state directory " + filepath.Join(noSim, "x")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, the error naming %q on stderr", code, out, errOut, tt.code, tt.msg)
			}
			code, out, errOut = runCLI(t, append(tt.args, "--json")...)
			var got struct {
				Error string `json:"error"`
				Code  int    `json:"code"`
				Rule  string `json:"rule"`
			}
			dec := json.NewDecoder(strings.NewReader(out))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil || dec.More() {
				t.Fatalf("--json: stdout %q is not one JSON error object (%v)", out, err)
			}
			if code != tt.code || got.Code != tt.code || got.Rule != tt.rule || !strings.Contains(got.Error, tt.msg) || errOut != "" {
				t.Errorf("--json: exit %d, %+v, stderr %q; want code %d, rule %q, error naming %q, nothing on stderr", code, got, errOut, tt.code, tt.rule, tt.msg)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || !strings.HasPrefix(out, "mynahil ") || !strings.Contains(out, "go1.") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	code, out, _ := runCLI(t, "version", "--json")
	var bi cli.BuildInfo
	if err := json.Unmarshal([]byte(out), &bi); err != nil || code != 0 || bi.Module != "github.com/mynahil/mynahil" {
		t.Errorf("version --json: exit %d, %q (%v)", code, out, err)
	}
}

// TestJSONAnywhere: --json before the command's name, between its flags or
// after a positional argument gives the same JSON; after "--" it is
// another program's.
func TestJSONAnywhere(t *testing.T) {
	addr, _, _ := startOffice(t)
	_, want, _ := runCLI(t, "office", "cards", "--control", addr, "--json")
	if !json.Valid([]byte(want)) {
		t.Fatalf("office cards --json: %q is not JSON", want)
	}
	for _, args := range [][]string{
		{"--json", "office", "cards", "--control", addr},
		{"office", "--json", "cards", "--control", addr},
		{"office", "cards", "--json", "--control", addr},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 0 and %q", args, code, out, errOut, want)
		}
	}
	// After a positional argument: the error is JSON too.
	code, out, _ := runCLI(t, "compare", filepath.Join(t.TempDir(), "none.json"), "--json")
	var e struct{ Code int }
	if err := json.Unmarshal([]byte(out), &e); err != nil || code == 0 || e.Code != code {
		t.Errorf("compare FILE --json: exit %d, stdout %q; want one JSON error with the exit code", code, out)
	}
	code, out, _ = runCLI(t, "--json", "version")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("--json version: exit %d, %q; want JSON", code, out)
	}
}

// placeholderRE is what a flag's help may show for its value: a
// placeholder in capitals (DIR, N, ADDR) or Go's type names.
var placeholderRE = regexp.MustCompile(`^(?:[A-Z][A-Z0-9:_-]*|string|int|duration|float|uint)$`)

// TestHelpPlaceholders: every flag of every command shows a placeholder
// for its value, never a phrase or a default the user should not type
// ("--slot N (default -1)").
func TestHelpPlaceholders(t *testing.T) {
	var walk func(path []string, c *cli.Command)
	walk = func(path []string, c *cli.Command) {
		for _, s := range c.Subs {
			walk(append(append([]string(nil), path...), s.Name), s)
		}
		if c.Run == nil {
			return
		}
		code, out, _ := runCLI(t, append(path, "-h")...)
		if code != 0 {
			t.Errorf("mynahil %s -h: exit %d", strings.Join(path, " "), code)
			return
		}
		_, flags, _ := strings.Cut(out, "\nFlags:\n")
		for _, l := range strings.Split(flags, "\n") {
			f := strings.Fields(l)
			if !strings.HasPrefix(l, "  --") || len(f) < 2 {
				if strings.Contains(l, "(default -") {
					t.Errorf("mynahil %s -h: a negative default %q", strings.Join(path, " "), l)
				}
				continue
			}
			if len(f) > 2 || !placeholderRE.MatchString(f[1]) {
				t.Errorf("mynahil %s -h: flag line %q: want --name PLACEHOLDER", strings.Join(path, " "), l)
			}
		}
	}
	for _, c := range commands {
		walk([]string{c.Name}, c)
	}
}

// TestSimFlagUsageErrors: an unknown --timing profile and a --relying-party
// address that is not loopback with a fixed port are usage errors of
// 'mynahil sim' (exit 2), found before anything starts.
func TestSimFlagUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--timing", "warp"}, `unknown timing profile "warp"`},
		{[]string{"--relying-party", "0.0.0.0:8080"}, "refusing non-loopback host"},
		{[]string{"--relying-party", "127.0.0.1:0"}, "want a fixed port"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			args := append([]string{"sim", "--state", t.TempDir(), "--vpcd", "127.0.0.1:1", "--control", "tcp:127.0.0.1:0"}, tt.args...)
			code, _, errOut := runCLI(t, args...)
			if code != cli.ExitUsage || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", code, errOut, cli.ExitUsage, tt.msg)
			}
		})
	}
}
