// Package client_test is the example suite to copy: it tests a client — here
// a tiny "log in with the card" function standing in for yours — against the
// simulated My Number Card, in process by default or through pcscd with
// MYNAHIL_TARGET=pcsc. examples/README.md walks through it.
package client_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/scenarios/framework"
)

func TestClient(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Example client against the simulated card")
}

// login is the client under test: it proves the holder has the card and
// knows the PIN by signing a challenge with the authentication key, as a
// relying party's login does. Replace it with a call into your own code.
func login(c *jpkiclient.Client, pin jpkiclient.PIN, challenge []byte) (cert *x509.Certificate, sig []byte, err error) {
	if err := c.SelectAP(); err != nil {
		return nil, nil, err
	}
	cert, _, err = c.ReadCertificate(jpkiclient.AuthCert)
	if err != nil {
		return nil, nil, err
	}
	if err := c.VerifyPIN(jpkiclient.AuthPIN, pin); err != nil {
		return nil, nil, err
	}
	digest := sha256.Sum256(challenge)
	sig, err = c.Sign(jpkiclient.AuthKey, digest[:], crypto.SHA256)
	return cert, sig, err
}

var tgt *target.Target

// The target comes from the environment (MYNAHIL_TARGET=sim|vpcd|pcsc,
// MYNAHIL_READER for a physical card): the same specs run on each.
// OpenTarget closes the target when the suite ends (after recording the
// state it leaves a physical card in).
var _ = BeforeSuite(func() {
	tgt = framework.OpenTarget()
})

// The guard reads each spec's labels before it starts. On a physical card
// it runs only specs labelled physical-safe (or destructive, with the
// opt-in), and a spec that needs a PIN only when the PIN budget lets the
// PIN through: it was not refused in this run and the card shows every
// try left (docs/physical-cards.md, "The PIN budget").
var _ = BeforeEach(func() { tgt.Guard() })

var _ = Describe("login with the card", func() {
	It("signs the challenge with the key of the certificate it presents", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN), func() {
		c := jpkiclient.New(tgt.Transport())
		challenge := []byte("nonce from the relying party")
		cert, sig, err := login(c, tgt.PINs().Auth, challenge)
		Expect(err).NotTo(HaveOccurred())
		digest := sha256.Sum256(challenge)
		Expect(rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig)).To(Succeed())
	})

	// Destructive on a physical card (it spends a PIN try), so labelled:
	// the guard refuses it there unless the user opts in. The set-back (the
	// right PIN, which restores the tries) is registered before the wrong
	// try, so it runs even when the spec fails half-way.
	It("reports a wrong PIN with the tries left, and the right PIN restores them", speclabel.Of(speclabel.Destructive, speclabel.NeedsAuthPIN), func() {
		c := jpkiclient.New(tgt.Transport())
		DeferCleanup(func() {
			Expect(c.SelectAP()).To(Succeed())
			Expect(c.VerifyPIN(jpkiclient.AuthPIN, tgt.PINs().Auth)).To(Succeed())
			Expect(c.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3))
		})
		_, _, err := login(c, "0000", []byte("x"))
		var wrong *apduclient.WrongPINError
		Expect(errors.As(err, &wrong)).To(BeTrue(), "a wrong PIN is status word 63Cx, got %v", err)
		Expect(wrong.TriesLeft).To(Equal(2))
		Expect(c.TriesLeft(jpkiclient.AuthPIN)).To(Equal(2))
		_, _, err = login(c, tgt.PINs().Auth, []byte("x"))
		Expect(err).NotTo(HaveOccurred())
		Expect(c.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3))
	})
})
