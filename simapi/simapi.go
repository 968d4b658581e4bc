// Package simapi is the control API of 'mynahil sim' (docs/daemon.md,
// "Control methods"), and its only owner: every method of the control
// socket — sim.* for the readers, office.* for the municipal office — with
// its name, its parameters, its result and whether it changes a card's
// chip (Methods); the registration of a daemon's implementation on a
// control server (Register); the one typed client that the CLI, the
// scenario framework, the operator and the rehearsal use (Client); and the
// one conversion of a refusal into an error (RefusedError).
//
// Method names are written here and nowhere else: a test of the module
// fails on a method name spelt as a string literal in any other package.
//
// The package depends on package control only, never on the simulator, so
// that the harness, which must not import the simulator (docs/suites.md,
// "One-way imports"), drives the office through it too. Its types are the
// wire types; the simulator fills them.
package simapi

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mynahil/mynahil/control"
)

// Office is the municipal office as the control API offers it: one method
// per office.* control method, implemented by the daemon's office and by
// Client.
type Office interface {
	IssueCard(ctx context.Context, p IssueParams) (Report, error)
	Cards(ctx context.Context) ([]CardSummary, error)
	Report(ctx context.Context, p CardParams) (Report, error)
	IssueCertificate(ctx context.Context, p PINParams) (Report, error)
	ResetPIN(ctx context.Context, p PINParams) (Report, error)
	ChangeFacts(ctx context.Context, p FactsParams) (Report, error)
	Revoke(ctx context.Context, p CertParams) (Report, error)
	ReportLoss(ctx context.Context, p CardParams) (Report, error)
	CardFound(ctx context.Context, p CardParams) (Report, error)
	ResetCardInfoPIN(ctx context.Context, p CardPINParams) (Report, error)
	Death(ctx context.Context, p CardParams) (Report, error)
	MoveAbroad(ctx context.Context, p CardParams) (Report, error)
	Invalidate(ctx context.Context, p CardParams) (Report, error)
	Renew(ctx context.Context, p RenewParams) (Report, error)
	Smartphone(ctx context.Context, p CardParams) (Smartphone, error)
	ProxyFile(ctx context.Context, p ProxyParams) (Inquiry, error)
	ProxyAnswer(ctx context.Context, p AnswerParams) (Report, error)
	Inquiries(ctx context.Context) ([]Inquiry, error)
	Endpoints(ctx context.Context) (Endpoints, error)
	Time(ctx context.Context, p TimeParams) (TimeResult, error)
}

// Sim is the daemon's readers as the control API offers them: one method
// per sim.* control method, implemented by the daemon and by Client.
type Sim interface {
	List(ctx context.Context) ([]SlotInfo, error)
	Status(ctx context.Context) (SimStatus, error)
	Insert(ctx context.Context, sel Selector) ([]SlotInfo, error)
	Remove(ctx context.Context, sel Selector) ([]SlotInfo, error)
	Place(ctx context.Context, p Placement) ([]SlotInfo, error)
}

// Method describes one control method.
type Method struct {
	Name string
	// Chip: the method changes a card's chip, so a card that sits in a
	// reader leaves it for the change and comes back (docs/daemon.md, "The
	// visit path"), unless the method is refused before any change.
	Chip bool
	// Optional: the method may be called without params.
	Optional bool
}

// none is the params of a method that takes none.
type none struct{}

// op is one method bound to its Go signature: fn is the Office or Sim
// method that serves it (a method expression) and pick chooses which of the
// two a daemon registers it on.
type op[S, P, R any] struct {
	Method
	fn   func(S, context.Context, P) (R, error)
	pick func(Office, Sim) S
}

// entry is what Register and Methods need of an op, whatever its types.
type entry interface {
	method() Method
	handler(o Office, s Sim) control.HandlerFunc
}

func (m op[S, P, R]) method() Method { return m.Method }

func (m op[S, P, R]) handler(o Office, s Sim) control.HandlerFunc {
	impl := m.pick(o, s)
	return func(ctx context.Context, raw json.RawMessage) (any, error) {
		var p P
		if !m.Optional && (len(raw) == 0 || string(raw) == "null") {
			if _, takesNone := any(p).(none); !takesNone {
				return nil, control.Errorf(control.RuleBadParams, "calling %s: params missing", m.Name)
			}
		}
		if err := control.Decode(raw, &p); err != nil {
			return nil, err
		}
		return m.fn(impl, ctx, p)
	}
}

func pickOffice(o Office, _ Sim) Office { return o }
func pickSim(_ Office, s Sim) Sim       { return s }

// flags of a method in the table below.
const (
	chip     = 1 << iota // Method.Chip
	optional             // Method.Optional
	plain    = 0
)

func officeOp[P, R any](name string, flags int, fn func(Office, context.Context, P) (R, error)) op[Office, P, R] {
	return op[Office, P, R]{Method: Method{Name: name, Chip: flags&chip != 0, Optional: flags&optional != 0}, fn: fn, pick: pickOffice}
}

func simOp[P, R any](name string, flags int, fn func(Sim, context.Context, P) (R, error)) op[Sim, P, R] {
	return op[Sim, P, R]{Method: Method{Name: name, Optional: flags&optional != 0}, fn: fn, pick: pickSim}
}

// The methods. Their names are spelt here only.
var (
	opList   = simOp("sim.list", plain, func(s Sim, ctx context.Context, _ none) ([]SlotInfo, error) { return s.List(ctx) })
	opStatus = simOp("sim.status", plain, func(s Sim, ctx context.Context, _ none) (SimStatus, error) { return s.Status(ctx) })
	opInsert = simOp("sim.insert", plain, Sim.Insert)
	opRemove = simOp("sim.remove", plain, Sim.Remove)
	opPlace  = simOp("sim.place", plain, Sim.Place)

	opTime             = officeOp("office.time", optional, Office.Time)
	opIssueCard        = officeOp("office.issue-card", optional, Office.IssueCard)
	opCards            = officeOp("office.cards", plain, func(o Office, ctx context.Context, _ none) ([]CardSummary, error) { return o.Cards(ctx) })
	opReport           = officeOp("office.status", plain, Office.Report)
	opIssueCertificate = officeOp("office.issue-certificate", chip, Office.IssueCertificate)
	opResetPIN         = officeOp("office.reset-pin", chip, Office.ResetPIN)
	opChangeFacts      = officeOp("office.change-facts", chip, Office.ChangeFacts)
	opRevoke           = officeOp("office.revoke", chip, Office.Revoke)
	opReportLoss       = officeOp("office.report-loss", plain, Office.ReportLoss) // the office does not hold a lost card
	opCardFound        = officeOp("office.card-found", plain, Office.CardFound)   // status only: the revoked certificates stay revoked
	opResetCardInfoPIN = officeOp("office.reset-cardinfo-pin", chip, Office.ResetCardInfoPIN)
	opDeath            = officeOp("office.death", chip, Office.Death)
	opMoveAbroad       = officeOp("office.move-abroad", chip, Office.MoveAbroad)
	opInvalidate       = officeOp("office.invalidate", chip, Office.Invalidate)
	opRenew            = officeOp("office.renew", chip, Office.Renew)
	opSmartphone       = officeOp("office.smartphone", plain, Office.Smartphone)
	opProxyFile        = officeOp("office.proxy-file", plain, Office.ProxyFile)
	opProxyAnswer      = officeOp("office.proxy-answer", chip, Office.ProxyAnswer)
	opInquiries        = officeOp("office.inquiries", plain, func(o Office, ctx context.Context, _ none) ([]Inquiry, error) { return o.Inquiries(ctx) })
	opEndpoints        = officeOp("office.endpoints", plain, func(o Office, ctx context.Context, _ none) (Endpoints, error) { return o.Endpoints(ctx) })
)

// table is every method, in the order docs/daemon.md lists them.
var table = []entry{
	opList, opStatus, opInsert, opRemove, opPlace,
	opTime, opIssueCard, opCards, opReport, opIssueCertificate, opResetPIN, opChangeFacts, opRevoke,
	opReportLoss, opCardFound, opResetCardInfoPIN, opDeath, opMoveAbroad, opInvalidate, opRenew, opSmartphone, opProxyFile, opProxyAnswer,
	opInquiries, opEndpoints,
}

// Methods returns every method of the API; control.methods lists their
// names (and its own).
func Methods() []Method {
	out := make([]Method, len(table))
	for i, e := range table {
		out[i] = e.method()
	}
	return out
}

// Lookup returns the method of a name.
func Lookup(name string) (Method, bool) {
	for _, e := range table {
		if m := e.method(); m.Name == name {
			return m, true
		}
	}
	return Method{}, false
}

// Handler is what Register needs of a control server (control.Server has
// this method).
type Handler interface {
	Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error))
}

// Register registers every method on h, served by o and s. Params are
// decoded strictly (an unknown member is control.bad-params); a refusal
// keeps its rule (RefusedError).
func Register(h Handler, o Office, s Sim) {
	if o == nil || s == nil {
		panic(fmt.Sprintf("simapi: Register needs an office and a sim (got %T, %T)", o, s))
	}
	for _, e := range table {
		h.Handle(e.method().Name, e.handler(o, s))
	}
}
