package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/cli"
)

func TestRecordAndCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	android := filepath.Join(dir, "android.json")
	var out, errb bytes.Buffer
	noEnv := func(string) string { return "" }
	cio := &cli.IO{Stdout: &out, Stderr: &errb}
	if err := record(cio, []string{"--sim", "--token", "android", "--out", android}, noEnv); err != nil {
		t.Fatalf("record --sim: %v", err)
	}
	b, err := os.ReadFile(android)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "SIGN2026") || strings.Contains(string(b), "53 49 47 4E") {
		t.Fatal("the sign PIN is in the transcript")
	}
	if fi, _ := os.Stat(android); fi.Mode().Perm() != 0o600 {
		t.Errorf("transcript mode %v, want 0600", fi.Mode().Perm())
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"published answers, clean", []string{"../../simreplay/testdata/published-real-card.json"}, 0, "no differences"},
		{"android recording vs plastic card", []string{android}, 1, "3 differences"},
		{"android recording vs android", []string{"--token", "android", android}, 0, "no differences"},
		{"no transcript", nil, 2, ""},
		{"unknown token", []string{"--token", "pager", android}, 2, ""},
		{"missing file", []string{filepath.Join(dir, "none.json")}, 2, ""},
		{"help", []string{"-h"}, 0, "Usage: mynahil compare"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(append([]string{"compare"}, tt.args...), nil, &out, &errb); code != tt.code {
				t.Fatalf("exit %d, want %d; %s%s", code, tt.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Fatalf("stdout %q lacks %q", out.String(), tt.want)
			}
		})
	}
	out.Reset()
	if code := run([]string{"compare", "--json", filepath.Join(dir, "none.json")}, nil, &out, &errb); code != 2 {
		t.Fatalf("exit %d", code)
	}
	var e struct {
		Error string `json:"error"`
		Code  int    `json:"code"`
	}
	if err := json.Unmarshal(out.Bytes(), &e); err != nil || e.Code != 2 || e.Error == "" {
		t.Fatalf("--json error %q: %v", out.String(), err)
	}
	if err := record(cio, []string{"--token", "android"}, noEnv); cli.Code(err) != 2 {
		t.Fatalf("--token without --sim: %v (exit %d)", err, cli.Code(err))
	}
}
