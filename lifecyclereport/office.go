package lifecyclereport

import (
	"fmt"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
)

// FromOffice reads every card of an office into a timeline named name,
// ending at the office's time now: certificates from the authority's
// records (revoked and replaced ones included), events from each card's
// history, plus extra events (lockouts, which happen on the chip, not at the
// office) keyed by card ID. Without personal, the holder's name, address and
// birth date are cut from the history's texts.
func FromOffice(name string, o *office.Office, now time.Time, extra map[string][]Event, personal bool) (Timeline, error) {
	t := Timeline{Name: name, End: now}
	a := o.Authority()
	for _, c := range o.Cards() {
		r, err := o.Report(c.ID)
		if err != nil {
			return Timeline{}, fmt.Errorf("reading card %s: %w", c.ID, err)
		}
		card := Card{ID: c.ID, Holder: r.Holder.Name}
		hide := personalStrings(r, personal)
		for _, rec := range a.Records(func(rec authority.Record) bool { return rec.CardID == c.ID }) {
			label := fmt.Sprintf("%s #%d", rec.Kind, rec.Serial)
			if rec.Device != "" && rec.Device != authority.OnCard {
				label = fmt.Sprintf("%s %s #%d", rec.Device, rec.Kind, rec.Serial)
			}
			ce := Certificate{Label: label, NotBefore: rec.NotBefore, NotAfter: rec.NotAfter}
			if rec.Status == authority.Revoked {
				ce.RevokedAt, ce.Reason = rec.RevokedAt, rec.Reason.String()
			}
			card.Certificates = append(card.Certificates, ce)
			if !rec.NotAfter.After(now) && rec.Status != authority.Revoked {
				card.Events = append(card.Events, Event{At: rec.NotAfter, Kind: Expiry, Text: label + " expired"})
			}
		}
		for _, e := range r.History {
			card.Events = append(card.Events, Event{At: e.At, Kind: Classify(e.What), Text: redact(e.What, hide)})
		}
		for _, e := range extra[c.ID] {
			e.Text = redact(e.Text, hide)
			card.Events = append(card.Events, e)
		}
		t.Cards = append(t.Cards, card)
		if t.Start.IsZero() || r.IssueDate.Before(t.Start) {
			t.Start = r.IssueDate
		}
	}
	return t, nil
}

// Classify guesses an event's kind from the office's history text.
func Classify(what string) EventKind {
	w := strings.ToLower(what)
	switch {
	case strings.Contains(w, "renew"):
		return Renewal
	case strings.Contains(w, "revoked") || strings.Contains(w, "taken off"):
		return Revocation
	case strings.Contains(w, "re-set") || strings.Contains(w, "reset"):
		return Reset
	case strings.Contains(w, "blocked") || strings.Contains(w, "locked"):
		return Lockout
	case strings.Contains(w, "expired"):
		return Expiry
	case strings.Contains(w, "issued") || strings.Contains(w, "written"):
		return Issuance
	}
	return Other
}

func personalStrings(r office.Report, personal bool) []string {
	if personal {
		return nil
	}
	var out []string
	h := r.Holder
	for _, s := range []string{h.Name, h.Address} {
		if s != "" {
			out = append(out, s)
		}
	}
	if !h.BirthDate.Time.IsZero() {
		out = append(out, h.BirthDate.Time.Format("2006-01-02"))
	}
	return out
}

func redact(s string, hide []string) string {
	for _, h := range hide {
		s = strings.ReplaceAll(s, h, "[personal data hidden]")
	}
	return s
}
