package framework_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/cardinfoclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/matchers"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/scenarios/framework"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/profile"
)

func TestFramework(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Suite framework: targets, guards, worlds")
}

// pcscdErr is why pcscd is unavailable, nil when it runs.
var pcscdErr error

var _ = BeforeSuite(func(ctx SpecContext) {
	p, err := pcscdenv.StartPCSCD(ctx)
	if err != nil {
		if _, skip := pcscdenv.SkipReason(err); !skip {
			Fail(err.Error())
		}
		pcscdErr = err
		return
	}
	DeferCleanup(p.Stop)
}, NodeTimeout(3*time.Minute)) // includes waiting for the vpcd slot lock

func needPCSCD() {
	if reason, ok := pcscdenv.SkipReason(pcscdErr); ok {
		Skip(reason)
	}
}

// skipParallel skips physical-card specs under ginkgo -p, which Open
// refuses for physical cards.
func skipParallel() {
	if sc, _ := GinkgoConfiguration(); sc.ParallelTotal > 1 {
		Skip("a physical card runs in one process; this spec needs a run without ginkgo -p")
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var _ = DescribeTable("every kind carries the same JPKI conversation to a fresh simulated card",
	func(ctx SpecContext, kind target.Kind) {
		if kind == target.PCSC {
			needPCSCD()
		}
		tgt, err := target.Open(ctx, target.Config{Kind: kind})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tgt.Close)
		Expect(tgt.Kind()).To(Equal(kind))
		Expect(tgt.Physical()).To(BeFalse())
		Expect(tgt.String()).To(HavePrefix(string(kind) + ": "))
		Expect(framework.Sim(tgt)).NotTo(BeNil())
		if kind == target.Sim {
			Expect(framework.Sim(tgt).Side).To(BeNil())
		} else {
			Expect(framework.Sim(tgt).Side).NotTo(BeNil())
		}

		c := jpkiclient.New(tgt.Transport())
		Expect(c.SelectAP()).To(Succeed())
		_, der, err := c.ReadCertificate(jpkiclient.AuthCert)
		Expect(err).NotTo(HaveOccurred())
		Expect(der).To(Equal(framework.Sim(tgt).Issued.AuthCert.Raw))
		Expect(tgt.Fingerprint()).To(Equal(sha256hex(der)))

		pins := tgt.PINs()
		Expect(pins.Auth).To(Equal(jpkiclient.PIN(profile.Default().PINs.Auth)))
		Expect(pins.Sign).To(Equal(jpkiclient.PIN(profile.Default().PINs.Sign)))
		Expect(c.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3), "identifying the card must not spend a try")
		Expect(c.VerifyPIN(jpkiclient.AuthPIN, pins.Auth)).To(Succeed())
		digest := sha256.Sum256([]byte(kind))
		sig, err := c.Sign(jpkiclient.AuthKey, digest[:], crypto.SHA256)
		Expect(err).NotTo(HaveOccurred())
		Expect(sig).To(matchers.VerifySignature(framework.Sim(tgt).Issued.AuthCert, digest[:], crypto.SHA256))

		Expect(tgt.Close()).To(Succeed())
		_, err = tgt.Transport().Transmit([]byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01})
		Expect(err).To(HaveOccurred(), "a closed target still transmits")
	},
	Entry("sim", target.Sim, SpecTimeout(30*time.Second)),
	Entry("vpcd", target.VPCD, SpecTimeout(30*time.Second)),
	Entry("pcsc", target.PCSC, SpecTimeout(30*time.Second)),
)

var _ = Describe("Open", func() {
	It("OpenForSuite opens what the environment names", func() {
		for k, v := range map[string]string{target.EnvTarget: "vpcd", target.EnvReader: "", target.EnvPhysical: ""} {
			old, had := os.LookupEnv(k)
			Expect(os.Setenv(k, v)).To(Succeed())
			DeferCleanup(func() {
				if had {
					os.Setenv(k, old)
				} else {
					os.Unsetenv(k)
				}
			})
		}
		tgt := target.OpenForSuite()
		Expect(tgt.Kind()).To(Equal(target.VPCD))
		Expect(tgt.Fingerprint()).To(Equal(sha256hex(framework.Sim(tgt).Issued.AuthCert.Raw)))
		Expect(CurrentSpecReport().ReportEntries).To(ContainElement(HaveField("Name", "target")))
	})

	It("refuses an invalid configuration before touching anything", func(ctx SpecContext) {
		_, err := target.Open(ctx, target.Config{Kind: "usb"})
		Expect(err).To(MatchError(target.ErrConfig))
		_, err = target.Open(ctx, target.Config{Kind: target.PCSC, Physical: true})
		Expect(err).To(MatchError(ContainSubstring("MYNAHIL_READER")))
	})

	It("reports an empty reader as no card", Serial, func(ctx SpecContext) {
		needPCSCD()
		skipParallel()
		_, err := target.Open(ctx, target.Config{Kind: target.PCSC, Reader: pcscdenv.VPCDReader1})
		Expect(err).To(MatchError(pcsc.ErrNoCard))
	})
})

// A simulated card served on slot 1 stands in for a physical card: opened
// by reader name it is "physical", so the guards apply exactly as they
// would to a real card.
var _ = Describe("a card opened by reader name", Ordered, Serial, func() {
	var (
		tgt    *target.Target
		issued *simcard.Issued
	)
	BeforeAll(func(ctx SpecContext) {
		needPCSCD()
		skipParallel()
		is, err := simcard.NewIssuer(clock.NewVirtual(clock.Date(2026, time.April, 1)), nil)
		Expect(err).NotTo(HaveOccurred())
		issued, err = is.Issue(profile.Default())
		Expect(err).NotTo(HaveOccurred())
		a, err := vpcdslot.Attach(ctx, issued.Card, 1)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(a.Detach)

		tgt, err = target.Open(ctx, target.Config{Kind: target.PCSC, Reader: "pcd 00 01", AuthPIN: jpkiclient.PIN(issued.Profile.PINs.Auth)})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tgt.Close)
	})

	It("is physical, with no simulator behind it and only the PINs it was given", func() {
		Expect(tgt.Physical()).To(BeTrue())
		Expect(framework.Sim(tgt)).To(BeNil())
		Expect(tgt.String()).To(ContainSubstring("physical card in \"Virtual PCD 00 01\""))
		Expect(tgt.PINs().Auth).NotTo(BeEmpty())
		Expect(tgt.PINs().Sign).To(BeEmpty())
	})

	It("is identified by the SHA-256 of its auth certificate, read from the card", func() {
		Expect(tgt.Fingerprint()).To(Equal(sha256hex(issued.AuthCert.Raw)))
	})

	It("is held exclusively, so no other middleware interleaves", func() {
		c, err := pcsc.Establish()
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		_, err = c.Connect(pcscdenv.VPCDReader1, pcsc.Shared)
		Expect(err).To(MatchError(pcsc.ErrSharingViolation))
	})

	It("decides by its labels, its PINs and the fingerprint", func() {
		Expect(tgt.Decide(speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsAuthPIN)).Run).To(BeTrue())
		Expect(tgt.Decide(speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsSignPIN)).Run).To(BeFalse())
		Expect(tgt.Decide(speclabel.Of(speclabel.Destructive)).Run).To(BeFalse())
		Expect(tgt.Decide(speclabel.Of(speclabel.SimOnly)).Run).To(BeFalse())
		Expect(tgt.Decide(nil).Run).To(BeFalse())
	})

	Context("with the guard in BeforeEach", func() {
		var ran []string
		BeforeEach(func() { tgt.Guard() })
		ReportAfterEach(func(r SpecReport) {
			if r.State == types.SpecStatePassed {
				ran = append(ran, r.LeafNodeText)
			}
		})
		It("skips a destructive spec without the opt-in", speclabel.Of(speclabel.Destructive), func() {
			Fail("the guard let a destructive spec run on a physical card without opt-in")
		})
		It("skips a sim-only spec", speclabel.Of(speclabel.SimOnly), func() {
			Fail("the guard let a sim-only spec run on a physical card")
		})
		It("skips a spec needing a PIN it was not given", speclabel.Of(speclabel.PhysicalSafe, speclabel.NeedsSignPIN), func() {
			Fail("the guard let a spec run without the sign PIN")
		})
		It("runs a physical-safe read", speclabel.Of(speclabel.PhysicalSafe), func() {
			c := jpkiclient.New(tgt.Transport())
			Expect(c.SelectAP()).To(Succeed())
			Expect(c.TriesLeft(jpkiclient.AuthPIN)).To(Equal(3))
		})
		It("ran exactly the physical-safe spec", speclabel.Of(speclabel.PhysicalSafe), func() {
			Expect(ran).To(Equal([]string{"runs a physical-safe read"}))
		})
	})

	// Issue 13: a physical card's personal data never reaches a report
	// unless the user asks (trace.EnvReportPersonal).
	Context("its APDU trace in the spec's report", Ordered, func() {
		var (
			entries           types.ReportEntries
			signLen, factsLen int
			holder            []string
		)
		BeforeAll(func() {
			h := issued.Profile.Holder
			holder = []string{h.Name, h.Address, h.BirthDate.Format("20060102")}
		})
		ReportAfterEach(func(r SpecReport) { entries = r.ReportEntries })
		read := func() {
			t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
			Expect(harness.Reset(t)).To(Succeed())
			c := jpkiclient.New(t)
			Expect(c.SelectAP()).To(Succeed())
			Expect(c.VerifyPIN(jpkiclient.SignPIN, jpkiclient.PIN(issued.Profile.PINs.Sign))).To(Succeed())
			_, der, err := c.ReadCertificate(jpkiclient.SignCert)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(der)).To(ContainSubstring(issued.Profile.Holder.Name), "the certificate carries the name")
			signLen = len(der)
			ci := cardinfoclient.New(t)
			Expect(ci.Select(cardinfoclient.TextAP)).To(Succeed())
			f, err := ci.Facts(cardinfoclient.PIN(issued.Profile.PINs.CardInfo))
			Expect(err).NotTo(HaveOccurred())
			Expect(f.Name).To(Equal(issued.Profile.Holder.Name))
			factsLen = len(f.Raw)
			Expect(harness.Reset(t)).To(Succeed())
		}
		shown := func() (trace string, found []string) {
			Expect(entries).To(HaveLen(1))
			trace = entries[0].StringRepresentation()
			for _, v := range holder {
				if strings.Contains(trace, v) || strings.Contains(trace, fmt.Sprintf("% X", v)) {
					found = append(found, v)
				}
			}
			return trace, found
		}

		It("reads the signing certificate and the four facts", func() { read() })

		It("shows their lengths but none of the holder's facts", func() {
			s, found := shown()
			Expect(found).To(BeEmpty(), "the trace shows the holder's facts:\n%s", s)
			Expect(s).To(ContainSubstring(trace.HiddenText(4)), "the certificate's 4-byte header probe")
			Expect(s).To(ContainSubstring(trace.HiddenText(256)), "the certificate's 256-byte chunks")
			Expect(s).To(ContainSubstring(trace.HiddenText(signLen%256)), "the last chunk of the %d-byte certificate", signLen)
			Expect(s).To(ContainSubstring(trace.HiddenText(factsLen)), "the four facts")
		})

		It("reads them again with MYNAHIL_REPORT_PERSONAL=1", func() {
			GinkgoT().Setenv(trace.EnvReportPersonal, "1")
			read()
		})

		It("shows the holder's facts the user asked for", func() {
			s, found := shown()
			Expect(found).To(Equal(holder), "the trace:\n%s", s)
			Expect(s).NotTo(ContainSubstring("hidden"))
		})
	})

	It("runs a destructive spec only with the opt-in naming this card", func(ctx context.Context) {
		facts := tgt.Facts()
		facts.AllowDestructive = true
		facts.WantFingerprint = sha256hex(issued.AuthCert.Raw)
		Expect(target.Decide(speclabel.Of(speclabel.Destructive), facts).Reason).To(ContainSubstring("final pass"),
			"in a run that selects other specs too, destructive ones wait for their own pass")
		facts.DestructivePass = true
		Expect(target.Decide(speclabel.Of(speclabel.Destructive), facts).Run).To(BeTrue())
		facts.WantFingerprint = sha256hex([]byte("another card"))
		Expect(target.Decide(speclabel.Of(speclabel.Destructive), facts).Reason).To(ContainSubstring("is not the one"))
	})
})
