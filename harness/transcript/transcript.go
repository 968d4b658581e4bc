// Package transcript records a fixed probe sequence against any card behind
// a harness.Transport and compares two recordings: the record-and-compare
// loop that tells a QA team exactly where the simulated card differs from
// their physical test card (docs/record-compare.md).
//
// A transcript holds commands, status words, response lengths and the
// structure of the responses (TLV tags, never bytes) of personal data. Only
// public, non-personal values are kept verbatim: the ATR, the token label,
// EF 0008 and the contact ATR object 5F51. PINs never reach a transcript:
// a VERIFY is stored with a placeholder in place of Lc and the PIN, and
// Replay puts the PIN it is given back in.
//
// The package knows nothing of the simulator (it never imports simcard):
// replaying a transcript against a simulated card is the caller's business,
// through whatever Transport reaches it.
package transcript

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Format names the file format; Load refuses others.
const Format = "mynahil-transcript/1"

// Check says what Compare compares for a step besides the status word.
type Check string

// The checks.
const (
	// CheckValue: the response is public and fixed (ATR, token label, EF
	// 0008, 5F51): length and bytes must match.
	CheckValue Check = "value"
	// CheckLength: the response length and its structure must match.
	CheckLength Check = "length"
	// CheckSize: the structure must match; the length, and the length the
	// TLV header declares, may differ by 10% (certificates and records
	// whose size depends on the holder and the issuer).
	CheckSize Check = "size"
	// CheckOpaque: only the length; nothing about the content is kept
	// (random bytes, signatures, serial numbers, personal ASCII data).
	CheckOpaque Check = "opaque"
)

// SizeTolerance is the relative difference CheckSize allows, in percent.
const SizeTolerance = 10

// Placeholders in recorded commands where a PIN stood (Lc and the PIN).
const (
	AuthPINPlaceholder = "<auth-pin>"
	SignPINPlaceholder = "<sign-pin>"
)

// Step is one exchange.
type Step struct {
	// Name says what the step probes.
	Name string `json:"name"`
	// Command is the command APDU as upper-case hex bytes separated by
	// spaces, with a PIN placeholder in place of a VERIFY's Lc and data.
	// "RESET" is a warm reset, "ATR" the reading of the ATR.
	Command string `json:"command"`
	Check   Check  `json:"check"`
	// SW is the status word as 4 hex digits ("" for RESET and ATR).
	SW string `json:"sw,omitempty"`
	// Len is the number of response data bytes.
	Len int `json:"len"`
	// Shape is the response's structure (see Shape).
	Shape string `json:"shape,omitempty"`
	// ObjLen is the total length the response's first TLV header declares
	// (e.g. a certificate's, from its 4-byte header), 0 if none.
	ObjLen int `json:"obj_len,omitempty"`
	// Value is the response data as hex, for CheckValue steps only.
	Value string `json:"value,omitempty"`
	// Source cites where a hand-written step's answer was published.
	Source string `json:"source,omitempty"`
}

// Transcript is a recording.
type Transcript struct {
	Format     string    `json:"format"`
	Card       string    `json:"card"` // what was recorded: reader, description
	RecordedAt time.Time `json:"recorded_at"`
	// Fingerprint is the SHA-256 of the auth certificate, when read.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Notes say where a hand-written transcript's answers come from.
	Notes []string `json:"notes,omitempty"`
	Steps []Step   `json:"steps"`
}

// Write stores t as indented JSON.
func (t *Transcript) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(t); err != nil {
		return fmt.Errorf("writing transcript: %w", err)
	}
	return nil
}

// Save writes t to a file (mode 0600: it names the card that was read).
func (t *Transcript) Save(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("saving transcript: %w", err)
	}
	if err := t.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Load reads a transcript file and checks it.
func Load(path string) (*Transcript, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading transcript: %w", err)
	}
	return Parse(b)
}

// Parse decodes and checks a transcript: format, checks, status words and
// commands that parse as hex or placeholders.
func Parse(b []byte) (*Transcript, error) {
	var t Transcript
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decoding transcript: %w", err)
	}
	if t.Format != Format {
		return nil, fmt.Errorf("decoding transcript: format %q, want %q", t.Format, Format)
	}
	for i, s := range t.Steps {
		if err := s.validate(); err != nil {
			return nil, fmt.Errorf("decoding transcript: step %d (%s): %w", i+1, s.Name, err)
		}
	}
	return &t, nil
}

func (s Step) validate() error {
	switch s.Check {
	case CheckValue, CheckLength, CheckSize, CheckOpaque:
	default:
		return fmt.Errorf("check %q: want value, length, size or opaque", s.Check)
	}
	if s.Command == cmdReset || s.Command == cmdATR {
		return nil
	}
	if _, _, err := s.bytes("", ""); err != nil {
		return err
	}
	if len(s.SW) != 4 {
		return fmt.Errorf("status word %q: want 4 hex digits", s.SW)
	}
	if _, err := hex.DecodeString(s.SW); err != nil {
		return fmt.Errorf("status word %q: want 4 hex digits", s.SW)
	}
	if s.Value != "" {
		if _, err := hex.DecodeString(strings.ReplaceAll(s.Value, " ", "")); err != nil {
			return fmt.Errorf("value: %w", err)
		}
	}
	return nil
}

// Pseudo-commands.
const (
	cmdReset = "RESET"
	cmdATR   = "ATR"
)

// NeedsPIN returns which PIN the step sends, "" if none.
func (s Step) NeedsPIN() string {
	switch {
	case strings.Contains(s.Command, AuthPINPlaceholder):
		return "auth"
	case strings.Contains(s.Command, SignPINPlaceholder):
		return "sign"
	}
	return ""
}

// bytes returns the command with the placeholders replaced by Lc and the
// PIN, and whether it carries a PIN.
func (s Step) bytes(auth, sign string) ([]byte, bool, error) {
	var out []byte
	pin := false
	for _, f := range strings.Fields(s.Command) {
		switch f {
		case AuthPINPlaceholder, SignPINPlaceholder:
			v := auth
			if f == SignPINPlaceholder {
				v = sign
			}
			out = append(append(out, byte(len(v))), v...)
			pin = true
			continue
		}
		b, err := hex.DecodeString(f)
		if err != nil {
			return nil, false, fmt.Errorf("command %q: %q is neither hex nor a PIN placeholder", s.Command, f)
		}
		out = append(out, b...)
	}
	if len(out) < 4 {
		return nil, false, fmt.Errorf("command %q: shorter than a header", s.Command)
	}
	return out, pin, nil
}

// Hex writes bytes as pcsc_scan does: upper-case pairs separated by spaces.
func Hex(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return strings.ToUpper(strings.Join(strings.Fields(fmt.Sprintf("% x", b)), " "))
}
