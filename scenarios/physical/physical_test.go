package physical_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/cardid"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/holder"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	. "github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/relyingparty"
)

var (
	physicalSafe = speclabel.Of(speclabel.PhysicalSafe)
	needsAuthPIN = speclabel.Of(speclabel.NeedsAuthPIN)
	needsSignPIN = speclabel.Of(speclabel.NeedsSignPIN)
	needsCIPIN   = speclabel.Of(speclabel.NeedsCardInfoPIN)
)

func read(s *session, kind jpkiclient.Cert) (*x509.Certificate, []byte) {
	GinkgoHelper()
	c, der, err := s.c.ReadCertificate(kind)
	Expect(err).NotTo(HaveOccurred(), "reading the %v", kind)
	return c, der
}

// signCert verifies the sign PIN and reads the signing certificate.
func signCert(s *session) *x509.Certificate {
	GinkgoHelper()
	Expect(s.c.VerifyPIN(jpkiclient.SignPIN, s.pins.Sign)).To(Succeed())
	c, _ := read(s, jpkiclient.SignCert)
	return c
}

var _ = Describe("Without a PIN", physicalSafe, func() {
	var s *session
	BeforeEach(func() { s = open() })

	It("is a My Number Card token whose auth certificate chains to the auth CA and names this card", func() {
		Expect(s.c.CheckToken()).To(Succeed())
		Expect(s.c.CertificatesPresent()).To(HaveField("Auth", true))
		ca, _ := read(s, jpkiclient.AuthCACert)
		auth, der := read(s, jpkiclient.AuthCert)
		Expect(auth).To(BeSignedBy(ca))
		Expect(cardid.Of(der)).To(Equal(tgt.Fingerprint()))
		signCA, _ := read(s, jpkiclient.SignCACert)
		Expect(auth).NotTo(BeSignedBy(signCA))
	})

	It("gives an auth certificate that holds no personal data", func() {
		auth, _ := read(s, jpkiclient.AuthCert)
		Expect(holder.PersonalData(auth)).To(BeEmpty(), "the auth certificate identifies the card, not its holder")
		_, err := holder.FromCertificate(auth)
		Expect(err).To(MatchError(holder.ErrNoFacts))
	})

	It("refuses the signing certificate without the sign PIN", func() {
		_, _, err := s.c.ReadCertificate(jpkiclient.SignCert)
		Expect(err).To(HaveStatusWord(0x6982))
	})

	It("reports the tries left of both PINs without spending any", func() {
		for _, ref := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
			n, err := s.c.TriesLeft(ref)
			if err != nil {
				Expect(err).To(MatchError(apduclient.ErrPINBlocked), "asking the %v's tries", ref)
			}
			Expect(n).To(BeNumerically("<=", ref.MaxTries()))
			AddReportEntry(ref.String()+" tries left", n)
			Expect(s.c.TriesLeft(ref)).To(HaveTriesLeft(n), "asking again spends nothing")
		}
	})
})

var _ = Describe("With the sign PIN", physicalSafe, needsSignPIN, func() {
	var s *session
	BeforeEach(func() { s = open() })

	It("gives the signing certificate, chained to the sign CA, stating the holder's four facts", func() {
		ca, _ := read(s, jpkiclient.SignCACert)
		sign := signCert(s)
		Expect(sign).To(BeSignedBy(ca))
		f, err := holder.FromCertificate(sign)
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Name).NotTo(BeEmpty())
		Expect(f.Address).NotTo(BeEmpty())
	})

	It("ends each certificate on the holder's 5th birthday after its issue date", func() {
		auth, _ := read(s, jpkiclient.AuthCert)
		sign := signCert(s)
		f, err := holder.FromCertificate(sign)
		Expect(err).NotTo(HaveOccurred())
		Expect(holder.CheckValidity(sign, f.BirthDate)).To(Succeed(), "signing certificate")
		Expect(holder.CheckValidity(auth, f.BirthDate)).To(Succeed(), "auth certificate")
	})

	It("signs a document with the signing key, verifiable with the signing certificate", func() {
		sign := signCert(s)
		digest := sha256.Sum256([]byte("申請書 / application form"))
		sig, err := s.c.Sign(jpkiclient.SignKey, digest[:], crypto.SHA256)
		Expect(err).NotTo(HaveOccurred())
		Expect(sig).To(VerifySignature(sign, digest[:], crypto.SHA256))
	})
})

var _ = Describe("With the auth PIN", physicalSafe, needsAuthPIN, func() {
	It("signs a challenge with the auth key only after the PIN, verifiable with the auth certificate", func() {
		s := open()
		auth, _ := read(s, jpkiclient.AuthCert)
		challenge := make([]byte, 32)
		_, _ = rand.Read(challenge)
		digest := sha256.Sum256(challenge)
		_, err := s.c.Sign(jpkiclient.AuthKey, digest[:], crypto.SHA256)
		Expect(err).To(HaveStatusWord(0x6982))
		Expect(s.c.VerifyPIN(jpkiclient.AuthPIN, s.pins.Auth)).To(Succeed())
		sig, err := s.c.Sign(jpkiclient.AuthKey, digest[:], crypto.SHA256)
		Expect(err).NotTo(HaveOccurred())
		Expect(sig).To(VerifySignature(auth, digest[:], crypto.SHA256))
	})
})

// cardInfo opens the card-info input support applet with its PIN.
func cardInfo(s *session) *cardinfoclient.Client {
	GinkgoHelper()
	c := cardinfoclient.New(s.t)
	Expect(c.Select(cardinfoclient.TextAP)).To(Succeed())
	Expect(c.Verify(cardinfoclient.TextPIN, s.pins.CardInfo)).To(Succeed())
	return c
}

// sanSex maps the card-info applet's JIS X 0303 code to the certificate's
// (1 male, 2 female, 3 unknown).
func sanSex(s cardinfoclient.Sex) byte {
	switch s {
	case cardinfoclient.SexMale, cardinfoclient.SexFemale:
		return byte(s)
	}
	return '3'
}

var _ = Describe("The card-info applet", physicalSafe, needsCIPIN, func() {
	It("gives My Number and the four facts with its PIN, vouched for by the integrity record", func() {
		s := open()
		c := cardInfo(s)
		in, err := c.VerifyIntegrity()
		Expect(err).NotTo(HaveOccurred())
		Expect(in.MyNumber).To(BeValidMyNumber())
	})

	It("states the same four facts as the signing certificate", needsSignPIN, func() {
		s := open()
		f, err := holder.FromCertificate(signCert(s))
		Expect(err).NotTo(HaveOccurred())
		in, err := cardInfo(s).VerifyIntegrity()
		Expect(err).NotTo(HaveOccurred())
		got := holder.Facts{
			Name: in.Facts.Name, Address: in.Facts.Address,
			BirthDate: in.Facts.BirthDate.Time(holder.JST), Era: f.Era, Sex: sanSex(in.Facts.Sex),
		}
		Expect(got.Differ(f)).To(BeEmpty(), "facts in which the card-info applet and the signing certificate differ (values left out: personal data)")
	})
})

// Revocation is checked against endpoints the user configures: a physical
// card's CA publishes its CRL and OCSP where the user says.
type endpoint struct {
	cert   jpkiclient.Cert
	ca     jpkiclient.Cert
	method relyingparty.Method
	env    string
}

var _ = Describe("Revocation", physicalSafe, func() {
	DescribeTable("the certificate is not revoked, as its CA's endpoint says",
		func(e endpoint) {
			url := os.Getenv(e.env)
			if url == "" {
				Skip(fmt.Sprintf("needs a revocation endpoint: set %s", e.env))
			}
			s := open()
			ca, _ := read(s, e.ca)
			if e.cert == jpkiclient.SignCert {
				Expect(s.c.VerifyPIN(jpkiclient.SignPIN, s.pins.Sign)).To(Succeed())
			}
			_, der := read(s, e.cert)
			root := relyingparty.Root{Cert: ca}
			if e.method == relyingparty.CRL {
				root.CRLURL = url
			} else {
				root.OCSPURL = url
			}
			// The card's certificate is judged at its own mid-life, so a
			// simulated card on a virtual clock is judged as a real one.
			cert, err := x509.ParseCertificate(der)
			Expect(err).NotTo(HaveOccurred())
			v := relyingparty.Verifier{Roots: []relyingparty.Root{root}, Now: nowWithin(cert)}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			Expect(v.Verify(ctx, der, e.method)).To(Equal(relyingparty.Valid{}))
		},
		Entry("auth certificate, CRL", endpoint{jpkiclient.AuthCert, jpkiclient.AuthCACert, relyingparty.CRL, EnvAuthCRL}),
		Entry("auth certificate, OCSP", endpoint{jpkiclient.AuthCert, jpkiclient.AuthCACert, relyingparty.OCSP, EnvAuthOCSP}),
		Entry("signing certificate, CRL", needsSignPIN, endpoint{jpkiclient.SignCert, jpkiclient.SignCACert, relyingparty.CRL, EnvSignCRL}),
		Entry("signing certificate, OCSP", needsSignPIN, endpoint{jpkiclient.SignCert, jpkiclient.SignCACert, relyingparty.OCSP, EnvSignOCSP}),
	)
})

// The revocation endpoints (docs/physical-cards.md).
const (
	EnvAuthCRL  = "MYNAHIL_AUTH_CRL_URL"
	EnvAuthOCSP = "MYNAHIL_AUTH_OCSP_URL"
	EnvSignCRL  = "MYNAHIL_SIGN_CRL_URL"
	EnvSignOCSP = "MYNAHIL_SIGN_OCSP_URL"
)

// nowWithin is the relying party's clock: the wall clock when it falls in
// the certificate's validity (a physical card), else a moment inside it (a
// simulated card issued on a virtual clock).
func nowWithin(c *x509.Certificate) func() time.Time {
	return func() time.Time {
		if now := time.Now(); now.After(c.NotBefore) && now.Before(c.NotAfter) {
			return now
		}
		return c.NotBefore.Add(time.Hour)
	}
}
