// Package timing holds the simulated card's timing profiles: how long a
// real My Number Card takes to answer a command through a contact or a
// contactless reader, so that relying parties can test their timeouts and
// progress displays (docs/card.md §7.1). Every figure is cited there, or
// marked as an estimate where nothing was published.
//
// The default profile, Instant, adds nothing: a card without a profile
// does not even look at the clock.
package timing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
)

// Profile is how long a card takes per command: Command for every APDU,
// PerByte for each byte of the command and the response on the wire, and
// Sign or PIN on top for the commands that compute a signature or check
// and store a PIN counter.
type Profile struct {
	Name    string
	Command time.Duration // every command: the reader, the link set-up, the chip's dispatch
	PerByte time.Duration // each byte of command and response on the wire
	Sign    time.Duration // COMPUTE DIGITAL SIGNATURE, INTERNAL AUTHENTICATE: an RSA-2048 operation
	PIN     time.Duration // VERIFY with a PIN, CHANGE REFERENCE DATA, CHANGE KEY: the counter written
}

// Names of the built-in profiles.
const (
	Instant     = "instant"
	Contact     = "contact"
	Contactless = "contactless"
)

// profiles are the built-in profiles (docs/card.md §7.1 has the sources).
var profiles = map[string]Profile{
	Instant: {Name: Instant},
	// Contact: a short READ BINARY answered 69 82 took 12 ms through a
	// contact reader (OpenSC issue #3169's log); 10 ms per command plus
	// 0.28 ms per byte (T=1 at Fi/Di 372/4 and 4 MHz, 12 etu per
	// character) gives those 12 ms for its 7 bytes. The signature and the
	// PIN counter are estimates.
	Contact: {Name: Contact, Command: 10 * time.Millisecond, PerByte: 280 * time.Microsecond,
		Sign: 200 * time.Millisecond, PIN: 20 * time.Millisecond},
	// Contactless: estimates, slower than contact in every part (a chip
	// powered by the field, a reader that frames every exchange); a whole
	// phone login stays within the "5 seconds or more" the Digital Agency
	// warns of.
	Contactless: {Name: Contactless, Command: 25 * time.Millisecond, PerByte: 100 * time.Microsecond,
		Sign: 500 * time.Millisecond, PIN: 40 * time.Millisecond},
}

// Names lists the built-in profiles, sorted.
func Names() []string {
	out := make([]string, 0, len(profiles))
	for n := range profiles {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Lookup returns the profile called name; "" is Instant.
func Lookup(name string) (Profile, error) {
	if name == "" {
		name = Instant
	}
	p, ok := profiles[name]
	if !ok {
		return Profile{}, fmt.Errorf("unknown timing profile %q (have: %s)", name, strings.Join(Names(), ", "))
	}
	return p, nil
}

// IsInstant reports whether p adds no delay at all.
func (p Profile) IsInstant() bool {
	return p.Command == 0 && p.PerByte == 0 && p.Sign == 0 && p.PIN == 0
}

// Delay is how long the card takes to answer cmd, sent as cmdLen bytes,
// with respLen bytes of response (data and status word).
func (p Profile) Delay(cmd *apdu.Command, cmdLen, respLen int) time.Duration {
	d := p.Command + time.Duration(cmdLen+respLen)*p.PerByte
	if cmd == nil {
		return d
	}
	switch {
	case cmd.CLA == 0x80 && cmd.INS == 0x2A, cmd.CLA == 0x00 && cmd.INS == 0x88:
		if respLen > 2 { // a signature, not a refusal
			d += p.Sign
		}
	case cmd.CLA == 0x00 && cmd.INS == 0x20 && len(cmd.Data) > 0,
		cmd.CLA == 0x00 && cmd.INS == 0x24, cmd.CLA == 0x80 && cmd.INS == 0x32:
		d += p.PIN
	}
	return d
}
