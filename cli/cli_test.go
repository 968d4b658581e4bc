package cli

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errHelpShown, ExitOK},
		{errors.New("plain"), ExitFailed},
		{Usagef("bad"), ExitUsage},
		{Envf("no pcscd"), ExitEnv},
		{fmt.Errorf("wrapped: %w", Env(errors.New("x"))), ExitEnv},
		{WithCode(4, errors.New("incomplete")), 4},
	} {
		if got := Code(tt.err); got != tt.want {
			t.Errorf("Code(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if WithCode(3, nil) != nil {
		t.Error("WithCode(3, nil) is not nil")
	}
}

func TestWantsJSON(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"sim", "list", "--json"}, true},
		{[]string{"sim", "list", "-json"}, true},
		{[]string{"sim", "list", "--json=true"}, true},
		{[]string{"sim", "list"}, false},
		{[]string{"sim", "call", "--", "--json"}, false},
	} {
		if got := wantsJSON(tt.args); got != tt.want {
			t.Errorf("wantsJSON(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestBuildInfo(t *testing.T) {
	bi := fromBuildInfo(&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/mynahil/mynahil", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-28T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}})
	if got, want := bi.String(), "v1.2.3 commit abc123 (2026-11-28T00:00:00Z, modified) go1.26.8"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	commit = "fromldflags"
	defer func() { commit = "" }()
	if got := fromBuildInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); got.Commit != "fromldflags" {
		t.Errorf("without vcs stamping the commit is %q, want the -ldflags one", got.Commit)
	}
}

func TestFlagHelp(t *testing.T) {
	fs := NewFlagSet("prog sub", "Usage: prog sub [--n N]")
	fs.Int("n", 3, "how many `N`")
	fs.String("name", "x", "a name")
	fs.Bool("v", false, "verbose")
	var out bytes.Buffer
	err := fs.Parse(&IO{Stdout: &out}, []string{"-h"})
	if Code(err) != ExitOK {
		t.Fatalf("-h: %v", err)
	}
	want := "Usage: prog sub [--n N]\n\nFlags:\n  --n N\n        how many N (default 3)\n  --name string\n        a name (default \"x\")\n  --v\n        verbose\n"
	if out.String() != want {
		t.Errorf("help:\n%s\nwant:\n%s", out.String(), want)
	}
	err = fs.Parse(&IO{Stdout: &out}, []string{"--nope"})
	var e *Error
	if !errors.As(err, &e) || e.Code != ExitUsage || e.help != "prog sub" || !strings.Contains(err.Error(), "unknown flag --nope") {
		t.Errorf("unknown flag: %#v", err)
	}
}
