// Package interop drives the real clients of the My Number Card, OpenSC
// (opensc-tool, pkcs15-tool, pkcs11-tool with opensc-pkcs11.so) and
// pcsc-tools (pcsc_scan), against a card in a pcscd reader, and parses what
// they print. Its suite checks the simulated card through them
// (docs/card.md §4.1); package bench times them.
//
// PINs reach the tools through the environment of the child process only,
// with OpenSC's `--pin env:VAR` form, so they never appear on a command
// line, in this package's errors or in test output.
package interop

import (
	"bufio"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// ErrToolMissing: an OpenSC or pcsc-tools program is not installed.
var ErrToolMissing = errors.New("tool not installed (apt-get install opensc pcsc-tools openssl)")

// pinEnv is the variable the child process reads the PIN from.
const pinEnv = "MYNAHIL_INTEROP_PIN"

// PKCS11Module returns the path of OpenSC's PKCS#11 module.
func PKCS11Module() (string, error) {
	for _, p := range []string{
		"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
		"/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
		"/usr/lib/opensc-pkcs11.so",
		"/usr/lib64/opensc-pkcs11.so",
	} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("finding opensc-pkcs11.so: %w", ErrToolMissing)
}

// Require checks that every named program is on PATH.
func Require(names ...string) error {
	var missing []string
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("looking for %s: %w", strings.Join(missing, ", "), ErrToolMissing)
	}
	return nil
}

// Run runs a tool and returns its combined output. pin, if not empty, is
// put in the child's environment as MYNAHIL_INTEROP_PIN for an
// `env:MYNAHIL_INTEROP_PIN` argument. A non-zero exit is an error carrying
// the output (which the tools never fill with the PIN).
func Run(ctx context.Context, pin jpkiclient.PIN, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = os.Environ()
	if pin != "" {
		cmd.Env = append(cmd.Env, pinEnv+"="+string(pin))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("running %s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// PINArg is the argument that makes OpenSC read the PIN given to Run.
const PINArg = "env:" + pinEnv

// CertInfo is one certificate as `pkcs15-tool --list-certificates` lists it.
type CertInfo struct {
	Label     string
	ID        string
	Path      string
	Authority bool
	Private   bool
}

// ParseCertificates parses the output of `pkcs15-tool --list-certificates`:
// blocks starting "X.509 Certificate [label]" with "Key : value" lines.
func ParseCertificates(out string) []CertInfo {
	var certs []CertInfo
	var cur *CertInfo
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "X.509 Certificate ["); ok {
			certs = append(certs, CertInfo{Label: strings.TrimSuffix(rest, "]")})
			cur = &certs[len(certs)-1]
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if cur == nil || !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "ID":
			cur.ID = v
		case "Path":
			cur.Path = v
		case "Authority":
			cur.Authority = v == "yes"
		case "Object Flags":
			cur.Private = strings.Contains(v, "private")
		}
	}
	return certs
}

// ParsePINTries parses `pkcs15-tool --list-pins`: PIN label → tries left.
func ParsePINTries(out string) map[string]int {
	tries := map[string]int{}
	var label string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "PIN ["); ok {
			label = strings.TrimSuffix(rest, "]")
			continue
		}
		if v, ok := strings.CutPrefix(line, "Tries left"); ok && label != "" {
			var n int
			if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")), "%d", &n); err == nil {
				tries[label] = n
			}
		}
	}
	return tries
}

// ReadCertificate runs `pkcs15-tool --read-certificate id` and returns the
// DER of the PEM it prints. With a PIN it first verifies it for authID
// (the private sign certificate needs the sign PIN, auth ID 02).
func ReadCertificate(ctx context.Context, reader, id string, authID string, pin jpkiclient.PIN) ([]byte, error) {
	args := []string{"--reader", reader, "--read-certificate", id}
	if pin != "" {
		args = append(args, "--verify-pin", "--auth-id", authID, "--pin", PINArg)
	}
	out, err := Run(ctx, pin, "pkcs15-tool", args...)
	if err != nil {
		return nil, err
	}
	var block *pem.Block
	if i := strings.Index(out, "-----BEGIN CERTIFICATE-----"); i >= 0 {
		block, _ = pem.Decode([]byte(out[i:]))
	}
	if block == nil {
		return nil, fmt.Errorf("reading certificate %s with pkcs15-tool: no PEM certificate in the output:\n%s", id, out)
	}
	return block.Bytes, nil
}

// Token labels OpenSC's JPKI emulator gives its two PKCS#11 tokens, one
// per PIN (docs/card.md §4.1; pkcs15-jpki.c).
const (
	AuthToken = "JPKI (User Authentication PIN)"
	SignToken = "JPKI (Digital Signature PIN)"
)

// FindSlot returns the PKCS#11 slot ID (as pkcs11-tool --slot takes it) of
// the token labelled token in reader, from `pkcs11-tool -L`. Slot IDs and
// indices depend on every reader pcscd knows, so they are looked up rather
// than assumed.
func FindSlot(ctx context.Context, reader, token string) (string, error) {
	module, err := PKCS11Module()
	if err != nil {
		return "", err
	}
	out, err := Run(ctx, "", "pkcs11-tool", "--module", module, "--list-slots")
	if err != nil {
		return "", err
	}
	slot := ParseSlot(out, reader, token)
	if slot == "" {
		return "", fmt.Errorf("finding the PKCS#11 slot of %q in %q: not listed by pkcs11-tool:\n%s", token, reader, out)
	}
	return slot, nil
}

// ParseSlot finds, in the output of `pkcs11-tool --list-slots`, the slot
// ID of the token labelled token in reader; "" if there is none.
func ParseSlot(out, reader, token string) string {
	slot := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// "Slot 1 (0x1): Virtual PCD 00 00"
		if rest, ok := strings.CutPrefix(line, "Slot "); ok {
			slot = ""
			lp, rp := strings.Index(rest, "("), strings.Index(rest, "):")
			if lp >= 0 && rp > lp && strings.TrimSpace(rest[rp+2:]) == reader {
				slot = rest[lp+1 : rp]
			}
			continue
		}
		if v, ok := strings.CutPrefix(line, "token label"); ok && slot != "" {
			if strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":")) == token {
				return slot
			}
		}
	}
	return ""
}

// Sign signs data with pkcs11-tool: log in to the token labelled token in
// reader (AuthToken or SignToken) with pin and sign with the key id using
// mechanism (e.g. SHA256-RSA-PKCS). It returns the signature.
func Sign(ctx context.Context, reader, token, id, mechanism string, pin jpkiclient.PIN, data []byte) ([]byte, error) {
	module, err := PKCS11Module()
	if err != nil {
		return nil, err
	}
	slot, err := FindSlot(ctx, reader, token)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mynahil-sign-")
	if err != nil {
		return nil, fmt.Errorf("signing with pkcs11-tool: %w", err)
	}
	defer os.RemoveAll(dir)
	in, sig := filepath.Join(dir, "data"), filepath.Join(dir, "sig")
	if err := os.WriteFile(in, data, 0o600); err != nil {
		return nil, fmt.Errorf("signing with pkcs11-tool: %w", err)
	}
	if _, err := Run(ctx, pin, "pkcs11-tool", "--module", module, "--slot", slot,
		"--login", "--pin", PINArg, "--sign", "--mechanism", mechanism, "--id", id,
		"--input-file", in, "--output-file", sig); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(sig)
	if err != nil {
		return nil, fmt.Errorf("reading pkcs11-tool's signature: %w", err)
	}
	return b, nil
}

// OpenSSLVerify checks a SHA-256 PKCS#1 v1.5 signature over data with the
// public key of the certificate (DER), using the openssl command: the
// verdict comes from outside this program.
func OpenSSLVerify(ctx context.Context, certDER, data, sig []byte) error {
	dir, err := os.MkdirTemp("", "mynahil-verify-")
	if err != nil {
		return fmt.Errorf("verifying with openssl: %w", err)
	}
	defer os.RemoveAll(dir)
	cert, pub, in, sf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "pub.pem"), filepath.Join(dir, "data"), filepath.Join(dir, "sig")
	for name, b := range map[string][]byte{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
		in:   data,
		sf:   sig,
	} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			return fmt.Errorf("verifying with openssl: %w", err)
		}
	}
	if _, err := Run(ctx, "", "openssl", "x509", "-in", cert, "-pubkey", "-noout", "-out", pub); err != nil {
		return err
	}
	out, err := Run(ctx, "", "openssl", "dgst", "-sha256", "-verify", pub, "-signature", sf, in)
	if err != nil {
		return fmt.Errorf("verifying with openssl: %w", err)
	}
	if !strings.Contains(out, "Verified OK") {
		return fmt.Errorf("verifying with openssl: unexpected output %q", out)
	}
	return nil
}
