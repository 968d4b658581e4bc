// Package simd is the simulator daemon behind 'mynahil sim': it keeps the
// simulated My Number Cards of one state directory and attaches each to a
// vpcd slot, so that pcscd (and every PC/SC application above it) sees a
// card in "Virtual PCD 00 0N" (docs/vpcd-pcscd.md §1.2, §6.2).
//
// Cards are issued and kept by the municipal office (package
// simcard/office), whose state lives in the state directory: chip state (PIN
// counters, keys, certificates) is written crash-safely on every change, so
// a restarted daemon continues where it stopped. The daemon serves the
// office's methods and its own (sim.list, sim.status, sim.insert,
// sim.remove) on a local control socket (package control).
//
// Insertion and removal follow docs/vpcd-pcscd.md §3.4: an inserted card
// holds a TCP connection to vpcd's port for its slot (127.0.0.1:35963+N),
// and a removed card closes it. With Config.Signals, SIGUSR1 removes every
// card and SIGUSR2 inserts every card.
//
// Its control methods (sim.* for the readers, office.* for the office) are
// those of package simapi, which owns their names, params and results; the
// daemon registers its implementation of them (simapi.Register).
//
// docs/daemon.md describes them all, the daemon's clock (Config.ClockSpec:
// the wall clock, or a virtual clock kept in the state directory and moved
// by office.time) and the visit path: an office change to a card in a
// reader takes the card out, changes it and puts it back (counter.go).
//
// Lock order (docs/daemon.md, "Lock order"), outermost first; a goroutine
// holding one takes only those below it:
//
//	placeMu                one sim.place at a time
//	slot.hold              a card held by a visit, sim.place, sim.insert/remove or a signal (in card-ID order)
//	Daemon.mu              the slots
//	office lock            the registry (package office), then its journal,
//	                       then the authority's and the chips' locks
//	slot.mu, card sides    where a card is; leaves
//
// The office's lock is never held while a card waits to go back into its
// reader: the put-back runs after it, under the card's hold only.
//
// Logs never hold a PIN: APDU summaries (debug level) show command data for
// SELECT only, and control requests, which may carry PINs for the office,
// are not logged at all.
package simd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/timing"
	"github.com/mynahil/mynahil/vpcd"
)

// DefaultVPCD is vpcd's port for slot 0 on this host (docs/vpcd-pcscd.md §1.2);
// slot N is this port + N.
const DefaultVPCD = "127.0.0.1:35963"

// DefaultStateDir is where state goes without --state: $MYNAHIL_STATE, or
// ./mynahil-state.
func DefaultStateDir() string {
	if d := os.Getenv("MYNAHIL_STATE"); d != "" {
		return d
	}
	return "mynahil-state"
}

// Rules carried by the errors of the sim.* control methods.
const (
	RuleUnknownCard = "sim.unknown-card" // no card with that ID
	RuleUnknownSlot = "sim.unknown-slot" // no card in that slot
	RuleBadSelector = "sim.bad-selector" // card/slot/all missing or contradictory
)

// Config describes a daemon. StateDir is required; everything else has a
// default.
type Config struct {
	// StateDir holds the office, the authority and the cards, plus the
	// daemon's lock file and (by default) its control socket.
	StateDir string
	// Profiles are the cards to issue when the state directory holds none;
	// empty means one card from profile.Default(). Ignored (with a log
	// line) once cards exist: delete the state directory to start afresh.
	Profiles []profile.Profile
	// FirstSlot is the vpcd slot of the first card; further cards take the
	// following slots in issuance order.
	FirstSlot int
	// VPCD is vpcd's address for slot 0, "host:port" (default DefaultVPCD).
	// Slot N dials port+N.
	VPCD string
	// Control is the control address (default control.DefaultAddr(StateDir)).
	Control string
	// AllowRemoteControl lets Control be a non-loopback TCP address.
	AllowRemoteControl bool
	// Signals makes Run handle SIGUSR1 (remove every card) and SIGUSR2
	// (insert every card).
	Signals bool
	// Logger receives connection events, insertions and removals at info
	// and masked APDU summaries at debug (default slog.Default()).
	Logger *slog.Logger
	// ClockSpec chooses the clock: "wall", "virtual" or "virtual:T" (T in
	// RFC 3339 or YYYY-MM-DD, midnight JST). A virtual clock is kept in
	// the state directory (clock.json) and only moves by office.time; a
	// state directory keeps the clock it was created with (openClock).
	ClockSpec string
	// Clock, for tests, replaces ClockSpec: it is used as it is and not
	// kept. Keys is passed to the issuer (default: the shared key pool).
	Clock clock.Clock
	Keys  keypool.Source
	// RemovalTime is how long an office change keeps a card out of its
	// reader (default DefaultRemovalTime).
	RemovalTime time.Duration
	// PutBackWait bounds how long an office change waits for the reader
	// to power the card up again after putting it back (default
	// DefaultPutBackWait); past it the change is kept and its client told.
	PutBackWait time.Duration
	// Backoff bounds the card side's reconnect delay (default: vpcd's
	// defaults, 50 ms doubling to 2 s).
	Backoff time.Duration
	// RelyingParty, when set, is the loopback HOST:PORT where the CA, CRL
	// and OCSP endpoints start with the daemon; without it they start on
	// the first office.endpoints call, on a free port (docs/daemon.md).
	RelyingParty string
	// Timing, when set, is the timing profile every card answers with
	// for this run, whatever its card profile says (package
	// simcard/timing; docs/card.md §7.1).
	Timing string
}

// Daemon runs the cards of one state directory. Create it with Open, then
// call Run once.
type Daemon struct {
	cfg     Config
	log     *slog.Logger
	vlog    *slog.Logger // for vpcd: no frame dumps, see vpcdLogHandler
	reg     *office.Office
	issuer  *simcard.Issuer
	clock   daemonClock
	srv     *control.Server
	lock    *os.File
	host    string
	port    int
	started time.Time

	// byID maps card IDs to their *slot without d.mu, which the office's
	// TakeOut cannot take under the office's lock: List holds d.mu while it
	// asks the office.
	byID sync.Map

	placeMu sync.Mutex // one sim.place at a time
	mu      sync.Mutex
	slots   []*slot // in slot order
	runCtx  context.Context
	running sync.WaitGroup
	closed  bool
}

// slot is one card and where it is: the vpcd slot n and the card side that
// serves it there, or n == -1 and side == nil once sim.place has taken the
// card out of its slot to make room for another (a detached card).
type slot struct {
	card *office.Card

	// hold is held by whoever changes the card or where it is: an office
	// visit (readers.Hold), sim.place, sim.insert and sim.remove, signals.
	hold  sync.Mutex
	outAt time.Time // when the holding visit took the card out (TakeOut)

	mu   sync.Mutex // guards n, side, stop: TakeOut reads them without d.mu
	n    int
	side *vpcd.CardSide
	stop func() // ends side.Run; nil until started
}

// where returns the card's slot and card side (-1 and nil when detached).
func (s *slot) where() (int, *vpcd.CardSide) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.side
}

// Open prepares a daemon: it locks the state directory, opens the office in
// it (issuing the configured cards if it holds none) and listens on the
// control address. Nothing connects to vpcd until Run.
func Open(cfg Config) (_ *Daemon, err error) {
	cfg, host, port, err := checkConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	d := &Daemon{
		cfg:  cfg,
		log:  cfg.Logger,
		vlog: slog.New(vpcdLogHandler{cfg.Logger.Handler()}),
		host: host,
		port: port,
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return nil, fmt.Errorf("opening simulator: creating state directory: %w", err)
	}
	if d.lock, err = lockDir(cfg.StateDir); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	lock := d.lock
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	if d.clock, err = openClock(cfg); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	issuer, err := simcard.NewIssuer(d.clock.Clock, cfg.Keys)
	if err != nil {
		return nil, fmt.Errorf("opening simulator: creating issuer: %w", err)
	}
	d.issuer = issuer
	// The issuer already writes the card-info applets (券面事項入力補助AP,
	// 券面AP, 住基AP, common AP) beside JPKI, as a real card carries them
	// (docs/card.md §2); the daemon adds none.
	if d.reg, err = office.Open(cfg.StateDir, d.clock.Clock, issuer); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	d.reg.KeepClock(d.clock.save)
	reg := d.reg
	defer func() {
		if err != nil {
			reg.Close()
		}
	}()
	if err := d.issueInitial(); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	if err := d.startRelyingParty(); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	if d.srv, err = d.listen(); err != nil {
		return nil, fmt.Errorf("opening simulator: %w", err)
	}
	simapi.Register(d.srv, d.reg.API(), simAPI{d})
	d.sync(true)
	d.reg.SetReaders(readers{d})
	return d, nil
}

// checkConfig fills in the defaults and refuses a configuration the daemon
// cannot run: it returns the vpcd host and port.
func checkConfig(cfg Config) (_ Config, host string, port int, err error) {
	if cfg.StateDir == "" {
		return cfg, "", 0, errors.New("no state directory given")
	}
	if cfg.FirstSlot < 0 || cfg.FirstSlot > 0xFFFF {
		return cfg, "", 0, fmt.Errorf("slot %d out of range 0–65535", cfg.FirstSlot)
	}
	if cfg.VPCD == "" {
		cfg.VPCD = DefaultVPCD
	}
	if cfg.Control == "" {
		cfg.Control = control.DefaultAddr(cfg.StateDir)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if _, _, err := parseClockSpec(cfg.ClockSpec); err != nil {
		return cfg, "", 0, err
	}
	if cfg.RelyingParty != "" {
		if err := checkRelyingParty(cfg.RelyingParty); err != nil {
			return cfg, "", 0, err
		}
	}
	if _, err := timing.Lookup(cfg.Timing); err != nil {
		return cfg, "", 0, fmt.Errorf("%w: %w", ErrBadTiming, err)
	}
	if cfg.RemovalTime <= 0 {
		cfg.RemovalTime = DefaultRemovalTime
	}
	if cfg.PutBackWait <= 0 {
		cfg.PutBackWait = DefaultPutBackWait
	}
	host, portStr, err := net.SplitHostPort(cfg.VPCD)
	if err != nil {
		return cfg, "", 0, fmt.Errorf("parsing vpcd address %q: %w", cfg.VPCD, err)
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return cfg, "", 0, fmt.Errorf("parsing vpcd address %q: bad port", cfg.VPCD)
	}
	if port+cfg.FirstSlot > 65535 {
		return cfg, "", 0, fmt.Errorf("slot %d of vpcd port %d is beyond TCP port 65535", cfg.FirstSlot, port)
	}
	return cfg, host, port, nil
}

// listen writes a new control token (TCP control requires it, so only
// users who can read the state directory can call office.*,
// docs/reliability.md) and listens on the control address.
func (d *Daemon) listen() (*control.Server, error) {
	token, err := control.WriteToken(d.cfg.StateDir)
	if err != nil {
		return nil, err
	}
	opts := []control.Option{control.WithLogger(d.log), control.RequireToken(token)}
	if d.cfg.AllowRemoteControl {
		opts = append(opts, control.AllowNonLoopback())
	}
	return control.Listen(d.cfg.Control, opts...)
}

// lockDir takes an exclusive lock on DIR/sim.lock so that two daemons never
// share a state directory; the kernel drops it when the process dies.
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, "sim.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking state directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			b, _ := os.ReadFile(path)
			return nil, fmt.Errorf("locking state directory %s: in use by another 'mynahil sim' (pid %s)", dir, b)
		}
		return nil, fmt.Errorf("locking state directory %s: %w", dir, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0)
	return f, nil
}

// issueInitial issues the configured cards into an empty registry.
func (d *Daemon) issueInitial() error {
	if n := len(d.reg.Cards()); n > 0 {
		if len(d.cfg.Profiles) > 0 {
			d.log.Warn("state directory already holds cards; --profile ignored (delete the state directory to start afresh)",
				"state", d.cfg.StateDir, "cards", n)
		}
		return nil
	}
	profiles := d.cfg.Profiles
	if len(profiles) == 0 {
		profiles = []profile.Profile{profile.Default()}
	}
	for i, p := range profiles {
		c, err := d.reg.IssueCard(p)
		if err != nil {
			return fmt.Errorf("issuing card %d of %d: %w", i+1, len(profiles), err)
		}
		d.log.Info("card issued", "card", c.ID, "state", d.cfg.StateDir)
	}
	return nil
}

// sync gives every registry card without a slot the next free one. Cards
// found at start-up are inserted; cards issued later (office.issue-card,
// readers.Added) start removed until sim.insert, as a new card is handed
// over, not pushed into a reader.
func (d *Daemon) sync(initial bool) {
	cards := d.reg.Cards()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	known := make(map[string]bool, len(d.slots))
	for _, s := range d.slots {
		known[s.card.ID] = true
	}
	for _, c := range cards {
		if known[c.ID] {
			continue
		}
		n := d.freeSlot()
		side := d.newSide(c, n)
		if !initial {
			side.Remove()
		}
		s := &slot{n: n, card: c, side: side}
		d.slots = append(d.slots, s)
		d.byID.Store(c.ID, s)
		if d.port+n > 65535 {
			d.log.Warn("slot beyond the last TCP port; the card can never connect", "card", c.ID, "slot", n)
		} else if n >= vpcd.MaxSlots {
			d.log.Warn("pcscd serves at most 16 vpcd slots (docs/vpcd-pcscd.md, \"Many cards\"); this card can never be seen", "card", c.ID, "slot", n)
		} else if n >= vpcd.SlotsPerEntry {
			d.log.Info("Debian's own vpcd config serves slots 0 and 1 only; this card needs a pcscd with more reader entries (scripts/with-pcscd --slots, docs/vpcd-pcscd.md \"Many cards\")", "card", c.ID, "slot", n)
		}
		if d.runCtx != nil {
			d.start(s)
		} else if !initial {
			d.log.Info("card attached", "card", c.ID, "slot", n, "inserted", false)
		}
	}
}

// freeSlot is the lowest slot from FirstSlot that holds no card; callers
// hold d.mu.
func (d *Daemon) freeSlot() int {
	used := make(map[int]bool, len(d.slots))
	for _, s := range d.slots {
		n, _ := s.where()
		used[n] = true
	}
	n := d.cfg.FirstSlot
	for used[n] {
		n++
	}
	return n
}

// newSide is a card side that serves c on vpcd slot n, answering with
// the configured timing profile if one was given.
func (d *Daemon) newSide(c *office.Card, n int) *vpcd.CardSide {
	if d.cfg.Timing != "" {
		if err := c.Chip.SetTiming(d.cfg.Timing); err != nil { // checked by Open
			d.log.Warn("timing profile not applied", "card", c.ID, "err", err)
		}
	}
	addr := net.JoinHostPort(d.host, strconv.Itoa(d.port+n))
	return vpcd.NewCardSide(loggedCard{Card: c.Chip, log: d.log.With("card", c.ID, "slot", n)},
		vpcd.WithAddr(addr), vpcd.WithLogger(d.vlog.With("card", c.ID, "slot", n)),
		vpcd.WithBackoff(d.cfg.Backoff, max(d.cfg.Backoff, 2*time.Second)))
}

// start runs a slot's card side until Run ends or the card is detached;
// callers hold d.mu and have set runCtx.
func (d *Daemon) start(s *slot) {
	n, side := s.where()
	if side == nil {
		return
	}
	ctx, cancel := context.WithCancel(d.runCtx)
	done := make(chan struct{})
	d.running.Add(1)
	go func() {
		defer d.running.Done()
		defer close(done)
		_ = side.Run(ctx)
	}()
	s.mu.Lock()
	s.stop = func() { cancel(); <-done }
	s.mu.Unlock()
	d.log.Info("card attached", "card", s.card.ID, "slot", n, "vpcd", side.Addr(),
		"reader", ReaderName(n), "inserted", side.Inserted())
}

// ReaderName is the PC/SC reader name pcscd gives vpcd's slot n
// (vpcd.ReaderName; docs/vpcd-pcscd.md §6.2, "Many cards").
func ReaderName(n int) string { return vpcd.ReaderName(n) }

// Issuer is the issuer of the daemon's cards, for a suite that runs the
// daemon in process and takes the card-info CAs as its trust anchors.
func (d *Daemon) Issuer() *simcard.Issuer { return d.issuer }

// ControlAddr is the address the control server listens on.
func (d *Daemon) ControlAddr() string { return d.srv.Addr() }

// Run connects the inserted cards to vpcd and serves the control socket
// until ctx ends, then closes every connection and socket and releases the
// state directory. Card state needs no flushing: every change was written
// when it happened. Run returns nil after a shutdown by ctx.
func (d *Daemon) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.mu.Lock()
	if d.closed || d.runCtx != nil {
		d.mu.Unlock()
		return errors.New("running simulator: already run or closed")
	}
	d.runCtx = ctx
	d.started = time.Now()
	for _, s := range d.slots {
		d.start(s)
	}
	d.mu.Unlock()
	if d.cfg.Signals {
		d.watchSignals(ctx)
	}
	d.running.Add(1)
	go func() {
		defer d.running.Done()
		d.hintIfUnconnected(ctx, waitHint)
	}()
	d.log.Info("simulator running", "state", d.cfg.StateDir, "control", d.srv.Addr(), "cards", len(d.slots))
	errc := make(chan error, 1)
	go func() { errc <- d.srv.Serve(ctx) }()
	var err error
	select {
	case <-ctx.Done():
		err = <-errc
	case err = <-errc:
		cancel()
	}
	d.shutdown()
	if err != nil {
		return fmt.Errorf("running simulator: %w", err)
	}
	d.log.Info("simulator stopped", "state", d.cfg.StateDir)
	return nil
}

// waitHint is how long an inserted card may wait for vpcd before the daemon
// says what may be missing; pcscd accepts a new card within one poll,
// about 0.4 s (docs/vpcd-pcscd.md §3.4).
const waitHint = 3 * time.Second

// hintIfUnconnected logs, once, which inserted cards vpcd has not accepted
// after d: the usual cause is that pcscd is not running (socket-activated
// pcscd also exits after 60 s without clients, docs/vpcd-pcscd.md §6.3).
func (d *Daemon) hintIfUnconnected(ctx context.Context, after time.Duration) {
	t := time.NewTimer(after)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.slots {
		n, side := s.where()
		if side != nil && side.Inserted() && !side.Connected() {
			d.log.Warn("card still waiting for vpcd: is pcscd running with the vpcd driver? (see 'mynahil sim --help')",
				"card", s.card.ID, "slot", n, "vpcd", side.Addr())
		}
	}
}

// watchSignals maps SIGUSR1 to "remove every card" and SIGUSR2 to "insert
// every card" until ctx ends.
func (d *Daemon) watchSignals(ctx context.Context) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2)
	d.running.Add(1)
	go func() {
		defer d.running.Done()
		defer signal.Stop(ch)
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-ch:
				d.setAll(sig == syscall.SIGUSR2, sig.String())
			}
		}
	}()
}

// Close releases a daemon that was opened but will not be run. After Run it
// is a no-op.
func (d *Daemon) Close() error {
	d.shutdown()
	return nil
}

func (d *Daemon) shutdown() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	d.mu.Unlock()
	d.srv.Close()
	// Run's ctx is cancelled by now, so the card sides are closing their
	// connections; wait for them before letting go of the state.
	d.running.Wait()
	if err := d.reg.Close(); err != nil {
		d.log.Warn("closing office", "err", err)
	}
	d.lock.Close()
}

// SlotInfo describes one card and its slot (sim.list).
type SlotInfo = simapi.SlotInfo

func (d *Daemon) info(s *slot) SlotInfo {
	n, side := s.where()
	si := SlotInfo{Card: s.card.ID, Slot: n, ATR: fmt.Sprintf("% X", s.card.Chip.ATR()), Status: "unknown"}
	if rep, err := d.reg.Report(s.card.ID); err == nil {
		si.Status, si.Holder = rep.Status, rep.Holder.Name
	}
	if side != nil {
		si.Reader, si.VPCD = ReaderName(n), side.Addr()
		si.Inserted, si.Connected = side.Inserted(), side.Connected()
	}
	return si
}

// List returns every card with its slot, in slot order.
func (d *Daemon) List() []SlotInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SlotInfo, 0, len(d.slots))
	for _, s := range d.slots {
		out = append(out, d.info(s))
	}
	return out
}

// Selector picks cards for sim.insert and sim.remove (simapi.Selector).
type Selector = simapi.Selector

// Insert inserts the selected cards and returns them.
func (d *Daemon) Insert(sel Selector) ([]SlotInfo, error) { return d.set(sel, true) }

// Remove removes the selected cards and returns them.
func (d *Daemon) Remove(sel Selector) ([]SlotInfo, error) { return d.set(sel, false) }

func (d *Daemon) set(sel Selector, insert bool) ([]SlotInfo, error) {
	verb := map[bool]string{true: "inserting", false: "removing"}[insert]
	slots, err := d.pick(sel)
	if err != nil {
		return nil, fmt.Errorf("%s card: %w", verb, err)
	}
	defer hold(slots...)()
	out := make([]SlotInfo, 0, len(slots))
	for _, s := range slots {
		d.toggle(s, insert, "control")
		out = append(out, d.info(s))
	}
	return out, nil
}

func (d *Daemon) setAll(insert bool, by string) {
	d.mu.Lock()
	slots := append([]*slot(nil), d.slots...)
	d.mu.Unlock()
	defer hold(slots...)()
	for _, s := range slots {
		d.toggle(s, insert, by)
	}
}

// hold holds the cards of slots, in card-ID order (the lock order), and
// returns the release.
func hold(slots ...*slot) (release func()) {
	sorted := slices.SortedFunc(slices.Values(slots), func(a, b *slot) int { return strings.Compare(a.card.ID, b.card.ID) })
	sorted = slices.Compact(sorted)
	for _, s := range sorted {
		s.hold.Lock()
	}
	return func() {
		for _, s := range sorted {
			s.hold.Unlock()
		}
	}
}

// toggle inserts or removes one held card; by says who asked, for the log.
func (d *Daemon) toggle(s *slot, insert bool, by string) {
	n, side := s.where()
	if side == nil || side.Inserted() == insert {
		return
	}
	if insert {
		d.log.Info("inserting card", "card", s.card.ID, "slot", n, "reader", ReaderName(n), "by", by)
		side.Insert()
	} else {
		d.log.Info("removing card", "card", s.card.ID, "slot", n, "reader", ReaderName(n), "by", by)
		side.Remove()
	}
}

func (d *Daemon) pick(sel Selector) ([]*slot, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if sel.All {
		if sel.Card != "" || sel.Slot != nil {
			return nil, control.Errorf(RuleBadSelector, "give all, or a card and/or a slot, not both")
		}
		var out []*slot
		for _, s := range d.slots {
			if n, _ := s.where(); n >= 0 {
				out = append(out, s)
			}
		}
		return out, nil
	}
	if sel.Card == "" && sel.Slot == nil {
		return nil, control.Errorf(RuleBadSelector, "say which card: a card ID, a slot number or all")
	}
	var found *slot
	if sel.Card != "" {
		for _, s := range d.slots {
			if s.card.ID == sel.Card {
				found = s
			}
		}
		if found == nil {
			return nil, control.Errorf(RuleUnknownCard, "no card %q (sim.list shows the cards)", sel.Card)
		}
		if n, _ := found.where(); n < 0 && sel.Slot == nil {
			return nil, control.Errorf(RuleUnknownSlot, "card %q is in no slot: sim.place puts it in one", sel.Card)
		}
	}
	if sel.Slot != nil {
		var inSlot *slot
		for _, s := range d.slots {
			if n, _ := s.where(); n == *sel.Slot {
				inSlot = s
			}
		}
		switch {
		case inSlot == nil:
			return nil, control.Errorf(RuleUnknownSlot, "no card in slot %d (sim.list shows the slots)", *sel.Slot)
		case found != nil && found != inSlot:
			n, _ := found.where()
			return nil, control.Errorf(RuleBadSelector, "card %q is in slot %d, not slot %d", found.card.ID, n, *sel.Slot)
		}
		found = inSlot
	}
	return []*slot{found}, nil
}

// Status is what sim.status returns (simapi.SimStatus).
type Status = simapi.SimStatus

// Status reports the daemon's state.
func (d *Daemon) Status() Status {
	list := d.List()
	abs, err := filepath.Abs(d.cfg.StateDir)
	if err != nil {
		abs = d.cfg.StateDir
	}
	d.mu.Lock()
	started := d.started
	d.mu.Unlock()
	st := Status{PID: os.Getpid(), StateDir: abs, Control: d.srv.Addr(), VPCD: d.cfg.VPCD,
		Started: started, Cards: len(list)}
	if !started.IsZero() {
		st.Uptime = time.Since(started).Round(time.Second).String()
	}
	for _, s := range list {
		if s.Inserted {
			st.Inserted++
		}
		if s.Connected {
			st.Connected++
		}
	}
	return st
}

// simAPI serves the sim.* methods of the control API.
type simAPI struct{ d *Daemon }

func (a simAPI) List(context.Context) ([]SlotInfo, error) { return a.d.List(), nil }

func (a simAPI) Status(context.Context) (Status, error) { return a.d.Status(), nil }

func (a simAPI) Insert(_ context.Context, sel Selector) ([]SlotInfo, error) { return a.d.Insert(sel) }

func (a simAPI) Remove(_ context.Context, sel Selector) ([]SlotInfo, error) { return a.d.Remove(sel) }

func (a simAPI) Place(_ context.Context, p Placement) ([]SlotInfo, error) { return a.d.Place(p) }
