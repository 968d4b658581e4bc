package card

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
	"github.com/mynahil/mynahil/simcard/timing"
)

// DefaultATR is the contact ATR of the My Number Card that OpenSC matches
// without sending an APDU: T=1 only, IFSC 254, no historical bytes
// (docs/card.md §1.1).
var DefaultATR = []byte{0x3B, 0xE0, 0x00, 0xFF, 0x81, 0x31, 0xFE, 0x45, 0x14}

// State is everything the card keeps across power cycles (and, through a
// Persister, across restarts of the simulator): the ATR, the applets with
// their files, PIN counters and keys, and the MF-level data objects.
type State struct {
	Version     int               `json:"version"`
	ATR         []byte            `json:"atr"`
	DFs         []*DF             `json:"dfs"`
	DataObjects map[uint16][]byte `json:"data_objects,omitempty"`
	// MFFiles are EFs selectable with no AP selected; none is readable
	// (docs/card.md §3.6).
	MFFiles []*File `json:"mf_files,omitempty"`
	// LastCommandIndicator makes 80 FC 00 00 answer 9000, as the iPhone JPKI
	// token does; the plastic card answers 6700 (myna-card card.rs).
	LastCommandIndicator bool `json:"last_command_indicator,omitempty"`
	// Timing names how long the card takes to answer (package
	// simcard/timing; "" is instant): the card profile's "timing"
	// (docs/card.md §7.1).
	Timing string `json:"timing,omitempty"`
}

// IssuerSecurityDomain is the default AID of the GlobalPlatform issuer
// security domain; selecting it returns the card to the MF level (myna-card
// mf.rs; docs/card.md §3.6).
var IssuerSecurityDomain = []byte{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00}

// tagATR is the GET DATA object holding the contact ATR without TS
// (docs/card.md §3.6).
const tagATR = 0x5F51

// StateVersion is the version of the State encoding.
const StateVersion = 1

// Persister stores a serialised State durably. It is called after every
// change of persistent state, before the command's answer is returned, so a
// crash can never hand back a PIN try that was already spent.
type Persister func(state []byte) error

// Card is the chip. It is safe for concurrent use; commands are serialised as
// on a real card.
type Card struct {
	mu      sync.Mutex
	st      State
	persist Persister
	rand    io.Reader

	// pace is the timing profile in force, nil for instant: Transmit then
	// never reads the clock. sleep waits (time.Sleep; tests replace it).
	pace  atomic.Pointer[timing.Profile]
	sleep func(time.Duration)

	// Volatile state, lost on reset and power-off (docs/card.md §5).
	current  *DF
	ef       *File
	verified map[uint16]bool // PIN IDs verified in the current DF
}

// Option configures a Card.
type Option func(*Card)

// WithPersister makes the card store its state through p on every change.
func WithPersister(p Persister) Option { return func(c *Card) { c.persist = p } }

// WithSleep replaces time.Sleep for the timing profile's delays (tests).
func WithSleep(f func(time.Duration)) Option { return func(c *Card) { c.sleep = f } }

// WithRand sets the random source (GET CHALLENGE, PIN salts of new PINs).
func WithRand(r io.Reader) Option { return func(c *Card) { c.rand = r } }

// New returns a card holding st. The card takes ownership of st. A state
// with two applications of the same AID is refused: SELECT by AID would
// reach only the first (ISO/IEC 7816-4 8.2.2.2 names one application per
// AID on a card).
func New(st State, opts ...Option) (*Card, error) {
	if err := st.checkAIDs(); err != nil {
		return nil, fmt.Errorf("creating card: %w", err)
	}
	if len(st.ATR) == 0 {
		st.ATR = append([]byte(nil), DefaultATR...)
	}
	st.Version = StateVersion
	c := &Card{st: st, rand: rand.Reader, verified: map[uint16]bool{}, sleep: time.Sleep}
	for _, o := range opts {
		o(c)
	}
	if err := c.SetTiming(st.Timing); err != nil {
		return nil, fmt.Errorf("creating card: %w", err)
	}
	return c, nil
}

// checkAIDs refuses two application DFs with the same AID.
func (s *State) checkAIDs() error {
	seen := make(map[string]bool, len(s.DFs))
	for _, d := range s.DFs {
		if d == nil {
			return fmt.Errorf("an application DF is missing")
		}
		if seen[string(d.AID)] {
			return fmt.Errorf("two applications with AID % X", d.AID)
		}
		seen[string(d.AID)] = true
	}
	return nil
}

// Load decodes a State written by a Persister and validates it (State.Validate).
func Load(data []byte, opts ...Option) (*Card, error) {
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decoding card state: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("checking card state: %w", err)
	}
	c, err := New(st, opts...)
	if err != nil {
		return nil, fmt.Errorf("decoding card state: %w (a state directory written before mynahil stopped adding the card-info applets twice cannot be loaded: start afresh)", err)
	}
	return c, nil
}

// Marshal returns the card's persistent state as Load reads it.
func (c *Card) Marshal() ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.marshal()
}

func (c *Card) marshal() ([]byte, error) {
	b, err := json.Marshal(&c.st)
	if err != nil {
		return nil, fmt.Errorf("encoding card state: %w", err)
	}
	return b, nil
}

// save hands the state to the persister; callers hold c.mu.
func (c *Card) save() error {
	if c.persist == nil {
		return nil
	}
	b, err := c.marshal()
	if err != nil {
		return err
	}
	if err := c.persist(b); err != nil {
		return fmt.Errorf("persisting card state: %w", err)
	}
	return nil
}

// ATR returns the answer to reset.
func (c *Card) ATR() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.st.ATR...)
}

// CheckATR reports whether atr can be presented through PC/SC: 2–33 bytes
// starting with TS 3B or 3F (docs/vpcd-pcscd.md §4).
func CheckATR(atr []byte) error {
	if len(atr) < 2 || len(atr) > 33 || (atr[0] != 0x3B && atr[0] != 0x3F) {
		return fmt.Errorf("ATR of %d bytes starting % X: want 2–33 bytes starting 3B or 3F", len(atr), atr[:min(len(atr), 1)])
	}
	return nil
}

// ContactATR is the ATR the chip stores in 5F51 for a presented ATR: the
// presented one without TS, except for the pseudo-ATR a PC/SC contactless
// reader synthesises (3B 8n 80 01 …, PC/SC part 3), where the chip still
// holds its contact ATR, DefaultATR — which is why myna-card reads 5F51 over
// a contactless reader (card.rs contact_atr; docs/card.md §1.1).
func ContactATR(atr []byte) []byte {
	if len(atr) >= 4 && atr[0] == 0x3B && atr[1]&0xF0 == 0x80 && atr[2] == 0x80 && atr[3] == 0x01 {
		atr = DefaultATR
	}
	return append([]byte(nil), atr[1:]...)
}

// SetATR replaces the answer to reset.
func (c *Card) SetATR(atr []byte) error {
	if err := CheckATR(atr); err != nil {
		return fmt.Errorf("setting ATR: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.ATR = append([]byte(nil), atr...)
	if _, ok := c.st.DataObjects[tagATR]; ok {
		c.st.DataObjects[tagATR] = ContactATR(atr)
	}
	return c.save()
}

// PowerOn is a cold reset.
func (c *Card) PowerOn() { c.Reset() }

// PowerOff drops the volatile state.
func (c *Card) PowerOff() { c.Reset() }

// Reset is a warm reset: no applet selected, no PIN verified.
func (c *Card) Reset() {
	c.mu.Lock()
	c.resetVolatile()
	c.mu.Unlock()
}

func (c *Card) resetVolatile() {
	c.current, c.ef = nil, nil
	clear(c.verified)
}

// Modify runs fn on the persistent state under the card's lock, then stores
// the state. It is how the issuing side (the municipal office) changes a card
// in the field; the volatile state is reset as if the card had been taken
// out of the reader.
func (c *Card) Modify(fn func(st *State) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := fn(&c.st); err != nil {
		return err
	}
	c.resetVolatile()
	return c.save()
}

// Inspect runs fn on the persistent state under the card's lock, read-only.
func (c *Card) Inspect(fn func(st *State)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fn(&c.st)
}

// DF returns the application DF with the given AID, or nil.
func (s *State) DF(aid []byte) *DF {
	for _, d := range s.DFs {
		if string(d.AID) == string(aid) {
			return d
		}
	}
	return nil
}

// Transmit executes one command APDU and returns data + SW1 SW2. It never
// panics and always answers at least a status word.
func (c *Card) Transmit(command []byte) []byte {
	cmd, err := apdu.Parse(command)
	if err != nil {
		return apdu.Response(nil, apdu.WrongLength)
	}
	resp := c.run(&cmd)
	if p := c.pace.Load(); p != nil {
		c.sleep(p.Delay(&cmd, len(command), len(resp)))
	}
	return resp
}

func (c *Card) run(cmd *apdu.Command) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	data, sw := c.execute(cmd)
	return apdu.Response(data, sw)
}

// SetTiming makes the card answer as slowly as the timing profile name
// says ("" or "instant": at once), for this run: the stored state keeps
// the profile it was issued with (State.Timing). The delay follows the
// answer, outside the card's lock (docs/card.md §7.1).
func (c *Card) SetTiming(name string) error {
	p, err := timing.Lookup(name)
	if err != nil {
		return fmt.Errorf("setting timing: %w", err)
	}
	if p.IsInstant() {
		c.pace.Store(nil)
		return nil
	}
	c.pace.Store(&p)
	return nil
}

// Timing names the timing profile in force.
func (c *Card) Timing() string {
	if p := c.pace.Load(); p != nil {
		return p.Name
	}
	return timing.Instant
}

// Observer sees one exchange: the command as the card parsed it (nil when
// it did not parse and was answered 6700) and the response, data + SW. It
// is called after the card answered, outside the card's lock, and must
// change neither. The daemon logs APDUs through it (docs/daemon.md).
type Observer func(cmd *apdu.Command, resp []byte)

// TransmitObserved is Transmit that also hands the parsed command and the
// response to obs, so that an observer never parses the APDU a second time.
func (c *Card) TransmitObserved(command []byte, obs Observer) []byte {
	cmd, err := apdu.Parse(command)
	if err != nil {
		resp := apdu.Response(nil, apdu.WrongLength)
		obs(nil, resp)
		return resp
	}
	resp := c.run(&cmd)
	if p := c.pace.Load(); p != nil {
		c.sleep(p.Delay(&cmd, len(command), len(resp)))
	}
	obs(&cmd, resp)
	return resp
}

// Snapshot is a card's persistent state at one moment (files, PIN
// counters, keys), opaque to callers: what Restore puts back. It holds the
// keys, so it stays in the process that took it.
type Snapshot struct{ state []byte }

// Snapshot returns the card's persistent state. The volatile state (the
// selected applet, verified PINs) is not part of it.
func (c *Card) Snapshot() (Snapshot, error) {
	b, err := c.Marshal()
	if err != nil {
		return Snapshot{}, fmt.Errorf("taking snapshot: %w", err)
	}
	return Snapshot{state: b}, nil
}

// Restore puts back a snapshot taken of this or another card, as if the
// card had been taken out of its reader, changed and put back: the volatile
// state is reset and the restored state stored through the Persister.
func (c *Card) Restore(s Snapshot) error {
	if s.state == nil {
		return errors.New("restoring snapshot: empty snapshot")
	}
	var st State
	if err := json.Unmarshal(s.state, &st); err != nil {
		return fmt.Errorf("restoring snapshot: %w", err)
	}
	if err := st.checkAIDs(); err != nil {
		return fmt.Errorf("restoring snapshot: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st = st
	c.resetVolatile()
	return c.save()
}
