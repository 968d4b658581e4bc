package conformance_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mynahil/mynahil/harness/speclabel"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// The Ginkgo route of the suite, for CI:
//
//	MYNAHIL_READER="ACS ACR39U ICC Reader 00 00" MYNAHIL_AUTH_PIN=… \
//	  go tool ginkgo --junit-report=junit.xml --json-report=report.json ./conformance
//
// runs every check against a reader (one It per check, labelled with its ID
// and "mandatory" or "optional"); MYNAHIL_CONFORMANCE_SIM=1 instead serves
// the simulated card on vpcd slot 0 of pcscd (started or reused through
// pcscdenv, which also serialises the vpcd slots between test processes).
// MYNAHIL_CONFORMANCE_HTML=DIR also writes DIR/report.html.
// The fault matrix (fault_matrix_test.go) runs unless -short is given.
func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Reader conformance")
}

var _ = Describe("Reader conformance", Ordered, speclabel.Of(speclabel.Reader), func() {
	var (
		cfg conformance.Config
		run *conformance.RunState
	)

	BeforeAll(func() {
		reader := os.Getenv("MYNAHIL_READER")
		useSim := os.Getenv("MYNAHIL_CONFORMANCE_SIM") != ""
		if reader == "" && !useSim {
			Skip("no reader under test: set MYNAHIL_READER, or MYNAHIL_CONFORMANCE_SIM=1 with pcscd and vpcd running")
		}
		cfg = conformance.Config{
			Reader:      reader,
			AuthPIN:     jpkiclient.PIN(os.Getenv("MYNAHIL_AUTH_PIN")),
			SignPIN:     jpkiclient.PIN(os.Getenv("MYNAHIL_SIGN_PIN")),
			Interactive: os.Getenv("MYNAHIL_INTERACTIVE") != "",
			Log:         GinkgoWriter,
		}
		if n, err := strconv.Atoi(os.Getenv("MYNAHIL_SOAK")); err == nil {
			cfg.SoakCount = n
		}
		if n, err := strconv.Atoi(os.Getenv("MYNAHIL_EXTENDED")); err == nil {
			cfg.ExtendedMax = n
		}
		if cfg.Interactive {
			cfg.Prompter = ginkgoPrompter{}
		}
		if useSim {
			startPCSCD()
			// A card that is just leaving the slot is not ours (docs/conformance.md#back-to-back-runs).
			Expect(conformance.WaitCard(conformance.VirtualReader, false, conformance.SlotClearWait)).To(Succeed())
			sim, err := conformance.StartSim(0, faults.Healthy, slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelWarn})))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { Expect(sim.Leave(conformance.VirtualReader)).To(Succeed()) })
			// Preflight wants the card in the reader: wait for pcscd to see it.
			Expect(conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second)).To(Succeed())
			cfg.Card = sim
			if cfg.Reader == "" {
				cfg.Reader = conformance.VirtualReader
			}
			if cfg.AuthPIN == "" {
				cfg.AuthPIN, cfg.SignPIN = conformance.SimAuthPIN, conformance.SimSignPIN
			}
			if cfg.ExtendedMax == 0 {
				cfg.ExtendedMax = 65526
			}
			env.Card = "simulated My Number Card"
		}
		// Could not run (pcscd, the reader's name, no card, not a My Number
		// Card) stops here, before any check blames the reader.
		base, err := conformance.Preflight(&cfg)
		Expect(err).NotTo(HaveOccurred())
		run = conformance.NewRun()
		run.Baseline = base
		run.NoteCard(&cfg)
	})

	for _, c := range conformance.Checks() {
		It(conformance.SpecText(c), Label(conformance.SpecLabels(c)...), func() {
			r := conformance.RunCheck(c, &cfg, run)
			for _, e := range r.Entries {
				AddReportEntry(e.Name, e.Value)
			}
			switch r.Status {
			case conformance.Skipped:
				Skip(r.Message)
			case conformance.Incomplete:
				Skip(string(conformance.Incomplete) + ": " + r.Message)
			case conformance.Failed:
				Fail(r.Message)
			case conformance.Interrupted:
				// An environment fault: no verdict on the reader, and no
				// later check can run (docs/conformance.md#environment-faults).
				AbortSuite(string(conformance.Interrupted) + ": " + r.Message)
			}
		})
	}

	AfterAll(func() {
		if cfg.Reader != "" {
			env.Fill(cfg)
		}
	})
})

// env describes the reader under test for the HTML report.
var env conformance.Environment

var _ = ReportAfterSuite("HTML report", func(report Report) {
	dir := os.Getenv("MYNAHIL_CONFORMANCE_HTML")
	if dir == "" || env.Reader == "" {
		return
	}
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(conformance.WriteHTML(filepath.Join(dir, "report.html"), conformance.Summary{Env: env, Results: conformance.ResultsFromGinkgo(report), Start: report.StartTime})).To(Succeed())
})

// ginkgoPrompter asks on stdout and waits for Enter on stdin (run ginkgo
// without -p for interactive checks).
type ginkgoPrompter struct{}

func (ginkgoPrompter) Prompt(msg string) error {
	GinkgoWriter.Printf("\n>>> %s Press Enter when done.\n", msg)
	_, _ = os.Stdout.WriteString("\n>>> " + msg + " Press Enter when done. ")
	buf := make([]byte, 1)
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		n, err := os.Stdin.Read(buf)
		if err != nil {
			return err
		}
		if n == 1 && buf[0] == '\n' {
			return nil
		}
	}
	return os.ErrDeadlineExceeded
}

// startPCSCD starts or reuses pcscd with the vpcd readers for the rest of
// the container and holds pcscdenv's vpcd slot lock meanwhile. Without a
// pcscd binary it skips, except in CI.
func startPCSCD() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p, err := pcscdenv.StartPCSCD(ctx)
	if err != nil {
		if why, ok := pcscdenv.SkipReason(err); ok {
			Skip(why)
		}
		Fail("starting pcscd: " + err.Error())
	}
	DeferCleanup(p.Stop)
}
