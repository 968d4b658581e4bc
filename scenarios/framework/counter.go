package framework

import (
	"context"

	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/simapi"
)

// Counter is the operator of a world card: each counter step
// (operator.Action) done at the world's office for card, as the rehearsal's
// scripted operator does it at 'mynahil sim' (operator.Perform), so a suite
// runs its counter steps on every simulated target too
// (docs/physical-cards.md, "Counter steps").
func (w *World) Counter(card *Card) operator.Operator {
	return operator.Func{Name: "the world's office", Fn: func(ctx context.Context, s operator.Step) error {
		return operator.Perform(ctx, worldDesk{w.Office}, card.ID, s)
	}}
}

// worldDesk is the world's Office as operator.Perform asks it, in the
// control API's terms.
type worldDesk struct{ o Office }

func (d worldDesk) ResetPIN(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.ResetPIN(p.Card, p.Kind, p.PIN)
}

func (d worldDesk) ResetCardInfoPIN(_ context.Context, p simapi.CardPINParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.ResetCardInfoPIN(p.Card, p.PIN)
}

func (d worldDesk) Revoke(_ context.Context, p simapi.CertParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.RevokeCertificate(p.Card, p.Kind)
}

func (d worldDesk) IssueCertificate(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.IssueCertificate(p.Card, p.Kind, p.PIN)
}

func (d worldDesk) ReportLoss(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.ReportLoss(p.Card)
}

func (d worldDesk) CardFound(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return simapi.Report{}, d.o.CardFound(p.Card)
}
