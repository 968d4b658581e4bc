package target

import (
	"context"
	"errors"
	"testing"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/operator"
)

func TestDestructiveOnly(t *testing.T) {
	for filter, want := range map[string]bool{
		"":                                  false,
		"destructive":                       true,
		"destructive && !slow":              true,
		"destructive && interactive":        true,
		"!destructive":                      false,
		"destructive || needs-auth-pin":     false,
		"physical-safe":                     false,
		"!physical-safe":                    false,
		"interactive":                       false,
		"!sim-only":                         false,
		"destructive || physical-safe":      false,
		"(destructive)":                     true,
		"destructive || needs-cardinfo-pin": false,
	} {
		if got := destructiveOnly(filter); got != want {
			t.Errorf("destructiveOnly(%q) = %v, want %v", filter, got, want)
		}
	}
}

// TestAtCounter: a counter step goes to the operator with the reader and
// the PINs the run was given; without an operator, or without a PIN the
// office would set, nobody is asked.
func TestAtCounter(t *testing.T) {
	var got []operator.Step
	op := operator.Func{Name: "recorder", Fn: func(_ context.Context, s operator.Step) error { got = append(got, s); return nil }}
	tg := &Target{desc: "sim: test card", pins: PINs{Auth: "1234", Sign: "SIGN2026", CardInfo: "5678"}}
	if err := tg.AtCounter(operator.ResetPIN, jpkiclient.AuthPIN); !errors.Is(err, ErrNoOperator) {
		t.Fatalf("no operator: %v, want ErrNoOperator", err)
	}
	tg.SetOperator(op)
	for _, tt := range []struct {
		a    operator.Action
		ref  jpkiclient.PINRef
		want operator.Step
	}{
		{operator.ResetPIN, jpkiclient.SignPIN, operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.SignPIN, Value: "SIGN2026"}},
		{operator.ResetPIN, jpkiclient.AuthPIN, operator.Step{Action: operator.ResetPIN, PIN: jpkiclient.AuthPIN, Value: "1234"}},
		{operator.ResetCardInfoPIN, jpkiclient.AuthPIN, operator.Step{Action: operator.ResetCardInfoPIN, PIN: jpkiclient.AuthPIN, Value: "5678"}},
		{operator.IssueCertificate, jpkiclient.SignPIN, operator.Step{Action: operator.IssueCertificate, PIN: jpkiclient.SignPIN, Value: "SIGN2026"}},
		{operator.Revoke, jpkiclient.SignPIN, operator.Step{Action: operator.Revoke, PIN: jpkiclient.SignPIN}},
		{operator.ReportLoss, jpkiclient.AuthPIN, operator.Step{Action: operator.ReportLoss, PIN: jpkiclient.AuthPIN}},
		{operator.CardFound, jpkiclient.AuthPIN, operator.Step{Action: operator.CardFound, PIN: jpkiclient.AuthPIN, Value: "1234", SignValue: "SIGN2026"}},
	} {
		got = nil
		if err := tg.AtCounter(tt.a, tt.ref); err != nil {
			t.Fatalf("%s: %v", tt.a, err)
		}
		tt.want.Reader = "sim: test card"
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("%s: the operator was asked %+v, want %+v", tt.a, got, tt.want)
		}
	}
	got = nil
	tg.pins.Sign = ""
	if err := tg.AtCounter(operator.CardFound, jpkiclient.AuthPIN); err == nil || len(got) != 0 {
		t.Errorf("card found without the sign PIN: %v, operator asked %d times; want an error and nobody asked", err, len(got))
	}
}
