package target

import "testing"

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
