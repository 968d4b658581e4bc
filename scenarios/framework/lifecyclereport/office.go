package lifecyclereport

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
)

// FromOffice reads every card of an in-process office into a timeline
// named name, ending at the office's time now: certificates from the
// authority's records (revoked and replaced ones included), events from each
// card's history, plus extra events (lockouts, which happen on the chip, not
// at the office) keyed by card ID. Without personal, the holder's name,
// address and birth date are cut from the history's texts.
func FromOffice(name string, o *office.Office, now time.Time, extra map[string][]Event, personal bool) (Timeline, error) {
	var reports []simapi.Report
	for _, c := range o.Cards() {
		r, err := o.Report(c.ID)
		if err != nil {
			return Timeline{}, fmt.Errorf("reading card %s: %w", c.ID, err)
		}
		reports = append(reports, r)
	}
	records := o.Authority().Records(func(authority.Record) bool { return true })
	return FromReports(name, reports, records, now, extra, personal), nil
}

// FromReports builds a timeline from the office's reports of its cards, as
// an office behind the sim's control socket gives them (office.status).
// records, the authority's record of every certificate, adds the ones that
// renewal replaced; without them (nil) each card shows the certificates its
// report names.
func FromReports(name string, reports []simapi.Report, records []authority.Record, now time.Time, extra map[string][]Event, personal bool) Timeline {
	t := Timeline{Name: name, End: now}
	for _, r := range reports {
		card := Card{ID: r.ID, Holder: r.Holder.Name}
		hide := personalStrings(r, personal)
		var certs []Certificate
		if records != nil {
			for _, rec := range records {
				if rec.CardID != r.ID {
					continue
				}
				ce := Certificate{Label: certLabel(string(rec.Kind), string(rec.Device), rec.Serial), NotBefore: rec.NotBefore, NotAfter: rec.NotAfter}
				if rec.Status == authority.Revoked {
					ce.RevokedAt, ce.Reason = rec.RevokedAt, rec.Reason.String()
				}
				certs = append(certs, ce)
			}
		} else {
			for _, c := range r.Certificates {
				if c.Serial == 0 {
					continue
				}
				certs = append(certs, Certificate{Label: certLabel(string(c.Kind), string(c.Device), c.Serial), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
					RevokedAt: c.RevokedAt, Reason: c.Reason})
			}
		}
		for _, ce := range certs {
			card.Certificates = append(card.Certificates, ce)
			if ce.RevokedAt.IsZero() && !ce.NotAfter.After(now) {
				card.Events = append(card.Events, Event{At: ce.NotAfter, Kind: Expiry, Text: ce.Label + " expired"})
			}
		}
		for _, e := range r.History {
			card.Events = append(card.Events, Event{At: e.At, Kind: Classify(e.What), Text: redact(e.What, hide)})
		}
		for _, e := range extra[r.ID] {
			e.Text = redact(e.Text, hide)
			card.Events = append(card.Events, e)
		}
		t.Cards = append(t.Cards, card)
		if t.Start.IsZero() || r.IssueDate.Before(t.Start) {
			t.Start = r.IssueDate
		}
	}
	return t
}

func certLabel(k, dev string, serial int64) string {
	if dev != "" && dev != string(authority.OnCard) {
		return fmt.Sprintf("%s %s #%d", dev, k, serial)
	}
	return fmt.Sprintf("%s #%d", k, serial)
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

func personalStrings(r simapi.Report, personal bool) []string {
	if personal {
		return nil
	}
	out := []string{} // non-nil: redact also hides the facts at issuance
	h := r.Holder
	for _, s := range []string{h.Name, h.Address} {
		if s != "" {
			out = append(out, s)
		}
	}
	if h.BirthDate != "" {
		out = append(out, h.BirthDate)
	}
	return out
}

// issuedTo matches the office's issuance line, "card issued to NAME (born
// DATE)": it names the holder's facts at issuance, which a later change of
// facts no longer lists among the current ones.
var issuedTo = regexp.MustCompile(`issued to .+? \(born [^)]*\)`)

func redact(s string, hide []string) string {
	if hide != nil {
		s = issuedTo.ReplaceAllString(s, "issued to [personal data hidden] (born [personal data hidden])")
	}
	for _, h := range hide {
		s = strings.ReplaceAll(s, h, "[personal data hidden]")
	}
	return s
}
