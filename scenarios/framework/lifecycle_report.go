package framework

import (
	"context"
	"errors"

	"github.com/mynahil/mynahil/scenarios/framework/lifecyclereport"
	"github.com/mynahil/mynahil/simapi"
)

// errNoOffice: a vpcd/pcsc world whose daemon never started has no cards.
var errNoOffice = errors.New("no card was issued in this world")

// LifecycleTimeline reads the world's office into the HTML lifecycle
// report (package lifecyclereport, docs/suites.md): in process from the
// office and its authority, on vpcd and pcsc from the daemon's card
// reports (office.cards, office.status). extra adds events the office does
// not see, such as lockouts on the chip. Personal data is left out.
func (w *World) LifecycleTimeline(name string, extra map[string][]lifecyclereport.Event) (lifecyclereport.Timeline, error) {
	if w.local != nil {
		return lifecyclereport.FromOffice(name, w.local, w.Clock.Now(), extra, false)
	}
	if w.d == nil || w.d.ctl == nil {
		return lifecyclereport.Timeline{}, errNoOffice
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	cards, err := w.d.ctl.Cards(ctx)
	if err != nil {
		return lifecyclereport.Timeline{}, err
	}
	reports := make([]simapi.Report, 0, len(cards))
	for _, c := range cards {
		r, err := w.d.ctl.Report(ctx, simapi.CardParams{Card: c.ID})
		if err != nil {
			return lifecyclereport.Timeline{}, err
		}
		reports = append(reports, r)
	}
	return lifecyclereport.FromReports(name, reports, nil, w.Clock.Now(), extra, false), nil
}
