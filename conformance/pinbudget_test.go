package conformance_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/speclabel"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// A mistyped PIN is the user's fault, not the reader's: the run is
// incomplete (4), names the cause and the remedy, and spends at most one
// try of the PIN; a PIN short of tries is not sent at all (the PIN budget,
// harness/pinbudget; docs/conformance.md).
var _ = Describe("The PIN budget in a conformance run", Ordered, speclabel.Of(speclabel.Verdicts), func() {
	var sim *conformance.Sim
	BeforeAll(func() {
		if testing.Short() {
			Skip("needs pcscd with vpcd: not with -short")
		}
		startPCSCD()
		var err error
		sim, err = conformance.StartSim(0, faults.Healthy, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			sim.Close()
			Expect(conformance.WaitCard(conformance.VirtualReader, false, 10*time.Second)).To(Succeed())
		})
		Expect(conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second)).To(Succeed())
	})

	authTries := func() int {
		GinkgoHelper()
		card, err := pcsc.Open(conformance.VirtualReader, pcsc.Shared)
		Expect(err).NotTo(HaveOccurred())
		defer card.Close()
		c := jpkiclient.New(card)
		Expect(c.SelectAP()).To(Succeed())
		n, err := c.TriesLeft(jpkiclient.AuthPIN)
		Expect(err).NotTo(HaveOccurred())
		return n
	}
	pinChecks := []string{"R06", "R07", "R11", "R17"}
	run := func(pin jpkiclient.PIN) []conformance.Result {
		GinkgoHelper()
		results, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, Card: sim, ExtendedMax: 65526,
			APDUTimeout: 2 * time.Second, AuthPIN: pin, Only: pinChecks, Log: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		return results
	}

	It("a mistyped auth PIN: incomplete, one try spent, the cause and the remedy named", func() {
		Expect(authTries()).To(Equal(3))
		results := run("9999")
		Expect(conformance.Verdict(results)).To(Equal(conformance.VerdictIncomplete))
		Expect(conformance.ExitCode(conformance.Verdict(results))).To(Equal(conformance.ExitIncomplete))
		for _, r := range results {
			Expect(r.Status).To(Equal(conformance.Incomplete), "%s: %s", r.Check.ID, r.Message)
			Expect(r.Message).To(And(ContainSubstring("the auth PIN given was refused; 2 of 3 tries left"),
				ContainSubstring("check MYNAHIL_AUTH_PIN")), r.Check.ID)
			Expect(r.Message).NotTo(ContainSubstring("9999"))
		}
		Expect(authTries()).To(Equal(2), "the run spent more than one try of the auth PIN")
	})

	It("the right PIN on a card short of tries: not sent, incomplete", func() {
		results := run(conformance.SimAuthPIN)
		Expect(conformance.Verdict(results)).To(Equal(conformance.VerdictIncomplete))
		for _, r := range results {
			Expect(r.Status).To(Equal(conformance.Incomplete), "%s: %s", r.Check.ID, r.Message)
			Expect(r.Message).To(ContainSubstring("the auth PIN was not sent, the card shows 2 of 3 tries left"), r.Check.ID)
		}
		Expect(authTries()).To(Equal(2))
	})
})
