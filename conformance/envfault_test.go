package conformance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/conformance"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/vpcd"
	"github.com/mynahil/mynahil/vpcd/faults"
)

// envFaultCase is a row of envFaultTable (fault_matrix_test.go): an
// environment fault, and the cause the run must name. fault breaks the
// environment once R05 has passed and returns what undoes it; nil means
// the row runs in a child process (pcscd killed: killPCSCDMidRun).
type envFaultCase struct {
	name  string
	cause string
	fault func(sim *conformance.Sim) (undo func())
	// checks are the checks the row runs (default envFaultChecks): the
	// fault comes after the second, the third meets it, the fourth is left.
	checks []string
}

// envFaultChecks are the checks an environment-fault row runs unless it
// names its own: the fault comes after R05, so R13 meets it and R14 is left.
var envFaultChecks = []string{"R01", "R05", "R13", "R14"}

func (fc envFaultCase) only() []string {
	if fc.checks != nil {
		return fc.checks
	}
	return envFaultChecks
}

// envFaultConfig is the run of an environment-fault row. The card is
// served as if by another process (no card control): nobody puts it back.
func envFaultConfig(reader string, log io.Writer, only []string) conformance.Config {
	return conformance.Config{Reader: reader, AuthPIN: conformance.SimAuthPIN, SignPIN: conformance.SimSignPIN,
		APDUTimeout: 2 * time.Second, Only: only, Log: log}
}

// envReader is the reader of this Ginkgo process's slot pair, as the
// fault matrix's rows use (matrixSlot): the rows run in parallel processes.
func envReader() string { return vpcd.ReaderName(matrixSlot()) }

// faultAfter is a run's log that calls fault once, right after the line
// saying check passed: between two checks, as Run writes that line before
// the next check starts.
type faultAfter struct {
	io.Writer
	check string
	fault func()
	once  sync.Once
	fired bool
}

func (l *faultAfter) Write(p []byte) (int, error) {
	n, err := l.Writer.Write(p)
	if strings.HasPrefix(string(p), l.check+" PASSED") {
		l.once.Do(func() { l.fired = true; l.fault() })
	}
	return n, err
}

// runEnvFault runs the row and returns the run's report.json content.
func runEnvFault(fc envFaultCase) conformance.JSONReport {
	if fc.fault == nil {
		return runInChild(fc)
	}
	sim, err := conformance.StartSim(matrixSlot(), faults.Healthy, slog.New(slog.NewTextHandler(GinkgoWriter, &slog.HandlerOptions{Level: slog.LevelError})))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		sim.Close()
		Expect(conformance.WaitCard(envReader(), false, 10*time.Second)).To(Succeed())
	})
	Expect(conformance.WaitCard(envReader(), true, 15*time.Second)).To(Succeed())
	log := &faultAfter{Writer: GinkgoWriter, check: "R05", fault: func() { DeferCleanup(fc.fault(sim)) }}
	start := time.Now()
	results, _, err := conformance.Run(envFaultConfig(envReader(), log, fc.only()))
	Expect(err).NotTo(HaveOccurred())
	Expect(log.fired).To(BeTrue(), "R05 did not pass:\n%s", summary(results))
	return conformance.Summary{Env: conformance.Environment{Reader: envReader()}, Results: results, Start: start}.JSON()
}

// expectStoppedByFault: the run stopped at its third check (R13) with the
// row's cause and a remedy, kept the first two (R01, R05) as finished
// before the fault, ran nothing after it and says "incomplete" (exit 4),
// never "not conformant".
func expectStoppedByFault(fc envFaultCase, rep conformance.JSONReport) {
	only := fc.only()
	b, _ := json.MarshalIndent(rep.Checks, "", "  ")
	Expect(rep.Fault).NotTo(BeNil(), "no environment fault reported:\n%s", b)
	Expect(rep.Fault.Cause).To(Equal(fc.cause), "%s", b)
	Expect(rep.Fault.Check).To(Equal(only[2]))
	Expect(rep.Fault.What).NotTo(BeEmpty())
	Expect(rep.Fault.Do).NotTo(BeEmpty())
	Expect(rep.Verdict).To(Equal(conformance.VerdictIncomplete))
	Expect(rep.ExitCode).To(Equal(conformance.ExitIncomplete))
	Expect(rep.Checks).To(HaveLen(len(only)))
	for i, c := range rep.Checks {
		Expect(c.ID).To(Equal(only[i]))
		switch {
		case i < 2:
			Expect(c.Status).To(Equal(conformance.Passed), "%s: %s", c.ID, c.Message)
			Expect(c.BeforeFault).To(BeTrue(), "%s not marked as finished before the fault", c.ID)
		case i == 2:
			Expect(c.Status).To(Equal(conformance.Interrupted), c.Message)
			Expect(c.Message).To(ContainSubstring(fc.cause))
		default:
			Expect(c.Status).To(Equal(conformance.Skipped), "%s ran after the fault", c.ID)
			Expect(c.Message).To(ContainSubstring("the run stopped at " + only[2]))
		}
	}
	AddReportEntry("environment fault", rep.Fault.Cause+": "+rep.Fault.What+"; "+rep.Fault.Do)
}

// holdExclusively connects to the card with SCARD_SHARE_EXCLUSIVE, as
// another application would, until undone.
func holdExclusively(*conformance.Sim) func() {
	ctx, err := pcsc.Establish()
	Expect(err).NotTo(HaveOccurred())
	c, err := ctx.Connect(envReader(), pcsc.Exclusive)
	Expect(err).NotTo(HaveOccurred())
	return func() {
		_ = c.Disconnect(pcsc.LeaveCard)
		_ = ctx.Close()
	}
}

// stopServingCard stops the simulator serving the card: the card leaves
// the reader for good, as when the process serving it ends.
func stopServingCard(sim *conformance.Sim) func() {
	sim.Close()
	return func() {}
}

// swapCard takes the card out and puts another simulated card (another
// issuance: other keys, another auth certificate) into the reader. R07
// then reads another certificate than the run's reference and fails.
func swapCard(sim *conformance.Sim) func() {
	Expect(sim.Leave(envReader())).To(Succeed())
	other, err := conformance.StartSim(matrixSlot(), faults.Healthy, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(conformance.WaitCard(envReader(), true, 15*time.Second)).To(Succeed())
	return other.Close
}

// envFaultChild names the child process's row in its environment.
const envFaultChild = "MYNAHIL_TEST_ENVFAULT_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(envFaultChild) != "" {
		os.Exit(killPCSCDMidRun())
	}
	os.Exit(m.Run())
}

// runInChild runs the row in this test binary again, in private network
// and mount namespaces with a pcscd of its own (root, unshare(1)), and
// reads the report.json content it prints. The pcscd the other specs use
// is never touched.
func runInChild(fc envFaultCase) conformance.JSONReport {
	if os.Geteuid() != 0 {
		Skip("killing pcscd mid-run needs a pcscd of the test's own in private namespaces: run as root")
	}
	unshare, err := exec.LookPath("unshare")
	Expect(err).NotTo(HaveOccurred(), "unshare (util-linux) is needed for a private pcscd")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--net", "--mount", "--propagation", "private", "--", os.Args[0], "-test.run", "^$")
	// The child starts a pcscd of its own: it must not take the parent's
	// (scripts/with-pcscd's) for the one to use, nor its slot count.
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != pcscdenv.EnvPID && name != pcscdenv.EnvSlots && name != pcscdenv.EnvSlotsLent {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, envFaultChild+"="+fc.name)
	cmd.Stderr = GinkgoWriter
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "the child run failed (its log is above):\n%s", out)
	var rep conformance.JSONReport
	Expect(json.Unmarshal(out, &rep)).To(Succeed(), "child output:\n%s", out)
	return rep
}

// killPCSCDMidRun is the child of the "pcscd killed" row: it brings up
// loopback, gives itself a private /run/pcscd, starts its own pcscd and
// the simulated card, SIGKILLs pcscd once R05 has passed, and prints the
// run's report.json content on stdout. Its exit code says whether it
// could do so.
func killPCSCDMidRun() int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "env-fault child: "+format+"\n", args...)
		return 1
	}
	if out, err := exec.Command("ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fail("bringing up loopback: %v: %s", err, out)
	}
	if err := os.MkdirAll(pcscdenv.RunDir, 0o755); err != nil {
		return fail("%v", err)
	}
	if err := syscall.Mount("tmpfs", pcscdenv.RunDir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "mode=0755"); err != nil {
		return fail("mounting a private %s: %v", pcscdenv.RunDir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := pcscdenv.StartPCSCD(ctx)
	if err != nil || !p.Owned() {
		return fail("starting a pcscd of its own: %v (owned %v)", err, err == nil && p.Owned())
	}
	defer func() { _ = p.Stop() }()
	sim, err := conformance.StartSim(0, faults.Healthy, nil)
	if err != nil {
		return fail("%v", err)
	}
	defer sim.Close()
	if err := conformance.WaitCard(conformance.VirtualReader, true, 15*time.Second); err != nil {
		return fail("the card did not appear: %v", err)
	}
	log := &faultAfter{Writer: os.Stderr, check: "R05", fault: func() {
		_ = syscall.Kill(p.PID(), syscall.SIGKILL)
		<-p.Exited()
	}}
	start := time.Now()
	results, _, err := conformance.Run(envFaultConfig(conformance.VirtualReader, log, envFaultChecks))
	if err != nil || !log.fired {
		return fail("run: %v (pcscd killed: %v)", err, log.fired)
	}
	rep := conformance.Summary{Env: conformance.Environment{Reader: conformance.VirtualReader}, Results: results, Start: start}.JSON()
	if err := json.NewEncoder(os.Stdout).Encode(rep); err != nil {
		return fail("%v", err)
	}
	return 0
}
