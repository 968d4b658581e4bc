package simd

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/office"
)

// officeRegistry is the municipal office of the state directory.
type officeRegistry struct{ *office.Office }

func (r officeRegistry) registerControl(h office.Handler) { r.RegisterControl(h) }

func (r officeRegistry) describe(id string) (status, holder string) {
	rep, err := r.Report(id)
	if err != nil {
		return "unknown", ""
	}
	return string(rep.Status), rep.Holder.Name
}

// afterCall registers handlers on srv that run after once they return: the
// daemon picks up cards the office issued without waiting for a sim.* call.
type afterCall struct {
	srv   *control.Server
	after func()
}

func (a afterCall) Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error)) {
	a.srv.Handle(method, func(ctx context.Context, params json.RawMessage) (any, error) {
		defer a.after()
		return fn(ctx, params)
	})
}

// openRegistry opens (or creates) the office kept in dir: office.json,
// authority.json and cards/<id>.json, all written crash-safely on every
// change. New cards carry the card-info applets (券面事項入力補助AP,
// 券面AP, 住基AP, common AP) beside JPKI, as a real card does
// (docs/card.md §2).
func openRegistry(dir string, c clock.Clock, keys keypool.Source, issuer *simcard.Issuer) (registry, error) {
	applets, err := cardinfo.New(keys)
	if err != nil {
		return nil, fmt.Errorf("creating card-info applets: %w", err)
	}
	issuer.Extra = append(issuer.Extra, applets)
	o, err := office.Open(dir, c, issuer)
	if err != nil {
		return nil, err
	}
	return officeRegistry{o}, nil
}
