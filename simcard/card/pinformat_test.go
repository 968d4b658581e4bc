package card

import "testing"

// TestPINFormatMessages: a refused PIN is told in words a person reads
// ("PIN must be 4 digits"), for a wrong length and a wrong character
// alike, never quoting the value.
func TestPINFormatMessages(t *testing.T) {
	four := PINFormat{Min: 4, Max: 4, Charset: Digits}
	sign := PINFormat{Min: 6, Max: 16, Charset: UpperAlnum}
	for _, tt := range []struct {
		f     PINFormat
		value string
		want  string
	}{
		{four, "123", "PIN must be 4 digits"},
		{four, "12345", "PIN must be 4 digits"},
		{four, "12a4", "PIN must be 4 digits"},
		{sign, "ABC12", "PIN must be 6 to 16 upper-case letters (A-Z) or digits"},
		{sign, "abcdef", "PIN must be 6 to 16 upper-case letters (A-Z) or digits"},
		{sign, "ABCDEFGHIJKLMNOPQ", "PIN must be 6 to 16 upper-case letters (A-Z) or digits"},
	} {
		err := tt.f.Check([]byte(tt.value))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%v.Check(%q) = %v, want %q", tt.f, tt.value, err, tt.want)
		}
	}
	for _, ok := range []string{"1234"} {
		if err := four.Check([]byte(ok)); err != nil {
			t.Errorf("Check(%q) = %v, want nil", ok, err)
		}
	}
	if err := sign.Check([]byte("SIGN2026")); err != nil {
		t.Errorf("Check(SIGN2026) = %v, want nil", err)
	}
}
