package docs

// scripts/go-toolchain, which make deps runs (README.md, "Prerequisites"):
// a new enough go on PATH is used as it is, a fetched one is reused, and
// when none can be had it stops with one line saying why. The fetch itself
// (through the module proxy) is not run here: the tests are offline.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGo writes a go command into dir that reports version v and runs
// nothing else.
func fakeGo(t *testing.T, dir, v string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "go")
	script := "#!/bin/sh\nif [ \"$1\" = env ] && [ \"$2\" = GOVERSION ]; then echo " + v + "; exit 0; fi\nif [ \"$1\" = env ] && [ \"$2\" = GOPROXY ]; then echo off; exit 0; fi\necho fake go: no network >&2; exit 1\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// goToolchain runs the script with PATH holding only pathDir and the
// system's tools, and an empty cache unless the test filled it.
func goToolchain(t *testing.T, pathDir, cache string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(root, "scripts", "go-toolchain"), args...)
	cmd.Env = []string{"PATH=" + pathDir + ":/usr/bin:/bin", "HOME=" + t.TempDir(), "MYNAHIL_GO_CACHE=" + cache}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

func TestGoToolchain(t *testing.T) {
	t.Run("go on PATH new enough", func(t *testing.T) {
		dir := t.TempDir()
		want := fakeGo(t, dir, "go1.26.8")
		code, out, errOut := goToolchain(t, dir, t.TempDir())
		if code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %s", code, out, errOut, want)
		}
	})
	t.Run("too old, fetched before", func(t *testing.T) {
		dir, cache := t.TempDir(), t.TempDir()
		fakeGo(t, dir, "go1.19.8")
		want := fakeGo(t, filepath.Join(cache, "go1.26.8.linux-"+goarch(t), "bin"), "go1.26.8")
		code, out, errOut := goToolchain(t, dir, cache, "--find")
		if code != 0 || strings.TrimSpace(out) != want {
			t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the fetched %s", code, out, errOut, want)
		}
	})
	t.Run("too old, --find", func(t *testing.T) {
		dir := t.TempDir()
		fakeGo(t, dir, "go1.19.8")
		code, out, errOut := goToolchain(t, dir, t.TempDir(), "--find")
		oneLine(t, code, out, errOut, "no Go 1.26")
	})
	t.Run("too old, the proxy unreachable", func(t *testing.T) {
		dir := t.TempDir()
		fakeGo(t, dir, "go1.19.8")
		code, out, errOut := goToolchain(t, dir, t.TempDir())
		oneLine(t, code, out, errOut, "could not fetch golang.org/toolchain@v0.0.1-go1.26.8")
	})
}

// oneLine: exit 1, nothing on stdout, and the last line of stderr says
// why, naming what to do.
func oneLine(t *testing.T, code int, out, errOut, why string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if code != 1 || out != "" || !strings.HasPrefix(last, "go-toolchain: ") || !strings.Contains(last, why) {
		t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and one line saying %q", code, out, errOut, why)
	}
	if !strings.Contains(last, "make deps") && !strings.Contains(last, "https://go.dev/dl/") {
		t.Errorf("the line %q does not say what to do", last)
	}
}

func goarch(t *testing.T) string {
	out, err := exec.Command("uname", "-m").Output()
	if err != nil {
		t.Fatal(err)
	}
	switch a := strings.TrimSpace(string(out)); a {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	default:
		return a
	}
}
