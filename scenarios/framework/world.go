package framework

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/harness"
	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/relyingparty"
	"github.com/mynahil/mynahil/harness/target"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/pcscdenv/vpcdslot"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/vpcd"
)

// World is one municipality at one virtual time, built the same way for
// every suite (docs/suites.md, "The world"):
//
//   - sim: the office, its authority and HTTP responder in process, on a
//     virtual clock; a card is read through an in-process transport;
//   - vpcd, pcsc: the simulator daemon (package simd, in process, on a
//     virtual clock), driven only through its control API; a card is read
//     through the target's transport (the Go vpcd reader, or pcscd); the
//     relying party asks the daemon's CRL and OCSP endpoints
//     (office.endpoints).
//
// On vpcd and pcsc a world holds one card, in the world's reader: the
// daemon starts with the first card issued. With $MYNAHIL_CONTROL set, the
// world uses that running daemon instead (attachExisting): it sets the
// daemon's virtual clock, issues its card and puts it in its reader with
// sim.place, and never stops the daemon.
type World struct {
	Kind     target.Kind
	Clock    Clock
	Office   Office
	RP       *relyingparty.Verifier
	Timeline *Timeline

	local   *office.Office // sim
	pending *clock.Virtual // vpcd/pcsc: the clock until the daemon starts
	d       *daemon
	mu      sync.Mutex
}

// NewWorld builds the world for the target the environment names, its
// clock at start; everything it starts stops when the calling node's
// cleanup runs. On a physical card the spec is skipped: the office exists
// only in the simulator.
func NewWorld(start time.Time) *World {
	ginkgo.GinkgoHelper()
	RequireSimulator()
	cfg, err := target.FromEnv()
	if err != nil {
		ginkgo.Fail(err.Error())
	}
	w := &World{Kind: cfg.Kind}
	w.Timeline = &Timeline{now: func() time.Time { return w.Clock.Now() }, Target: string(cfg.Kind)}
	if cfg.Kind == target.Sim {
		w.buildLocal(start)
	} else {
		w.pending = clock.NewVirtual(start)
		w.Clock = &pendingClock{w: w}
		w.Office = remoteOffice{issue: w.startDaemon}
		w.RP = &relyingparty.Verifier{Now: func() time.Time { return w.Clock.Now() }}
		slot := cfg.Slot
		existing := os.Getenv(EnvControl)
		if int32(slot) == targetSlot.Load() || (existing != "" && cfg.Kind == target.PCSC) {
			// A running daemon's first card sits in its --slot: the world
			// uses the other slot of the process's pair (target.ProcessSlot).
			slot ^= 1
		}
		w.d = &daemon{kind: cfg.Kind, slot: slot, existing: existing}
		ginkgo.DeferCleanup(w.d.close)
	}
	return w
}

func (w *World) buildLocal(start time.Time) {
	ginkgo.GinkgoHelper()
	clk := clock.NewVirtual(start)
	is, err := simcard.NewIssuer(clk, nil)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	o := office.New(clk, is)
	ginkgo.DeferCleanup(o.Close)
	srv, err := o.StartResponder("")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	a := o.Authority()
	w.local, w.Clock, w.Office = o, clk, localOffice{o}
	w.RP = &relyingparty.Verifier{
		Roots: []relyingparty.Root{
			{Cert: a.AuthCA.Cert, CRLURL: srv.CRLURL(authority.Auth), OCSPURL: srv.OCSPURL(authority.Auth)},
			{Cert: a.SignCA.Cert, CRLURL: srv.CRLURL(authority.Sign), OCSPURL: srv.OCSPURL(authority.Sign)},
		},
		Now: clk.Now,
	}
}

// pendingClock is a vpcd/pcsc world's clock: local until the daemon
// starts (with this time), then the daemon's.
type pendingClock struct{ w *World }

func (c *pendingClock) current() Clock {
	if c.w.d.ctl != nil {
		return remoteClock{c.w.d.office()}
	}
	return c.w.pending
}

func (c *pendingClock) Now() time.Time                  { return c.current().Now() }
func (c *pendingClock) Set(t time.Time)                 { c.current().Set(t) }
func (c *pendingClock) Advance(d time.Duration)         { c.current().Advance(d) }
func (c *pendingClock) AddDate(years, months, days int) { c.current().AddDate(years, months, days) }

// Insert puts card c in its holder's reader and returns a transport to it,
// powered afresh (no PIN verified): an in-process transport on sim; the
// world's reader, reset, on vpcd and pcsc. Closing it is harmless.
func (w *World) Insert(c *office.Card) harness.Transport {
	ginkgo.GinkgoHelper()
	if w.local != nil {
		t := harness.NewInProcess(c.Chip)
		ginkgo.DeferCleanup(t.Close)
		return t
	}
	gomega.Expect(w.d.ctl).NotTo(gomega.BeNil(), "no card issued in this world")
	return w.d.insert()
}

// CardInfoCAs returns the public keys of the card-info applets' CAs that
// certify EF 0004 of the text and visual applets (docs/card.md §5.3, §5.4)
// of the cards this world issues: the trust anchors the suite is given, as
// a relying party is given the JPKI CA certificates.
func (w *World) CardInfoCAs() (text, visual *rsa.PublicKey) {
	ginkgo.GinkgoHelper()
	var is *simcard.Issuer
	switch {
	case w.local != nil:
		is = w.local.Issuer()
	case w.d.textCA != nil:
		return w.d.textCA, w.d.visualCA
	case w.d.sim != nil:
		is = w.d.sim.Issuer()
	default:
		ginkgo.Fail("no card issued in this world")
	}
	for _, x := range is.Extra {
		if a, ok := x.(*cardinfo.Applets); ok {
			return a.TextCA(), a.VisualCA()
		}
	}
	ginkgo.Fail("the issuer writes no card-info applets")
	return nil, nil
}

// startDaemon starts the simulator daemon of a vpcd/pcsc world with p as
// its one card, on a virtual clock at the world's time, and points the
// relying party at its endpoints.
func (w *World) startDaemon(p profile.Profile) (*office.Card, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.d.ctl != nil {
		return nil, fmt.Errorf("issuing a second card: a %s world holds one card, in its reader", w.Kind)
	}
	var id string
	if w.d.existing != "" {
		var err error
		if id, err = w.d.attachExisting(w.d.existing, p, w.pending.Now()); err != nil {
			return nil, err
		}
	} else if err := w.d.start(p, w.pending.Now()); err != nil {
		return nil, err
	}
	logVisit("new card")
	o := w.d.office()
	o.issue = w.startDaemon
	w.Office = o
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if id == "" {
		cards, err := o.c.Cards(ctx)
		if err != nil {
			return nil, err
		}
		if len(cards) != 1 {
			return nil, fmt.Errorf("the daemon holds %d cards, want 1", len(cards))
		}
		id = cards[0].ID
	}
	ep, err := o.c.Endpoints(ctx)
	if err != nil {
		return nil, err
	}
	if w.d.existing != "" {
		var err error
		if w.d.textCA, err = parseCardInfoCA(ep.CardInfoTextCA); err != nil {
			return nil, err
		}
		if w.d.visualCA, err = parseCardInfoCA(ep.CardInfoVisualCA); err != nil {
			return nil, err
		}
	}
	roots := []relyingparty.Root{{CRLURL: ep.CRLAuth, OCSPURL: ep.OCSPAuth}, {CRLURL: ep.CRLSign, OCSPURL: ep.OCSPSign}}
	for i, u := range []string{ep.CAAuth, ep.CASign} {
		cert, err := fetchCert(u)
		if err != nil {
			return nil, err
		}
		roots[i].Cert = cert
	}
	w.RP.Roots = roots
	return &office.Card{ID: id}, nil
}

func fetchCert(url string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching CA certificate: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching CA certificate %s: status %s, %v", url, resp.Status, err)
	}
	return x509.ParseCertificate(b)
}

// daemon is a vpcd/pcsc world's simulator daemon and the reader its card
// sits in.
type daemon struct {
	kind target.Kind
	slot int
	// existing is $MYNAHIL_CONTROL: a running daemon the world uses
	// (attachExisting) instead of starting one.
	existing     string
	existingCard string
	textCA       *rsa.PublicKey // the card-info CAs from office.endpoints
	visualCA     *rsa.PublicKey

	dir    string
	sim    *simd.Daemon
	ctl    *simapi.Client
	reader *vpcd.Reader // vpcd
	pcscd  *pcscdenv.PCSCD
	card   *pcsc.Card // pcsc: the open connection, reset at each insertion
	cl     closers
}

func (d *daemon) office() remoteOffice { return remoteOffice{c: d.ctl, issue: nil} }

// startPCSCD starts (or finds) the pcscd of a pcsc world and waits until
// its reader is empty: the card a process of the suite before this one
// served in the same slot must be gone, as pcscd sees it, before this one
// goes in. A card connecting while pcscd still shows the old one is not
// powered up, and its reader stays empty (vpcdslot.Attach waits the same
// way; docs/reliability.md).
func (d *daemon) startPCSCD(ctx context.Context) (err error) {
	if d.pcscd, err = pcscdenv.StartPCSCD(ctx); err != nil {
		return err
	}
	d.cl.add(d.pcscd.Stop)
	reader := pcscdenv.ReaderName(d.slot)
	if err := pcscdenv.WaitState(ctx, reader, false); err != nil {
		return fmt.Errorf("waiting for the previous card to leave %q: %w", reader, err)
	}
	return nil
}

func (d *daemon) start(p profile.Profile, now time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "mynahil-world-")
	if err != nil {
		return err
	}
	d.dir = dir
	d.cl.add(func() error { return os.RemoveAll(dir) })
	cfg := simd.Config{
		StateDir: dir, Profiles: []profile.Profile{p}, FirstSlot: d.slot,
		Control: control.DefaultAddr(dir), Logger: vpcdslot.QuietLogger(), Clock: clock.NewVirtual(now),
		Backoff: 20 * time.Millisecond,
	}
	switch d.kind {
	case target.VPCD:
		if d.reader, err = vpcd.Listen("", vpcd.WithLogger(vpcdslot.QuietLogger())); err != nil {
			return err
		}
		d.cl.add(d.reader.Close)
		cfg.VPCD, cfg.FirstSlot = d.reader.Addr(), 0
		// poll notices a removal within one interval, where pcscd needs
		// up to two of its polls (simd.DefaultRemovalTime).
		cfg.RemovalTime = 3 * pollInterval
		d.cl.add(poll(d.reader))
	case target.PCSC:
		if err := d.startPCSCD(ctx); err != nil {
			return err
		}
	}
	if d.sim, err = simd.Open(cfg); err != nil {
		return err
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.sim.Run(rctx) }()
	d.cl.add(func() error {
		stop()
		select {
		case <-done:
			return nil
		case <-time.After(30 * time.Second):
			return fmt.Errorf("stopping the simulator daemon: still running after 30s")
		}
	})
	if d.ctl, err = simapi.Dial(d.sim.ControlAddr()); err != nil {
		return err
	}
	d.cl.add(d.ctl.Close)
	return nil
}

// poll does for the vpcd target's Go reader what pcscd does for its
// readers: it notices a card leaving (a presence check fails) and a card
// arriving (it connects, gets powered up), so that the office, which takes
// the card out to change it and waits for the reader to power it up again,
// sees a reader as a PC/SC client's would be. It returns the stopper.
func poll(r *vpcd.Reader) func() error {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(pollInterval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if r.Present() {
				_, _ = r.ATR() // a failed check drops the card
				continue
			}
			wctx, wcancel := context.WithTimeout(ctx, pollInterval)
			_ = r.WaitCard(wctx)
			wcancel()
		}
	}()
	return func() error { cancel(); <-done; return nil }
}

// pollInterval is how often poll looks at the reader; pcscd's vpcd driver
// polls about every 400 ms, this stand-in faster so as not to slow suites.
const pollInterval = 20 * time.Millisecond

// insert waits for the card in the world's reader and resets it.
func (d *daemon) insert() harness.Transport {
	ginkgo.GinkgoHelper()
	switch d.kind {
	case target.VPCD:
		gomega.Eventually(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.reader.WaitCard(ctx); err != nil {
				return err
			}
			return d.reader.Reset()
		}).WithTimeout(time.Minute).Should(gomega.Succeed(), "the card in the vpcd reader")
		return nopClose{d.reader}
	default:
		reader := pcscdenv.ReaderName(d.slot)
		gomega.Eventually(func() error {
			// A fresh connection each time, as a holder's application
			// opens one when the card is put in: a handle from before an
			// office visit belongs to a card that has left.
			if d.card != nil {
				_ = d.card.Close()
				d.card = nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := pcscdenv.WaitState(ctx, reader, true); err != nil {
				return err
			}
			c, err := pcsc.Open(reader, pcsc.Shared)
			if err != nil {
				return err
			}
			d.card = c
			// Probe that the card answers (SELECT of the MF, which
			// changes nothing that a reset does not undo), then reset it.
			if err := c.Reset(); err != nil {
				return err
			}
			if _, err := c.Transmit(probeAPDU); err != nil {
				return err
			}
			return c.Reset()
		}).WithTimeout(time.Minute).Should(gomega.Succeed(), "the card in %q", reader)
		return nopClose{d.card}
	}
}

func (d *daemon) close() error {
	if d.card != nil {
		_ = d.card.Close()
		d.card = nil
	}
	err := d.cl.close()
	if d.kind == target.PCSC && (d.sim != nil || d.existingCard != "") {
		// The next world's card goes in the same reader: wait until pcscd
		// has seen this one leave.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = pcscdenv.WaitState(ctx, pcscdenv.ReaderName(d.slot), false)
	}
	return err
}

// probeAPDU is SELECT of the MF by its identifier 3F00 (ISO/IEC 7816-4
// clause 11.2.2), answered by any card.
var probeAPDU = []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00}

// nopClose is a shared connection handed to one holder: the world closes
// it, not the holder.
type nopClose struct{ harness.Transport }

func (nopClose) Close() error { return nil }

// Reset and ATR forward the optional methods the embedding would lose.
func (n nopClose) Reset() error         { return harness.Reset(n.Transport) }
func (n nopClose) ATR() ([]byte, error) { return harness.ATR(n.Transport) }

// Timeline is what happens in a world, dated on its clock, for people
// (GinkgoWriter, and a report entry at the end) and for programs (JSON,
// see WriteJSON).
type Timeline struct {
	Target string  `json:"target"`
	Name   string  `json:"name"`
	Events []Event `json:"events"`
	now    func() time.Time
}

// Event is one line of a timeline.
type Event struct {
	At   time.Time `json:"at"`
	Date string    `json:"date"` // JST calendar date
	Text string    `json:"text"`
}

// Add records an event at the world's time.
func (t *Timeline) Add(format string, args ...any) {
	now := t.now()
	e := Event{At: now, Date: now.In(clock.JST).Format(time.DateOnly), Text: fmt.Sprintf(format, args...)}
	t.Events = append(t.Events, e)
	fmt.Fprintf(ginkgo.GinkgoWriter, "%s  %s\n", e.Date, e.Text)
}

// Lines are the events as "YYYY-MM-DD  text".
func (t *Timeline) Lines() []string {
	out := make([]string, len(t.Events))
	for i, e := range t.Events {
		out[i] = e.Date + "  " + e.Text
	}
	return out
}

// EnvTimelineDir names a directory where Report writes each timeline as
// <name>-<target>.json (make suites: reports/timeline-<target>.json).
const EnvTimelineDir = "MYNAHIL_TIMELINE_DIR"

// Report adds the timeline to the spec report under name and, with
// MYNAHIL_TIMELINE_DIR set, writes it there as JSON.
func (t *Timeline) Report(name string) {
	ginkgo.GinkgoHelper()
	t.Name = name
	ginkgo.AddReportEntry(name, strings.Join(t.Lines(), "\n"))
	dir := os.Getenv(EnvTimelineDir)
	if dir == "" {
		return
	}
	b, err := json.MarshalIndent(t, "", "  ")
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(os.MkdirAll(dir, 0o755)).To(gomega.Succeed())
	file := filepath.Join(dir, fmt.Sprintf("%s-%s.json", name, t.Target))
	gomega.Expect(os.WriteFile(file, append(b, '\n'), 0o644)).To(gomega.Succeed())
}
