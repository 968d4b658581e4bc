package simd

import (
	"context"
	"encoding/json"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
)

// officeRegistry is the municipal office of the state directory.
type officeRegistry struct{ *office.Office }

func (r officeRegistry) registerControl(h office.Handler) { r.RegisterControl(h) }

func (r officeRegistry) setCounter(takeOut func(string) func()) { r.SetCounter(takeOut) }

func (r officeRegistry) describe(id string) (status, holder string) {
	rep, err := r.Report(id)
	if err != nil {
		return "unknown", ""
	}
	return string(rep.Status), rep.Holder.Name
}

// handlerFunc is a control method's function.
type handlerFunc = func(ctx context.Context, params json.RawMessage) (any, error)

// wrapper decorates one control method.
type wrapper func(handlerFunc) handlerFunc

// afterCall registers handlers on srv, decorated by wrap[method] when
// there is one, that run after once they return: the daemon picks up cards
// the office issued without waiting for a sim.* call.
type afterCall struct {
	srv   *control.Server
	after func()
	wrap  map[string]wrapper
}

func (a afterCall) Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error)) {
	if w := a.wrap[method]; w != nil {
		fn = w(fn)
	}
	a.srv.Handle(method, func(ctx context.Context, params json.RawMessage) (any, error) {
		defer a.after()
		return fn(ctx, params)
	})
}

// openRegistry opens (or creates) the office kept in dir: office.json,
// authority.json and cards/<id>.json, all written crash-safely on every
// change. The issuer (simcard.NewIssuer) already writes the card-info
// applets (券面事項入力補助AP, 券面AP, 住基AP, common AP) beside JPKI, as a
// real card carries them (docs/card.md §2); the daemon adds none.
func openRegistry(dir string, c clock.Clock, issuer *simcard.Issuer) (registry, error) {
	o, err := office.Open(dir, c, issuer)
	if err != nil {
		return nil, err
	}
	return officeRegistry{o}, nil
}
