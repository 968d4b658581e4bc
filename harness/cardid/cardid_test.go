package cardid_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mynahil/mynahil/harness/cardid"
)

func TestOf(t *testing.T) {
	// SHA-256 of "abc" (FIPS 180-2, appendix B.1).
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := cardid.Of([]byte("abc")); got != want {
		t.Errorf("Of(abc) = %s, want %s", got, want)
	}
}

func TestNormalise(t *testing.T) {
	const fp = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	for _, in := range []string{fp, strings.ToUpper(fp), " " + fp + "\n", "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"} {
		if got, err := cardid.Normalise(in); err != nil || got != fp {
			t.Errorf("Normalise(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "abcd", strings.Repeat("zz", 32), fp + "00"} {
		if _, err := cardid.Normalise(bad); !errors.Is(err, cardid.ErrMalformed) {
			t.Errorf("Normalise(%q) error = %v, want ErrMalformed", bad, err)
		}
	}
}

// hashers lists the functions of a Go file that compute a card
// fingerprint of their own: they hash with SHA-256 and are named for a
// fingerprint, or they read the auth certificate and hash a value (not a
// message they build, like a challenge to sign: []byte("…")).
func hashers(t *testing.T, path string, src []byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		hashes, hashesValue, authCert := false, false, false
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && len(call.Args) == 1 {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "sha256" {
						if _, built := call.Args[0].(*ast.CallExpr); !built {
							hashesValue = true
						}
					}
				}
			}
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "sha256" {
					hashes = true
				}
				if sel.Sel.Name == "AuthCert" || sel.Sel.Name == "EFAuthCert" {
					authCert = true
				}
			}
			return true
		})
		named := strings.Contains(strings.ToLower(fn.Name.Name), "fingerprint")
		if hashes && named || hashesValue && authCert {
			out = append(out, fset.Position(fn.Pos()).String()+": "+fn.Name.Name)
		}
	}
	return out
}

// TestOneFingerprint fails on any function outside this package that
// computes a card fingerprint itself (issue 22.2): the module's non-test
// Go files are parsed, and a function that hashes with SHA-256 and is named
// for a fingerprint or reads the auth certificate is one.
func TestOneFingerprint(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "*.go").Output()
	if err != nil {
		t.Fatalf("listing Go files: %v", err)
	}
	files := strings.Fields(string(out))
	if len(files) < 100 {
		t.Fatalf("only %d Go files listed: the walk is broken", len(files))
	}
	for _, rel := range files {
		if strings.HasSuffix(rel, "_test.go") || strings.HasPrefix(rel, "harness/cardid/") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hashers(t, rel, src) {
			t.Errorf("a second card fingerprint: %s; use harness/cardid (Of, Read)", h)
		}
	}
}

// TestHashersFindsTheOldCopies: the check finds the shapes the project's
// four copies had.
func TestHashersFindsTheOldCopies(t *testing.T) {
	const src = `package x
func fingerprint(t harness.Transport) (string, error) {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:]), nil
}
func identify(c *jpkiclient.Client) string {
	_, der, _ := c.ReadCertificate(jpkiclient.AuthCert)
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}
func probeDigest() []byte { h := sha256.Sum256([]byte("probe")); return h[:] }
func Fingerprint(b []byte) string { return cardid.Of(b) }
`
	got := hashers(t, "x.go", []byte(src))
	if len(got) != 2 || !strings.HasSuffix(got[0], "fingerprint") || !strings.HasSuffix(got[1], "identify") {
		t.Errorf("hashers = %q, want fingerprint and identify", got)
	}
}
