package simapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simapi"
)

// fake serves every method: it records the params it got and answers
// with a result naming the method, or with want's error.
type fake struct {
	got  map[string]any
	fail error
}

func (f *fake) note(method string, p any) error {
	f.got[method] = p
	return f.fail
}

func (f *fake) report(method string, p any) (simapi.Report, error) {
	return simapi.Report{ID: method}, f.note(method, p)
}

func (f *fake) IssueCard(_ context.Context, p simapi.IssueParams) (simapi.Report, error) {
	return f.report("IssueCard", p)
}
func (f *fake) Cards(context.Context) ([]simapi.CardSummary, error) {
	return []simapi.CardSummary{{ID: "Cards"}}, f.note("Cards", nil)
}
func (f *fake) Report(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("Report", p)
}
func (f *fake) IssueCertificate(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return f.report("IssueCertificate", p)
}
func (f *fake) ResetPIN(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return f.report("ResetPIN", p)
}
func (f *fake) ChangeFacts(_ context.Context, p simapi.FactsParams) (simapi.Report, error) {
	return f.report("ChangeFacts", p)
}
func (f *fake) Revoke(_ context.Context, p simapi.CertParams) (simapi.Report, error) {
	return f.report("Revoke", p)
}
func (f *fake) ReportLoss(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("ReportLoss", p)
}
func (f *fake) CardFound(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("CardFound", p)
}
func (f *fake) ResetCardInfoPIN(_ context.Context, p simapi.CardPINParams) (simapi.Report, error) {
	return f.report("ResetCardInfoPIN", p)
}
func (f *fake) Death(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("Death", p)
}
func (f *fake) MoveAbroad(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("MoveAbroad", p)
}
func (f *fake) Invalidate(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return f.report("Invalidate", p)
}
func (f *fake) Renew(_ context.Context, p simapi.RenewParams) (simapi.Report, error) {
	return f.report("Renew", p)
}
func (f *fake) Smartphone(_ context.Context, p simapi.CardParams) (simapi.Smartphone, error) {
	return simapi.Smartphone{Sign: []byte("Smartphone")}, f.note("Smartphone", p)
}
func (f *fake) ProxyFile(_ context.Context, p simapi.ProxyParams) (simapi.Inquiry, error) {
	return simapi.Inquiry{ID: "ProxyFile"}, f.note("ProxyFile", p)
}
func (f *fake) ProxyAnswer(_ context.Context, p simapi.AnswerParams) (simapi.Report, error) {
	return f.report("ProxyAnswer", p)
}
func (f *fake) Inquiries(context.Context) ([]simapi.Inquiry, error) {
	return []simapi.Inquiry{{ID: "Inquiries"}}, f.note("Inquiries", nil)
}
func (f *fake) Endpoints(context.Context) (simapi.Endpoints, error) {
	return simapi.Endpoints{CRLAuth: "Endpoints"}, f.note("Endpoints", nil)
}
func (f *fake) Time(_ context.Context, p simapi.TimeParams) (simapi.TimeResult, error) {
	return simapi.TimeResult{Virtual: true}, f.note("Time", p)
}
func (f *fake) List(context.Context) ([]simapi.SlotInfo, error) {
	return []simapi.SlotInfo{{Card: "List"}}, f.note("List", nil)
}
func (f *fake) Status(context.Context) (simapi.SimStatus, error) {
	return simapi.SimStatus{StateDir: "Status"}, f.note("Status", nil)
}
func (f *fake) Insert(_ context.Context, sel simapi.Selector) ([]simapi.SlotInfo, error) {
	return []simapi.SlotInfo{{Card: "Insert"}}, f.note("Insert", sel)
}
func (f *fake) Remove(_ context.Context, sel simapi.Selector) ([]simapi.SlotInfo, error) {
	return []simapi.SlotInfo{{Card: "Remove"}}, f.note("Remove", sel)
}
func (f *fake) Place(_ context.Context, p simapi.Placement) ([]simapi.SlotInfo, error) {
	return []simapi.SlotInfo{{Card: "Place"}}, f.note("Place", p)
}

// serve registers f on a control server and returns a client of it.
func serve(t *testing.T, f *fake) *simapi.Client {
	t.Helper()
	return serveImpl(t, f)
}

// impl is both halves of the API.
type impl interface {
	simapi.Office
	simapi.Sim
}

func serveImpl(t *testing.T, f impl) *simapi.Client {
	t.Helper()
	dir, err := os.MkdirTemp("", "simapi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	srv, err := control.Listen(control.DefaultAddr(dir))
	if err != nil {
		t.Fatal(err)
	}
	simapi.Register(srv, f, f)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := simapi.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestClientReachesEveryMethod: each typed client method reaches the
// implementation's method of the same name with its params, and its result
// comes back; control.methods lists exactly the table (and itself).
func TestClientReachesEveryMethod(t *testing.T) {
	f := &fake{got: map[string]any{}}
	c := serve(t, f)
	ctx := context.Background()
	name, slot := "新", 3
	for _, tc := range []struct {
		method string
		params any
		call   func() (any, error)
	}{
		{"IssueCard", simapi.IssueParams{Profile: json.RawMessage(`{"atr":"x"}`)}, func() (any, error) {
			return c.IssueCard(ctx, simapi.IssueParams{Profile: json.RawMessage(`{"atr":"x"}`)})
		}},
		{"Cards", nil, func() (any, error) { return c.Cards(ctx) }},
		{"Report", simapi.CardParams{Card: "c"}, func() (any, error) { return c.Report(ctx, simapi.CardParams{Card: "c"}) }},
		{"IssueCertificate", simapi.PINParams{Card: "c", Kind: simapi.Sign, PIN: "P"}, func() (any, error) {
			return c.IssueCertificate(ctx, simapi.PINParams{Card: "c", Kind: simapi.Sign, PIN: "P"})
		}},
		{"ResetPIN", simapi.PINParams{Card: "c", Kind: simapi.Auth, PIN: "P"}, func() (any, error) {
			return c.ResetPIN(ctx, simapi.PINParams{Card: "c", Kind: simapi.Auth, PIN: "P"})
		}},
		{"ChangeFacts", simapi.FactsParams{Card: "c", Name: &name}, func() (any, error) {
			return c.ChangeFacts(ctx, simapi.FactsParams{Card: "c", Name: &name})
		}},
		{"Revoke", simapi.CertParams{Card: "c", Kind: simapi.Auth}, func() (any, error) {
			return c.Revoke(ctx, simapi.CertParams{Card: "c", Kind: simapi.Auth})
		}},
		{"ReportLoss", simapi.CardParams{Card: "c"}, func() (any, error) { return c.ReportLoss(ctx, simapi.CardParams{Card: "c"}) }},
		{"CardFound", simapi.CardParams{Card: "c"}, func() (any, error) { return c.CardFound(ctx, simapi.CardParams{Card: "c"}) }},
		{"ResetCardInfoPIN", simapi.CardPINParams{Card: "c", PIN: "P"}, func() (any, error) {
			return c.ResetCardInfoPIN(ctx, simapi.CardPINParams{Card: "c", PIN: "P"})
		}},
		{"Death", simapi.CardParams{Card: "c"}, func() (any, error) { return c.Death(ctx, simapi.CardParams{Card: "c"}) }},
		{"MoveAbroad", simapi.CardParams{Card: "c"}, func() (any, error) { return c.MoveAbroad(ctx, simapi.CardParams{Card: "c"}) }},
		{"Invalidate", simapi.CardParams{Card: "c"}, func() (any, error) { return c.Invalidate(ctx, simapi.CardParams{Card: "c"}) }},
		{"Renew", simapi.RenewParams{Card: "c", SignPIN: "S"}, func() (any, error) {
			return c.Renew(ctx, simapi.RenewParams{Card: "c", SignPIN: "S"})
		}},
		{"Smartphone", simapi.CardParams{Card: "c"}, func() (any, error) { return c.Smartphone(ctx, simapi.CardParams{Card: "c"}) }},
		{"ProxyFile", simapi.ProxyParams{Card: "c", Operation: simapi.ProxyResetPIN, Kind: simapi.Auth}, func() (any, error) {
			return c.ProxyFile(ctx, simapi.ProxyParams{Card: "c", Operation: simapi.ProxyResetPIN, Kind: simapi.Auth})
		}},
		{"ProxyAnswer", simapi.AnswerParams{Inquiry: "q", PIN: "P"}, func() (any, error) {
			return c.ProxyAnswer(ctx, simapi.AnswerParams{Inquiry: "q", PIN: "P"})
		}},
		{"Inquiries", nil, func() (any, error) { return c.Inquiries(ctx) }},
		{"Endpoints", nil, func() (any, error) { return c.Endpoints(ctx) }},
		{"Time", simapi.TimeParams{Days: 2}, func() (any, error) { return c.Time(ctx, simapi.TimeParams{Days: 2}) }},
		{"List", nil, func() (any, error) { return c.List(ctx) }},
		{"Status", nil, func() (any, error) { return c.Status(ctx) }},
		{"Insert", simapi.Selector{Slot: &slot}, func() (any, error) { return c.Insert(ctx, simapi.Selector{Slot: &slot}) }},
		{"Remove", simapi.Selector{All: true}, func() (any, error) { return c.Remove(ctx, simapi.Selector{All: true}) }},
		{"Place", simapi.Placement{Card: "c", Slot: &slot}, func() (any, error) { return c.Place(ctx, simapi.Placement{Card: "c", Slot: &slot}) }},
	} {
		res, err := tc.call()
		if err != nil {
			t.Errorf("%s: %v", tc.method, err)
			continue
		}
		if d := cmp.Diff(tc.params, f.got[tc.method]); d != "" {
			t.Errorf("%s reached the implementation with other params (-sent +got):\n%s", tc.method, d)
		}
		if !strings.Contains(strings.ReplaceAll(mustJSON(t, res), "U21hcnRwaG9uZQ==", "Smartphone"), tc.method) && tc.method != "Time" {
			t.Errorf("%s: result %s is not the implementation's", tc.method, mustJSON(t, res))
		}
	}
	if len(f.got) != len(simapi.Methods()) {
		t.Errorf("%d methods reached, the table has %d", len(f.got), len(simapi.Methods()))
	}
	var served []string
	if err := c.Call(ctx, "control.methods", nil, &served); err != nil {
		t.Fatal(err)
	}
	want := []string{"control.methods"}
	for _, m := range simapi.Methods() {
		want = append(want, m.Name)
	}
	slices.Sort(want)
	if d := cmp.Diff(want, served); d != "" {
		t.Errorf("control.methods (-the table +served):\n%s", d)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParamsAreChecked: params are decoded strictly (a misspelt member is
// control.bad-params), required unless the method says they are optional,
// and refused by the methods that take none.
func TestParamsAreChecked(t *testing.T) {
	f := &fake{got: map[string]any{}}
	c := serve(t, f)
	ctx := context.Background()
	for _, m := range simapi.Methods() {
		takesNone := slices.Contains([]string{"sim.list", "sim.status", "office.cards", "office.inquiries", "office.endpoints"}, m.Name)
		err := c.Call(ctx, m.Name, map[string]any{"crad": "card-1"}, nil)
		var re *simapi.RefusedError
		if !errors.As(err, &re) || re.RuleName != control.RuleBadParams {
			t.Errorf("%s with a misspelt member: %v, want rule %s", m.Name, err, control.RuleBadParams)
		}
		err = c.Call(ctx, m.Name, nil, nil)
		if refused := errors.As(err, &re) && re.RuleName == control.RuleBadParams; refused == (m.Optional || takesNone) {
			t.Errorf("%s without params: %v (optional %v)", m.Name, err, m.Optional)
		}
	}
}

// TestRefusalsAndCardsNotBack: a refusal comes back as the *RefusedError
// the implementation returned (rule and reason); a report saying the card
// is not back in its reader is a *NotBackError beside the report.
func TestRefusalsAndCardsNotBack(t *testing.T) {
	f := &fake{got: map[string]any{}, fail: &simapi.RefusedError{RuleName: "one-per-kind", Reason: "card c already holds one"}}
	c := serve(t, f)
	_, err := c.IssueCertificate(context.Background(), simapi.PINParams{Card: "c", Kind: simapi.Auth, PIN: "1234"})
	var re *simapi.RefusedError
	if !errors.As(err, &re) || *re != (simapi.RefusedError{RuleName: "one-per-kind", Reason: "card c already holds one"}) {
		t.Errorf("refusal: %#v", err)
	}

	nb := &notBack{fake: fake{got: map[string]any{}}}
	rep, err := serveImpl(t, nb).ResetPIN(context.Background(), simapi.PINParams{Card: "c", Kind: simapi.Auth, PIN: "1234"})
	var nbe *simapi.NotBackError
	if !errors.Is(err, simapi.ErrCardNotBack) || !errors.As(err, &nbe) || nbe.Reader != "R" || rep.ID != "ResetPIN" {
		t.Errorf("not back: %v, report %+v", err, rep)
	}
}

type notBack struct{ fake }

func (n *notBack) ResetPIN(ctx context.Context, p simapi.PINParams) (simapi.Report, error) {
	r, err := n.fake.ResetPIN(ctx, p)
	r.NotBack = &simapi.NotBack{Card: p.Card, Reader: "R", Waited: "5s"}
	return r, err
}

// methodLiterals lists the string literals of the Go files under root that
// spell a method name of the API, or the bare prefix a name is built from,
// outside package simapi and outside tests.
func methodLiterals(t *testing.T, root string) []string {
	t.Helper()
	names := map[string]bool{"sim.": true, "office.": true}
	for _, m := range simapi.Methods() {
		names[m.Name] = true
	}
	var out []string
	err := filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if n := e.Name(); p != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "simapi") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && names[s] {
				out = append(out, fset.Position(lit.Pos()).String()+": "+lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMethodNamesOnlyHere: no code of the module but this package spells a
// method name (issue: the names and params were written by hand in five
// places); a planted literal is found.
func TestMethodNamesOnlyHere(t *testing.T) {
	if found := methodLiterals(t, ".."); len(found) > 0 {
		t.Errorf("method names spelt outside package simapi (use simapi.Client or simapi.Register):\n%s", strings.Join(found, "\n"))
	}
	dir := t.TempDir()
	planted := "package x\n\nconst m = `office.reset-pin`\n\nvar p = \"sim.\" + \"list\"\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(planted), 0o600); err != nil {
		t.Fatal(err)
	}
	if found := methodLiterals(t, dir); len(found) != 2 {
		t.Errorf("planted literals found: %v, want 2", found)
	}
}

// TestChipMethodsAreTheOnesThatVisit: the table's Chip flag is true for
// exactly the methods that change a card's chip (docs/daemon.md, "The
// visit path").
func TestChipMethodsAreTheOnesThatVisit(t *testing.T) {
	var chip []string
	for _, m := range simapi.Methods() {
		if m.Chip {
			chip = append(chip, m.Name)
		}
	}
	want := []string{"office.issue-certificate", "office.reset-pin", "office.change-facts", "office.revoke", "office.death",
		"office.move-abroad", "office.invalidate", "office.renew", "office.proxy-answer", "office.reset-cardinfo-pin"}
	slices.Sort(chip)
	slices.Sort(want)
	if !slices.Equal(chip, want) {
		t.Errorf("methods that change the chip: %v, want %v", chip, want)
	}
}
