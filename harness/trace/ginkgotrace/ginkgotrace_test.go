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

	It("adds nothing for an empty recorder", func() {
		ginkgotrace.Attach(trace.New())
		ginkgotrace.Attach(nil)
	})

	It("added no entry for the empty recorder", func() {
		Expect(previous).To(BeEmpty())
	})
})
