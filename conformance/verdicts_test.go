package conformance_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/vpcd"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// The situations of docs/conformance.md in which the run must not blame
// the reader (could not run), must not praise it for parts it did not run
// (incomplete), or must refuse a second card source on the slot.
var _ = Describe("Verdicts", Ordered, speclabel.Of(speclabel.Verdicts), func() {
	BeforeAll(func() {
		if testing.Short() {
			Skip("needs pcscd with vpcd: not with -short")
		}
		startPCSCD()
	})

	quiet := func() *slog.Logger {
		return slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelError}))
	}

	startCard := func() *conformance.Sim {
		sim, err := conformance.StartSim(0, faults.Healthy, quiet())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			sim.Close()
			Expect(conformance.WaitCard(conformance.VirtualReader, false, 10*time.Second)).To(Succeed())
		})
		Expect(conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second)).To(Succeed())
		return sim
	}

	It("could not run, not not conformant: a reader name that is not listed", func() {
		_, _, err := conformance.Run(conformance.Config{Reader: "Virtual PCD 00 09", Log: GinkgoWriter})
		Expect(conformance.IsNotRun(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(And(ContainSubstring(`"Virtual PCD 00 09" is not listed`), ContainSubstring(conformance.VirtualReader)))
	})

	It("could not run: no card in the reader on a run that is not interactive", func() {
		_, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, Log: GinkgoWriter})
		Expect(conformance.IsNotRun(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("no card in"))
		dir := GinkgoT().TempDir()
		_, werr := conformance.WriteReports(dir, conformance.Summary{Env: conformance.Environment{Reader: conformance.VirtualReader}, NotRun: err, Start: time.Now()})
		Expect(werr).NotTo(HaveOccurred())
		b, _ := os.ReadFile(filepath.Join(dir, "report.json"))
		Expect(string(b)).To(And(ContainSubstring(`"verdict": "not run"`), ContainSubstring(`"exit_code": 3`)))
	})

	It("could not run: a card that is not a My Number Card", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cs := vpcd.NewCardSide(foreignCard{}, vpcd.WithSlot(0), vpcd.WithLogger(quiet()))
		done := make(chan struct{})
		go func() { defer close(done); _ = cs.Run(ctx) }()
		DeferCleanup(func() {
			cancel()
			<-done
			Expect(conformance.WaitCard(conformance.VirtualReader, false, 10*time.Second)).To(Succeed())
		})
		Expect(conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second)).To(Succeed())
		_, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, Log: GinkgoWriter})
		Expect(conformance.IsNotRun(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(And(ContainSubstring("is not a My Number Card"), ContainSubstring("6A82")))
	})

	It("could not run, not not conformant: another application holds the reader exclusively from the start", func() {
		startCard()
		release := holdExclusively(nil)
		defer release()
		results, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, APDUTimeout: 2 * time.Second, Log: GinkgoWriter})
		Expect(conformance.IsNotRun(err)).To(BeTrue(), "got %v:\n%s", err, summary(results))
		Expect(err.Error()).To(And(ContainSubstring(conformance.CauseSharing), ContainSubstring("close the application")))
	})

	It("is incomplete, never conformant, when no PINs are given", func() {
		sim := startCard()
		results, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, Card: sim, ExtendedMax: 65526,
			APDUTimeout: 2 * time.Second, Only: []string{"R06", "R07", "R11", "R17"}, Log: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		Expect(conformance.Verdict(results)).To(Equal(conformance.VerdictIncomplete))
		for _, r := range results {
			Expect(r.Status).To(Equal(conformance.Incomplete), "%s: %s", r.Check.ID, r.Message)
			Expect(r.Message).To(ContainSubstring("needs the auth PIN (MYNAHIL_AUTH_PIN)"), r.Check.ID)
		}
	})

	It("refuses to serve a second card on a slot another process serves", func() {
		startCard()
		err := conformance.SlotFree(conformance.VirtualReader)
		Expect(conformance.IsNotRun(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("another process serves this vpcd slot"))
	})

	It("asks for nothing and reports the operator's parts as missing without card control", func() {
		sim := startCard()
		_ = sim
		results, _, err := conformance.Run(conformance.Config{Reader: conformance.VirtualReader, AuthPIN: conformance.SimAuthPIN,
			Only: []string{"R02", "R04"}, Log: GinkgoWriter})
		Expect(err).NotTo(HaveOccurred())
		for _, r := range results {
			Expect(r.Status).To(Equal(conformance.Incomplete), r.Check.ID)
			Expect(r.Skipped).To(HaveLen(1))
			Expect(r.Skipped[0].Needs).To(ContainSubstring("an operator"))
		}
		Expect(conformance.Verdict(results)).To(Equal(conformance.VerdictIncomplete))
	})

	It("interactive: asks for the card back before a check that needs it", func() {
		sim := startCard()
		p := &recordingPrompter{onPrompt: func(msg string) {
			if strings.Contains(msg, "Put the card back") {
				sim.Insert()
			}
		}}
		// The operator took the card away at the end of the previous check
		// (R18 and R19 end that way); R20 needs it.
		sim.Remove()
		Expect(conformance.WaitCard(conformance.VirtualReader, false, 10*time.Second)).To(Succeed())
		var r20 conformance.Check
		for _, c := range conformance.Checks() {
			if c.ID == "R20" {
				r20 = c
			}
		}
		cfg := conformance.Config{Reader: conformance.VirtualReader, Interactive: true, Prompter: p, Log: GinkgoWriter}
		r := conformance.RunCheck(r20, &cfg, conformance.NewRun())
		Expect(p.msgs).To(HaveLen(1))
		Expect(p.msgs[0]).To(ContainSubstring("R20 needs it"))
		Expect(r.Status).To(Equal(conformance.Passed), r.Message)
	})
})

type recordingPrompter struct {
	onPrompt func(string)
	msgs     []string
}

func (p *recordingPrompter) Prompt(msg string) error {
	p.msgs = append(p.msgs, msg)
	p.onPrompt(msg)
	return nil
}

// foreignCard is a card without the JPKI AP: every command gets 6A82.
type foreignCard struct{}

func (foreignCard) ATR() []byte            { return vpcd.EchoATR }
func (foreignCard) Transmit([]byte) []byte { return []byte{0x6A, 0x82} }
func (foreignCard) PowerOn()               {}
func (foreignCard) PowerOff()              {}
func (foreignCard) Reset()                 {}
