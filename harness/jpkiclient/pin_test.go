package jpkiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPINNeverPrints(t *testing.T) {
	p := PIN("4729")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		out := fmt.Sprintf(verb, p)
		if strings.Contains(out, "4729") || strings.Contains(out, "34373239") {
			t.Errorf("Sprintf(%q) = %q reveals the PIN", verb, out)
		}
	}
	s := struct{ PIN PIN }{p}
	if out := fmt.Sprintf("%+v %#v", s, s); strings.Contains(out, "4729") {
		t.Errorf("PIN inside a struct printed: %q", out)
	}
	if b, _ := json.Marshal(s); strings.Contains(string(b), "4729") {
		t.Errorf("JSON reveals the PIN: %s", b)
	}
	if err := fmt.Errorf("verifying %v", p); strings.Contains(err.Error(), "4729") {
		t.Errorf("error reveals the PIN: %v", err)
	}
}

func TestValidatePIN(t *testing.T) {
	tests := []struct {
		ref PINRef
		pin PIN
		ok  bool
	}{
		{AuthPIN, "1234", true},
		{AuthPIN, "0000", true},
		{AuthPIN, "123", false},
		{AuthPIN, "12345", false},
		{AuthPIN, "12a4", false},
		{AuthPIN, "", false},
		{SignPIN, "ABC123", true},
		{SignPIN, "ABCDEFGHIJKLMNOP", true},
		{SignPIN, "ABC12", false},
		{SignPIN, "ABCDEFGHIJKLMNOPQ", false},
		{SignPIN, "abc123", false},
		{SignPIN, "ABC-123", false},
		{PINRef(7), "1234", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s", tt.ref, string(tt.pin)), func(t *testing.T) {
			err := ValidatePIN(tt.ref, tt.pin)
			if (err == nil) != tt.ok {
				t.Errorf("ValidatePIN = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && tt.ref != PINRef(7) && !errors.Is(err, ErrPINFormat) {
				t.Errorf("error %v does not wrap ErrPINFormat", err)
			}
		})
	}
}
