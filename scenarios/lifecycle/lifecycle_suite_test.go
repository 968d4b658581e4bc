// Package lifecycle_test walks simulated My Number Cards through their whole
// lives (docs/lifecycle-rules.md): the municipal office changes them, the holder's
// client reads them through the independent harness client, and an outside
// relying party checks their certificates against the authority's CRLs and
// OCSP responder over loopback HTTP, all on one virtual clock.
//
// The world (office, clock, relying party) comes from scenarios/framework,
// on every target: in process on sim; on vpcd and pcsc the simulator
// daemon, driven through its control API, with the card read through the
// target's transport. A physical card has no office: every spec is
// sim-only.
package lifecycle_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestLifecycle(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Card lifecycle")
}

// The run ends with one line: specs run, passed, skipped and why.
var _ = runsummary.Register("Card lifecycle")

// world is one municipality at one virtual time (framework.World).
type world struct{ *framework.World }

func newWorld(start time.Time) *world {
	w := &world{framework.NewWorld(start)}
	DeferCleanup(collectReport, w) // before the world's office closes (cleanups run last-in first-out)
	return w
}

// verdicts asks the relying party by CRL and by OCSP.
func (w *world) verdicts(der []byte) (crl, ocsp relyingparty.Verdict) {
	GinkgoHelper()
	ctx := context.Background()
	crl, err := w.RP.Verify(ctx, der, relyingparty.CRL)
	Expect(err).NotTo(HaveOccurred(), "checking by CRL")
	ocsp, err = w.RP.Verify(ctx, der, relyingparty.OCSP)
	Expect(err).NotTo(HaveOccurred(), "checking by OCSP")
	return crl, ocsp
}

// expectVerdict checks that CRL and OCSP agree on want. A Revoked want with
// a zero Time matches any revocation time.
func (w *world) expectVerdict(der []byte, want relyingparty.Verdict) {
	GinkgoHelper()
	crl, ocsp := w.verdicts(der)
	for _, got := range []struct {
		how string
		v   relyingparty.Verdict
	}{{"CRL", crl}, {"OCSP", ocsp}} {
		Expect(sameVerdict(got.v, want)).To(BeTrue(), "%s says %v, want %s", got.how, got.v, describeWant(want))
	}
}

// describeWant prints a wanted verdict, zero times meaning "any".
func describeWant(want relyingparty.Verdict) string {
	switch w := want.(type) {
	case relyingparty.Revoked:
		if w.Time.IsZero() {
			return fmt.Sprintf("revoked (%s) at any time", w.Reason)
		}
	case relyingparty.Expired:
		if w.NotAfter.IsZero() {
			return "expired"
		}
	}
	return want.String()
}

func sameVerdict(got, want relyingparty.Verdict) bool {
	switch w := want.(type) {
	case relyingparty.Revoked:
		g, ok := got.(relyingparty.Revoked)
		return ok && g.Reason == w.Reason && (w.Time.IsZero() || g.Time.Equal(w.Time))
	case relyingparty.Expired:
		g, ok := got.(relyingparty.Expired)
		return ok && (w.NotAfter.IsZero() || g.NotAfter.Equal(w.NotAfter))
	}
	return fmt.Sprintf("%T", got) == fmt.Sprintf("%T", want)
}

// holder is the card in its holder's reader: the independent JPKI client
// over the world's transport, traced with PINs masked.
type holder struct {
	client *jpkiclient.Client
	t      harness.Transport
}

func (w *world) insert(c *framework.Card) *holder {
	GinkgoHelper()
	t := harness.Traced(w.Insert(c), ginkgotrace.ForSpec())
	DeferCleanup(harness.Close, t)
	cl := jpkiclient.New(t)
	Expect(cl.SelectAP()).To(Succeed())
	return &holder{client: cl, t: t}
}

// presence reads EF 0008 afresh.
func (h *holder) presence() jpkiclient.Presence {
	GinkgoHelper()
	Expect(h.client.SelectAP()).To(Succeed())
	p, err := h.client.CertificatesPresent()
	Expect(err).NotTo(HaveOccurred())
	return p
}

// authCert reads EF 000A; nil when the card holds none.
func (h *holder) authCert() []byte {
	GinkgoHelper()
	Expect(h.client.SelectAP()).To(Succeed())
	_, der, err := h.client.ReadCertificate(jpkiclient.AuthCert)
	if errors.Is(err, apduclient.ErrFileNotFound) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return der
}

// signCert verifies the sign PIN and reads EF 0001; nil when absent.
func (h *holder) signCert(pin string) []byte {
	GinkgoHelper()
	Expect(h.client.SelectAP()).To(Succeed())
	Expect(h.client.VerifyPIN(jpkiclient.SignPIN, jpkiclient.PIN(pin))).To(Succeed())
	_, der, err := h.client.ReadCertificate(jpkiclient.SignCert)
	if errors.Is(err, apduclient.ErrFileNotFound) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	return der
}

// refusedBy matches an office refusal by its rule.
func refusedBy(rule string) OmegaMatcher {
	return WithTransform(func(err error) string {
		var r *framework.RefusedError
		if errors.As(err, &r) {
			return r.Rule()
		}
		return fmt.Sprintf("not a refusal: %v", err)
	}, Equal(rule))
}

func person(name string, birth profile.Date, issued profile.Date) profile.Profile {
	p := profile.Default()
	p.Holder.Name = name
	p.Holder.BirthDate = birth
	p.IssueDate = issued
	return p
}
