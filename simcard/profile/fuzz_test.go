package profile

import (
	"encoding/json"
	"testing"
)

// FuzzParse: any bytes given as a profile file are refused with an error
// or give a profile that validates and survives a JSON round trip; nothing
// panics.
func FuzzParse(f *testing.F) {
	def, err := json.Marshal(Default())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{string(def), `{}`, `{"holder":{"birth_date":"2008-02-29"}}`,
		`{"issue_date":"2026-13-01"}`, `{"pins":{"auth":"12345"}}`, `{"unknown":1}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse accepted a profile that does not validate: %v", err)
		}
		out, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(out); err != nil {
			t.Fatalf("a parsed profile does not parse again: %v\n%s", err, out)
		}
	})
}
