package operator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
	"github.com/mynahil/mynahil/simapi"
)

// office records the calls Perform makes, as "method params".
type office struct {
	calls  []string
	refuse string // a method to refuse
}

func (o *office) note(m string, p any) (simapi.Report, error) {
	o.calls = append(o.calls, m+" "+strings.TrimPrefix(strings.ReplaceAll(fmtParams(p), "  ", " "), " "))
	if m == o.refuse {
		return simapi.Report{}, errors.New("refused")
	}
	return simapi.Report{}, nil
}

func fmtParams(p any) string {
	switch v := p.(type) {
	case simapi.PINParams:
		return v.Card + " " + string(v.Kind) + " " + v.PIN
	case simapi.CardPINParams:
		return v.Card + " " + v.PIN
	case simapi.CertParams:
		return v.Card + " " + string(v.Kind)
	case simapi.CardParams:
		return v.Card
	}
	return "?"
}

func (o *office) ResetPIN(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return o.note("reset-pin", p)
}
func (o *office) ResetCardInfoPIN(_ context.Context, p simapi.CardPINParams) (simapi.Report, error) {
	return o.note("reset-cardinfo-pin", p)
}
func (o *office) Revoke(_ context.Context, p simapi.CertParams) (simapi.Report, error) {
	return o.note("revoke", p)
}
func (o *office) IssueCertificate(_ context.Context, p simapi.PINParams) (simapi.Report, error) {
	return o.note("issue-certificate", p)
}
func (o *office) ReportLoss(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return o.note("report-loss", p)
}
func (o *office) CardFound(_ context.Context, p simapi.CardParams) (simapi.Report, error) {
	return o.note("card-found", p)
}

// TestPerformDoesEachStepAtTheOffice: each counter step is the office
// method of its name, on the card and certificate it names, with the PIN
// the run was given; a card found is the loss report withdrawn and both
// certificates issued anew, in that order, stopping at a refusal.
func TestPerformDoesEachStepAtTheOffice(t *testing.T) {
	for _, tt := range []struct {
		step   operator.Step
		refuse string
		want   []string
	}{
		{operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.SignPIN, Value: "SIGN2026"}, "", []string{"reset-pin c sign SIGN2026"}},
		{operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.AuthPIN, Value: "1234"}, "", []string{"reset-pin c auth 1234"}},
		{operator.Step{Action: operator.ResetCardInfoPIN, Value: "5678"}, "", []string{"reset-cardinfo-pin c 5678"}},
		{operator.Step{Action: operator.Revoke, PIN: jpkiclient.SignPIN}, "", []string{"revoke c sign"}},
		{operator.Step{Action: operator.Revoke, PIN: jpkiclient.AuthPIN}, "", []string{"revoke c auth"}},
		{operator.Step{Action: operator.IssueCertificate, PIN: jpkiclient.SignPIN, Value: "SIGN2026"}, "", []string{"issue-certificate c sign SIGN2026"}},
		{operator.Step{Action: operator.ReportLoss}, "", []string{"report-loss c"}},
		{operator.Step{Action: operator.CardFound, Value: "1234", SignValue: "SIGN2026"}, "",
			[]string{"card-found c", "issue-certificate c auth 1234", "issue-certificate c sign SIGN2026"}},
		{operator.Step{Action: operator.CardFound, Value: "1234", SignValue: "SIGN2026"}, "card-found", []string{"card-found c"}},
	} {
		o := &office{refuse: tt.refuse}
		err := operator.Perform(context.Background(), o, "c", tt.step)
		if (err != nil) != (tt.refuse != "") {
			t.Errorf("%s (refusing %q): %v", tt.step.Action, tt.refuse, err)
		}
		if d := cmp.Diff(tt.want, o.calls); d != "" {
			t.Errorf("%s: office calls (-want +got):\n%s", tt.step.Action, d)
		}
	}
	if err := operator.Perform(context.Background(), &office{}, "c", operator.Step{Action: "renew"}); err == nil {
		t.Error("an unknown action was performed")
	}
}

// TestEveryStepIsWordedForAPerson: each step's instruction names what to
// do and the reader, and never the PIN.
func TestEveryStepIsWordedForAPerson(t *testing.T) {
	for a, words := range map[operator.Action]string{
		operator.ResetPIN:         "re-set the sign PIN",
		operator.ResetCardInfoPIN: "re-set the card-info PIN",
		operator.Revoke:           "give up its signing certificate",
		operator.IssueCertificate: "issue a new signing certificate",
		operator.ReportLoss:       "lost",
		operator.CardFound:        "report it found",
	} {
		s := operator.Step{Action: a, PIN: jpkiclient.SignPIN, Value: "SECRET77", SignValue: "SECRET88", Reader: "Reader 7"}
		in := s.Instruction()
		if !strings.Contains(in, words) || !strings.Contains(in, `"Reader 7"`) || strings.Contains(in, "SECRET") {
			t.Errorf("%s: %q", a, in)
		}
		if a.Visits() == (a == operator.ReportLoss) {
			t.Errorf("%s: Visits() = %v", a, a.Visits())
		}
	}
}
