package pcsc_test

import (
	"context"
	"errors"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/vpcd"
)

// The suite drives a real pcscd with vpcd (pcscdenv): testCard on slot 0,
// vpcd.EchoCard on slot 1 where a spec needs it. The harness's tests never
// use the simulator (docs/suites.md, "One-way imports"); the suites and
// interop carry the simulated My Number Card through this binding.
func TestPCSC(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "PC/SC transport")
}

var sim *vpcdslot.Attached

// The cards sit on fixed vpcd slots, so only process 1 serves them and
// every spec is Serial (ginkgo -p runs them on process 1).
var _ = SynchronizedBeforeSuite(func(ctx SpecContext) []byte {
	p, err := pcscdenv.StartPCSCD(ctx)
	if reason, ok := pcscdenv.SkipReason(err); ok {
		Skip(reason)
	}
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(p.Stop)

	sim, err = vpcdslot.Attach(ctx, &testCard{}, 0)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(sim.Detach)
	return nil
}, func([]byte) {}, NodeTimeout(3*time.Minute)) // includes waiting for the vpcd slot lock

func establish() *pcsc.Context {
	c, err := pcsc.Establish()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(c.Close)
	return c
}

func connect(c *pcsc.Context, reader string, mode pcsc.Mode) *pcsc.Card {
	card, err := c.Connect(reader, mode)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(card.Close)
	return card
}

var _ = Describe("Context", Serial, func() {
	It("lists both vpcd readers with state and ATR", func() {
		rs, err := establish().Readers()
		Expect(err).NotTo(HaveOccurred())
		byName := map[string]pcsc.ReaderInfo{}
		for _, r := range rs {
			byName[r.Name] = r
		}
		Expect(byName).To(HaveKey(pcscdenv.VPCDReader0))
		Expect(byName).To(HaveKey(pcscdenv.VPCDReader1))
		Expect(byName[pcscdenv.VPCDReader0].Present()).To(BeTrue())
		Expect(byName[pcscdenv.VPCDReader0].ATR).To(Equal(testATR))
		Expect(byName[pcscdenv.VPCDReader0].ATRHex()).To(Equal("3B E0 00 FF 81 31 FE 45 14"))
		Expect(byName[pcscdenv.VPCDReader1].Present()).To(BeFalse())
		Expect(byName[pcscdenv.VPCDReader1].StateString()).To(Equal("empty"))
		Expect(byName[pcscdenv.VPCDReader1].ATR).To(BeEmpty())
	})

	It("selects readers by index and substring like Select", func() {
		c := establish()
		r, err := c.Reader("pcd 00 00")
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Name).To(Equal(pcscdenv.VPCDReader0))
		byIndex, err := c.Reader("0")
		Expect(err).NotTo(HaveOccurred())
		names, err := c.ReaderNames()
		Expect(err).NotTo(HaveOccurred())
		Expect(byIndex.Name).To(Equal(names[0]))
		_, err = c.Reader("no such reader")
		Expect(err).To(MatchError(pcsc.ErrReaderNotFound))
	})

	It("refuses to connect to an empty reader or an unknown one", func() {
		c := establish()
		_, err := c.Connect(pcscdenv.VPCDReader1, pcsc.Shared)
		Expect(err).To(MatchError(pcsc.ErrNoCard))
		Expect(err.Error()).To(HavePrefix(`connecting to "Virtual PCD 00 01" (shared): `))
		_, err = c.Connect("Nonexistent Reader", pcsc.Shared)
		Expect(err).To(MatchError(pcsc.ErrReaderNotFound))
	})

	It("sees an insertion and a removal, and gives up when its context ends", func(ctx SpecContext) {
		c := establish()
		short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.WaitCard(short, pcscdenv.VPCDReader1)
		Expect(err).To(MatchError(pcsc.ErrCancelled))
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), "%v", err)
		Expect(time.Since(start)).To(BeNumerically("<", 2*time.Second))

		side := vpcd.NewCardSide(vpcd.EchoCard{}, vpcd.WithSlot(1), vpcd.WithLogger(vpcdslot.QuietLogger()))
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- side.Run(rctx) }()
		DeferCleanup(func() { stop(); <-done })

		r, err := c.WaitCard(ctx, pcscdenv.VPCDReader1)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.ATR).To(Equal(vpcd.EchoATR))

		side.Remove()
		r, err = c.WaitRemoved(ctx, pcscdenv.VPCDReader1)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Present()).To(BeFalse())
	}, SpecTimeout(15*time.Second))

	It("Open connects with a context of its own that Close releases", func() {
		card, err := pcsc.Open("pcd 00 00", pcsc.Shared)
		Expect(err).NotTo(HaveOccurred())
		Expect(card.Reader()).To(Equal(pcscdenv.VPCDReader0))
		Expect(transmit(card, selectAP)).To(Equal(sw9000))
		Expect(card.Close()).To(Succeed())
		_, err = pcsc.Open("no such reader", pcsc.Shared)
		Expect(err).To(MatchError(pcsc.ErrReaderNotFound))
	})

	It("closes cards whose handle pcsc-lite forgot; Disconnect says what SCardDisconnect said", func() {
		c, err := pcsc.Establish()
		Expect(err).NotTo(HaveOccurred())
		closed, disconnected := connect(c, pcscdenv.VPCDReader0, pcsc.Shared), connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(c.Close()).To(Succeed()) // releasing the context ends its handles
		Expect(closed.Close()).To(Succeed())
		err = disconnected.Disconnect(pcsc.LeaveCard)
		var code pcsc.Error
		Expect(errors.As(err, &code)).To(BeTrue(), "%v", err)
		Expect(uint32(code)).To(Equal(uint32(0x80100003))) // SCARD_E_INVALID_HANDLE
		Expect(disconnected.Disconnect(pcsc.LeaveCard)).To(Succeed())
	})

	It("is unusable after Close", func() {
		c, err := pcsc.Establish()
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Close()).To(Succeed())
		Expect(c.Close()).To(Succeed())
		_, err = c.ReaderNames()
		Expect(err).To(MatchError(pcsc.ErrClosed))
	})
})

// sw9000 is the answer of a command that worked with no data.
var sw9000 = []byte{0x90, 0x00}

// transmit sends one command and fails the spec on a transport error.
func transmit(t *pcsc.Card, cmd []byte) []byte {
	GinkgoHelper()
	rsp, err := t.Transmit(cmd)
	Expect(err).NotTo(HaveOccurred())
	return rsp
}

var _ = Describe("Card on a test card through pcscd", Serial, func() {
	var (
		c *pcsc.Context
		t *pcsc.Card
	)
	BeforeEach(func() {
		c = establish()
		t = connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
	})

	It("reports the card's ATR and T=1", func() {
		atr, err := t.ATR()
		Expect(err).NotTo(HaveOccurred())
		Expect(atr).To(Equal(testATR))
		Expect(t.Protocol()).To(Equal("T=1"))
		Expect(t.ActiveProtocol()).To(Equal(pcsc.ProtocolT1))
		Expect(t.Reader()).To(Equal(pcscdenv.VPCDReader0))
		st, err := t.Status()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Reader).To(Equal(pcscdenv.VPCDReader0))
		Expect(st.Protocol).To(Equal(pcsc.ProtocolT1))
		Expect(st.State & (pcsc.Powered | pcsc.Negotiable | pcsc.Specific)).NotTo(BeZero())
		Expect(st.ATR).To(Equal(testATR))
	})

	It("receives into a buffer of the caller's size: too small is ErrInsufficientBuffer with the length needed", func() {
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
		readTen := []byte{0x00, 0xB0, 0x00, 0x00, 0x0A}
		want := append(append([]byte(nil), testData[:10]...), 0x90, 0x00)

		small, err := t.TransmitBuffer(readTen, len(want)-1)
		Expect(err).To(MatchError(pcsc.ErrInsufficientBuffer))
		Expect(small.Needed).To(Equal(len(want)))
		Expect(small.Data).To(BeNil())
		Expect(small.Overflowed).To(BeFalse())

		exact, err := t.TransmitBuffer(readTen, len(want))
		Expect(err).NotTo(HaveOccurred())
		Expect(exact).To(Equal(pcsc.Received{Data: want, Needed: len(want)}))

		_, err = t.TransmitBuffer(readTen, -1)
		Expect(err).To(MatchError(ContainSubstring("a receive buffer needs")))
		_, err = t.TransmitBuffer(nil, 10)
		Expect(err).To(MatchError(ContainSubstring("a command needs 1..")))
	})

	It("passes the reader's refusal of attributes and control codes on as an Error", func() {
		// Debian's vpcd answers neither (docs/vpcd-pcscd.md §9).
		var code pcsc.Error
		_, err := t.GetAttrib(pcsc.AttrVendorName)
		Expect(errors.As(err, &code)).To(BeTrue(), "%v", err)
		Expect(uint32(code)).To(Equal(uint32(0x8010001F))) // SCARD_E_UNSUPPORTED_FEATURE
		_, err = t.Control(pcsc.GetFeatureRequest, nil)
		Expect(errors.As(err, &code)).To(BeTrue(), "%v", err)
		Expect(uint32(code)).To(Equal(uint32(0x8010001F)))
	})

	It("carries short and extended reads byte for byte: 256 bytes at offset 0x0100", func() {
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
		rsp := transmit(t, []byte{0x00, 0xB0, 0x01, 0x00, 0x00})
		Expect(rsp).To(Equal(append(append([]byte(nil), testData[0x100:0x200]...), 0x90, 0x00)))
		Expect(transmit(t, []byte{0x00, 0xB0, 0x0F, 0xFF, 0x02})).To(Equal([]byte{0x6B, 0x00}))
	})

	It("warm-resets with Reset: the verified PIN is gone", func() {
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
		Expect(transmit(t, append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(testPIN))}, testPIN...))).To(Equal(sw9000))
		sig := transmit(t, signCommand)
		Expect(sig).To(HaveLen(258))
		Expect(sig[256:]).To(Equal(sw9000))

		Expect(t.Reset()).To(Succeed())
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
		Expect(transmit(t, signCommand)).To(Equal([]byte{0x69, 0x82}))
	})

	It("tells another application that the card was reset", func() {
		other := connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(t.Reset()).To(Succeed())
		_, err := other.Transmit(selectAP)
		Expect(err).To(MatchError(pcsc.ErrCardReset))
		Expect(other.Reconnect(pcsc.LeaveCard)).To(Succeed())
		Expect(transmit(other, selectAP)).To(Equal(sw9000))
	})

	It("keeps others out in exclusive mode", func() {
		Expect(t.Close()).To(Succeed())
		ex := connect(c, pcscdenv.VPCDReader0, pcsc.Exclusive)
		Expect(ex.Mode()).To(Equal(pcsc.Exclusive))
		_, err := c.Connect(pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(err).To(MatchError(pcsc.ErrSharingViolation))
		r, err := c.Reader(pcscdenv.VPCDReader0)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Exclusive()).To(BeTrue())
		Expect(ex.Close()).To(Succeed())
		connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
	})

	It("holds another application's transaction off until End", func() {
		other := connect(establish(), pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(t.Begin()).To(Succeed())
		began := make(chan error, 1)
		go func() { began <- other.Begin() }()
		Consistently(began, 300*time.Millisecond).ShouldNot(Receive())
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
		Expect(t.End(pcsc.LeaveCard)).To(Succeed())
		Eventually(began, 5*time.Second).Should(Receive(BeNil()))
		Expect(other.End(pcsc.LeaveCard)).To(Succeed())
		Expect(other.End(pcsc.LeaveCard)).To(MatchError(pcsc.ErrNotTransacted))
	})

	It("cold-resets with UnpowerCard, which another application sees as a reset", func() {
		other := connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(t.Reconnect(pcsc.UnpowerCard)).To(Succeed())
		_, err := other.Transmit(selectAP)
		Expect(err).To(MatchError(pcsc.ErrCardReset))
		Expect(transmit(t, selectAP)).To(Equal(sw9000))
	})

	It("refuses bad input without a panic, and calls after Close", func() {
		_, err := t.Transmit(nil)
		Expect(err).To(MatchError(ContainSubstring("a command needs 1..")))
		_, err = t.Transmit(make([]byte, 70000))
		Expect(err).To(HaveOccurred())
		Expect(t.Close()).To(Succeed())
		Expect(t.Close()).To(Succeed())
		_, err = t.Transmit([]byte{0x00, 0xA4, 0x00, 0x00})
		Expect(err).To(MatchError(harness.ErrClosed))
		_, err = t.ATR()
		Expect(err).To(MatchError(harness.ErrClosed))
		Expect(t.Reset()).To(MatchError(harness.ErrClosed))
	})
})

var _ = Describe("Card removal", Serial, func() {
	It("turns a removed card into ErrCardRemoved, and a re-inserted one is usable again", func(ctx SpecContext) {
		c := establish()
		t := connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(transmit(t, selectAP)).To(Equal(sw9000))

		sim.Side.Remove()
		DeferCleanup(func(ctx SpecContext) {
			sim.Side.Insert()
			Expect(pcscdenv.WaitState(ctx, pcscdenv.VPCDReader0, true)).To(Succeed())
		})
		Expect(pcscdenv.WaitState(ctx, pcscdenv.VPCDReader0, false)).To(Succeed())
		_, err := t.Transmit(selectAP)
		Expect(err).To(MatchError(pcsc.ErrCardRemoved))
		Expect(t.Close()).To(Succeed())

		sim.Side.Insert()
		_, err = c.WaitCard(ctx, pcscdenv.VPCDReader0)
		Expect(err).NotTo(HaveOccurred())
		again := connect(c, pcscdenv.VPCDReader0, pcsc.Shared)
		Expect(transmit(again, selectAP)).To(Equal(sw9000))
	}, SpecTimeout(20*time.Second))
})
