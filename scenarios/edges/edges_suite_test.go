// Package edges_test is the suite of the card's edges (docs/card.md): the
// MF level, the commands real clients send that most clients never do, the
// files EF scans find, token and ATR variants, and certificate sizes — the
// answers where client code that works on the simulator could fail on a
// real card. It runs unchanged on every target (MYNAHIL_TARGET=sim|vpcd|
// pcsc); on a physical card only its physical-safe specs run, and they
// send only reads and commands the card refuses.
package edges_test

import (
	"encoding/hex"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
	"github.com/mynahil/mynahil/scenarios/framework"
)

func TestEdges(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Card edges")
}

var tgt *target.Target

// The run ends with one line: specs run, passed, skipped and why.
var _ = runsummary.Register("Card edges")

var _ = BeforeSuite(func() { tgt = framework.OpenTarget() })

var _ = BeforeEach(func() { tgt.Guard() })

// card is the target's transport, traced into the spec's report, reset.
func card() harness.Transport {
	t := harness.Traced(tgt.Transport(), ginkgotrace.ForTarget(tgt))
	Expect(harness.Reset(t)).To(Succeed())
	return t
}

// send transmits a command given as hex and returns data and status word.
func send(t harness.Transport, cmd string) ([]byte, string) {
	GinkgoHelper()
	b, err := hex.DecodeString(strings.ReplaceAll(cmd, " ", ""))
	Expect(err).NotTo(HaveOccurred())
	resp, err := t.Transmit(b)
	Expect(err).NotTo(HaveOccurred())
	Expect(len(resp)).To(BeNumerically(">=", 2))
	return resp[:len(resp)-2], strings.ToUpper(hex.EncodeToString(resp[len(resp)-2:]))
}

// expectSW sends cmd and expects the status word, returning the data.
func expectSW(t harness.Transport, cmd, sw string) []byte {
	GinkgoHelper()
	data, got := send(t, cmd)
	Expect(got).To(Equal(sw), "answer to %s", cmd)
	return data
}

const (
	selJPKI = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
	selISD  = "00 A4 04 0C 07 A0 00 00 01 51 00 00"
)
