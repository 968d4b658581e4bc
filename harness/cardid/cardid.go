// Package cardid is the one card identity of the project: the SHA-256 of a
// card's JPKI authentication certificate (DER), as lower-case hex. The
// guards that protect a physical card compare it with
// MYNAHIL_CARD_FINGERPRINT before any destructive step (harness/target,
// docs/physical-cards.md), 'mynahil readers --fingerprint' prints it,
// 'mynahil record' refuses any other card (harness/transcript), and the
// rehearsal reads it as a user would. The auth certificate carries no
// personal data and is read without a PIN on the plastic card (docs/card.md
// §3.1), so reading it changes nothing on the card.
//
// It is computed here and nowhere else: a test (cardid_test.go) fails on
// any other function in the module that hashes the auth certificate or is
// named for a fingerprint and hashes with SHA-256.
package cardid

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// ErrMalformed: a fingerprint given by the user is not 64 hex digits.
var ErrMalformed = errors.New("want the 64-hex-digit SHA-256 of the auth certificate DER")

// Of is the identity of the card whose auth certificate is authCertDER.
func Of(authCertDER []byte) string {
	sum := sha256.Sum256(authCertDER)
	return hex.EncodeToString(sum[:])
}

// Read selects the JPKI applet, reads the auth certificate (no PIN) and
// returns the card's identity. The caller resets the card if it cares.
func Read(t harness.Transport) (string, error) {
	c := jpkiclient.New(t)
	if err := c.SelectAP(); err != nil {
		return "", fmt.Errorf("reading the card's identity: %w", err)
	}
	_, der, err := c.ReadCertificate(jpkiclient.AuthCert)
	if err != nil {
		return "", fmt.Errorf("reading the card's identity: %w", err)
	}
	return Of(der), nil
}

// Normalise accepts a fingerprint as hex with optional colons, spaces or
// dashes (as openssl prints it) and returns lower-case hex.
func Normalise(s string) (string, error) {
	clean := strings.ToLower(strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s)))
	if b, err := hex.DecodeString(clean); err != nil || len(b) != sha256.Size {
		return "", ErrMalformed
	}
	return clean, nil
}
