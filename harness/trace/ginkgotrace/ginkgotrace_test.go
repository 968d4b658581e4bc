package ginkgotrace_test

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/trace"
	"github.com/mynahil/mynahil/harness/trace/ginkgotrace"
)

func TestGinkgotrace(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "ginkgotrace")
}

var _ = Describe("ForSpec", Ordered, func() {
	var previous types.ReportEntries

	ReportAfterEach(func(r SpecReport) {
		previous = r.ReportEntries
	})

	It("records during a spec", func() {
		rec := ginkgotrace.ForSpec()
		rec.Record(time.Now(), time.Millisecond, []byte{0x00, 0x20, 0x00, 0x80, 0x04, '1', '2', '3', '4'}, []byte{0x90, 0x00}, nil)
	})

	It("attached the masked trace to the previous spec's report", func() {
		Expect(previous).To(HaveLen(1))
		e := previous[0]
		Expect(e.Name).To(Equal(ginkgotrace.EntryName))
		Expect(e.Visibility).To(Equal(types.ReportEntryVisibilityFailureOrVerbose))
		Expect(e.StringRepresentation()).To(ContainSubstring("00 20 00 80 04 ** ** ** **"))
		Expect(strings.Contains(e.StringRepresentation(), "31 32 33 34")).To(BeFalse())
	})

	// The signing certificate's first bytes, read on a physical card.
	readSignCert := func(rec *trace.Recorder) {
		now := time.Now()
		rec.Record(now, 0, []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}, []byte{0x90, 0x00}, nil)
		rec.Record(now, 0, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x01}, []byte{0x90, 0x00}, nil)
		rec.Record(now, 0, []byte{0x00, 0xB0, 0x00, 0x00, 0x05}, append([]byte("Taro "), 0x90, 0x00), nil)
	}

	It("records a physical card's reads", func() {
		GinkgoT().Setenv(trace.EnvReportPersonal, "")
		readSignCert(ginkgotrace.ForTarget(card{physical: true}))
	})

	It("hid the physical card's personal data", func() {
		Expect(previous).To(HaveLen(1))
		s := previous[0].StringRepresentation()
		Expect(s).To(ContainSubstring("<5 bytes of personal data hidden> 90 00"))
		Expect(s).NotTo(ContainSubstring("54 61 72 6F"))
	})

	It("records a simulated card's reads", func() {
		readSignCert(ginkgotrace.ForTarget(card{physical: false}))
	})

	It("kept the simulated card's data", func() {
		Expect(previous).To(HaveLen(1))
		Expect(previous[0].StringRepresentation()).To(ContainSubstring("54 61 72 6F 20 90 00"))
	})

	It("records a physical card's reads when the user asks for personal data", func() {
		GinkgoT().Setenv(trace.EnvReportPersonal, "1")
		readSignCert(ginkgotrace.ForTarget(card{physical: true}))
	})

	It("kept the data the user asked for", func() {
		Expect(previous).To(HaveLen(1))
		Expect(previous[0].StringRepresentation()).To(ContainSubstring("54 61 72 6F 20 90 00"))
	})

	It("adds nothing for an empty recorder", func() {
		ginkgotrace.Attach(trace.New())
		ginkgotrace.Attach(nil)
	})

	It("added no entry for the empty recorder", func() {
		Expect(previous).To(BeEmpty())
	})
})

type card struct{ physical bool }

func (c card) Physical() bool { return c.physical }
