package trace

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"github.com/mynahil/mynahil/harness/apduclient"
)

// Content says what the response data of a command carries.
type Content int

// The kinds of response data a trace tells apart.
const (
	// Public data: status words, certificates of the CAs, the auth
	// certificate (no personal data, docs/card.md §3.1), signatures.
	Public Content = iota
	// Personal data of the holder: name, address, birth date, sex, the card
	// face, the card and municipality identifiers (docs/card.md §3.1–3.6).
	Personal
	// MyNumber is the text applet's EF 0001: personal data and also
	// 照合番号A, a secret that opens other files (docs/card.md §3.2).
	MyNumber
)

// The applets whose files the trace knows (docs/card.md §3).
var (
	jpkiAID = []byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01}
	textAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x08}
	faceAID = []byte{0xD3, 0x92, 0x10, 0x00, 0x31, 0x00, 0x01, 0x01, 0x04, 0x02}
)

const (
	efMyNumber = 0x0001 // text applet
	efSignCert = 0x0001 // JPKI applet
)

// publicEFs are the card-info applets' files without personal data: the
// text applet's CV certificate and EF 0005, the face applet's EF 0003 and
// 0004 (docs/card.md §3.2, §3.3). Every other file of theirs is personal.
var publicEFs = map[string][]uint16{
	string(textAID): {0x0004, 0x0005},
	string(faceAID): {0x0003, 0x0004},
}

// publicObjects are the GET DATA objects without personal data: the ATR,
// the CV certificates and key IDs, the issuer's key reference, card
// recognition data (docs/card.md §3.6). The municipality code (00F0), the
// card's expiry (00F2) and its identification number (0045) are personal.
var publicObjects = map[uint16]bool{0x5F51: true, 0x00F8: true, 0x7F21: true, 0x00F7: true, 0x0042: true, 0x0066: true}

// Follower follows the commands a card receives to tell what each read
// returns. It knows the applet selected by DF name, the EF selected by
// identifier or short EF identifier, and that GET RESPONSE continues the
// previous answer. When it cannot be sure (a failed or unanswered SELECT, a
// file it does not know) it answers Personal. The zero value is a card
// right after reset.
type Follower struct {
	df      []byte
	ef      uint16
	unknown bool    // a SELECT failed: the card's selection is not known
	last    Content // the previous command's content, for GET RESPONSE
}

// Next classifies the response data of cmd, then updates the selection
// with cmd and its response resp (nil after a transport error).
func (f *Follower) Next(cmd, resp []byte) Content {
	c, err := apduclient.ParseCommand(cmd)
	if err != nil || c.CLA&0x80 != 0 {
		f.last = Public
		return Public
	}
	content := Public
	switch c.INS {
	case 0xA4:
		f.follow(c, resp)
	case 0xB0, 0xB1:
		ef := f.ef
		if c.INS == 0xB0 && c.P1&0x80 != 0 {
			ef = uint16(c.P1 & 0x1F)
		}
		content = f.file(ef)
	case 0xB2:
		ef := f.ef
		if sfi := c.P2 >> 3; sfi != 0 {
			ef = uint16(sfi)
		}
		content = f.file(ef)
	case 0xCA, 0xCB:
		if !publicObjects[uint16(c.P1)<<8|uint16(c.P2)] {
			content = Personal
		}
	case 0xC0:
		content = f.last
	}
	f.last = content
	return content
}

func (f *Follower) follow(c apduclient.Command, resp []byte) {
	ok := len(resp) >= 2 && (resp[len(resp)-2] == 0x90 && resp[len(resp)-1] == 0x00 || resp[len(resp)-2] == 0x61)
	switch {
	case c.P1 == 0x04:
		f.df, f.ef = append([]byte(nil), c.Data...), 0
		f.unknown = !ok
	case c.P1 == 0x02 && len(c.Data) == 2:
		f.ef = uint16(c.Data[0])<<8 | uint16(c.Data[1])
		f.unknown = f.unknown || !ok
	default:
		// Another form of SELECT (by path, the MF): not followed.
		f.unknown = true
	}
}

// in reports whether the selected DF name is aid or a prefix of it (a
// partial DF name selects the first matching applet, docs/card.md §3).
func (f *Follower) in(aid []byte) bool {
	return len(f.df) > 0 && bytes.HasPrefix(aid, f.df)
}

// file classifies a read of EF ef in the selected applet. After a failed
// SELECT (a selection only a later successful SELECT by DF name restores)
// every read is Personal, or MyNumber if the commands point there.
func (f *Follower) file(ef uint16) Content {
	c := f.known(ef)
	if f.unknown && c != MyNumber {
		return Personal
	}
	return c
}

func (f *Follower) known(ef uint16) Content {
	switch {
	case f.in(jpkiAID):
		if ef == efSignCert {
			return Personal
		}
		return Public
	case f.in(textAID) && ef == efMyNumber:
		return MyNumber
	case f.in(textAID), f.in(faceAID):
		aid := textAID
		if f.in(faceAID) {
			aid = faceAID
		}
		for _, p := range publicEFs[string(aid)] {
			if ef == p {
				return Public
			}
		}
	}
	return Personal
}

// Hider applies a Recorder's rules to a trace kept elsewhere (the
// conformance report's per-check traces): it follows the commands and
// tells what of each response the trace may show. It is safe for
// concurrent use; commands on one card must reach it in order.
type Hider struct {
	mu   sync.Mutex
	f    Follower
	hide bool
}

// NewHider returns a Hider for a card: on a physical one personal data is
// hidden unless the user asked for it (HidePersonal). The My Number is
// masked whatever the card.
func NewHider(physical bool) *Hider { return &Hider{hide: HidePersonal(physical)} }

// Response returns resp, the response to cmd, as a trace shows it: its
// bytes in hex, or the placeholder of HiddenText and the status word, or
// "**" for each byte of the My Number. It must see every command sent to
// the card, answered or not (resp nil after a transport error).
func (h *Hider) Response(cmd, resp []byte) string {
	h.mu.Lock()
	c := h.f.Next(cmd, resp)
	h.mu.Unlock()
	if len(resp) <= 2 {
		return fmt.Sprintf("% X", resp)
	}
	n, sw := len(resp)-2, resp[len(resp)-2:]
	switch {
	case c == MyNumber:
		return fmt.Sprintf("%s% X", strings.Repeat("** ", n), sw)
	case c == Personal && h.hide:
		return fmt.Sprintf("%s % X", HiddenText(n), sw)
	}
	return fmt.Sprintf("% X", resp)
}
