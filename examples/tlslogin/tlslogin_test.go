// Package tlslogin runs the TLS client-authentication recipe tls-login.sh
// (examples/README.md) as written: openssl s_server with the sim's CA and
// CRL from its fixed relying-party address, openssl s_client signing the
// TLS 1.2 handshake with the card's key through OpenSC's PKCS#11 module.
package tlslogin

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// root is the checkout the recipe runs in.
const root = "../.."

// engine is where Debian's libengine-pkcs11-openssl puts libp11's engine.
const engine = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"

// missing says which tool the recipe needs is absent: in CI that is a
// failure of the environment, elsewhere a skip with the reason.
func missing(t *testing.T) {
	t.Helper()
	var absent []string
	for _, tool := range []string{"openssl", "curl", "pkcs15-tool", "pcscd"} {
		if _, err := exec.LookPath(tool); err != nil {
			absent = append(absent, tool)
		}
	}
	if _, err := os.Stat(engine); err != nil {
		absent = append(absent, "libengine-pkcs11-openssl ("+engine+")")
	}
	if len(absent) == 0 {
		return
	}
	msg := "environment: the TLS login recipe needs " + strings.Join(absent, ", ") + " (make deps installs them)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// The recipe passes: a TLS 1.2 login with RSA+SHA256, TLS 1.3 and RSA-PSS
// refused as a real card refuses them, and the login refused by the CRL
// once the card is reported lost.
func TestTLSLoginRecipe(t *testing.T) {
	missing(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "mynahil")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mynahil")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building mynahil: %v\n%s", err, out)
	}
	// A pcscd and namespaces of its own (docs/vpcd-pcscd.md §6.4): the
	// sim has the vpcd slots and the fixed ports to itself.
	cmd := exec.CommandContext(ctx, "scripts/with-pcscd", "--isolate", "--", "examples/tlslogin/tls-login.sh")
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MYNAHIL_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "MYNAHIL="+bin, "MYNAHIL_STATE="+t.TempDir(), "MYNAHIL_NO_PROMPT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("tls-login.sh:\n%s", out.String())
	if err != nil {
		t.Fatalf("tls-login.sh: %v", err)
	}
	if n := strings.Count(out.String(), "PKCS#11 module:ERR_CKR_error:Mechanism invalid"); n != 2 {
		t.Errorf("TLS 1.3 and RSA-PSS refused %d times by the PKCS#11 module (no PSS mechanism), want 2", n)
	}
	for _, want := range []string{
		"ok: TLS 1.2 login, the card signed RSA+SHA256",
		"ok: TLS 1.3 refused",
		"ok: TLS 1.2 with RSA-PSS refused",
		"ok: after office report-loss the server, with the new CRL, refuses the login: certificate revoked",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tls-login.sh did not report %q", want)
		}
	}
}
