// Package holder reads what a JPKI certificate says about its holder and
// checks the date rules a physical card can be held to without the
// simulator: the signing certificate's subjectAltName carries the four
// basic facts as otherNames (OIDs 1.2.392.200149.8.5.5.1–6), the
// authentication certificate carries none of them, and every certificate
// ends on the holder's 5th birthday after its issue date (JPKI certificate
// profile; docs/physical-cards.md, "Rules checked on the card").
//
// It is written apart from the simulator's encoder (simcard/authority) so
// that the two cannot share a mistake.
package holder

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// JST is Japan Standard Time (UTC+9, no daylight saving): certificate
// dates are calendar dates in Japan.
var JST = time.FixedZone("JST", 9*60*60)

// The otherName type-ids of the holder's facts.
var (
	OIDName             = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 1}
	OIDNameSubstitutes  = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 2}
	OIDSex              = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 3}
	OIDBirthDate        = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 4}
	OIDAddress          = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 5}
	OIDAddressSubstitus = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5, 6}

	oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidPersonalArc    = asn1.ObjectIdentifier{1, 2, 392, 200149, 8, 5, 5}
)

// ErrNoFacts: the certificate carries no holder facts.
var ErrNoFacts = errors.New("certificate carries no holder facts")

// ErrBadFact: a holder fact is not in its form. Errors that wrap it name
// the fact and what is wrong with it, never its value (the holder's
// personal data).
var ErrBadFact = errors.New("holder fact malformed")

// Facts are the holder's four basic facts as a signing certificate states
// them.
type Facts struct {
	Name      string    // family and given name separated by U+3000
	Address   string    // no postcode
	BirthDate time.Time // midnight JST
	Era       int       // 1 Meiji … 5 Reiwa, 0 unknown
	Sex       byte      // '1' male, '2' female, '3' unknown
}

// Differ names the facts in which f and g differ ("name", "address",
// "birth date", "era", "sex"), never their values: an assertion on a
// physical card reports which facts disagree without putting the holder's
// personal data in the report.
func (f Facts) Differ(g Facts) []string {
	var d []string
	if f.Name != g.Name {
		d = append(d, "name")
	}
	if f.Address != g.Address {
		d = append(d, "address")
	}
	if !f.BirthDate.Equal(g.BirthDate) {
		d = append(d, "birth date")
	}
	if f.Era != g.Era {
		d = append(d, "era")
	}
	if f.Sex != g.Sex {
		d = append(d, "sex")
	}
	return d
}

// OtherNames returns the subjectAltName otherNames of c by type-id, their
// values decoded as UTF8String.
func OtherNames(c *x509.Certificate) (map[string]string, error) {
	out := map[string]string{}
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		var names []asn1.RawValue
		if rest, err := asn1.Unmarshal(ext.Value, &names); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("decoding subjectAltName: %v", errOr(err, "trailing bytes"))
		}
		for _, n := range names {
			if n.Class != asn1.ClassContextSpecific || n.Tag != 0 {
				continue // not an otherName
			}
			// otherName [0] IMPLICIT { type-id OID, [0] EXPLICIT value }.
			var id asn1.ObjectIdentifier
			rest, err := asn1.Unmarshal(n.Bytes, &id)
			if err != nil {
				return nil, fmt.Errorf("decoding otherName type-id: %w", err)
			}
			var wrap asn1.RawValue
			if _, err := asn1.Unmarshal(rest, &wrap); err != nil || wrap.Class != asn1.ClassContextSpecific || wrap.Tag != 0 {
				return nil, fmt.Errorf("decoding otherName %v: %s", id, errOr(err, "value is not [0] EXPLICIT"))
			}
			var s string
			if _, err := asn1.UnmarshalWithParams(wrap.Bytes, &s, "utf8"); err != nil {
				return nil, fmt.Errorf("decoding otherName %v: %w", id, err)
			}
			out[id.String()] = s
		}
	}
	return out, nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

// FromCertificate reads the holder's facts from a signing certificate.
func FromCertificate(c *x509.Certificate) (Facts, error) {
	names, err := OtherNames(c)
	if err != nil {
		return Facts{}, err
	}
	get := func(oid asn1.ObjectIdentifier) (string, error) {
		v, ok := names[oid.String()]
		if !ok {
			return "", fmt.Errorf("%w: no otherName %v", ErrNoFacts, oid)
		}
		return v, nil
	}
	var f Facts
	if f.Name, err = get(OIDName); err != nil {
		return Facts{}, err
	}
	if f.Address, err = get(OIDAddress); err != nil {
		return Facts{}, err
	}
	birth, err := get(OIDBirthDate)
	if err != nil {
		return Facts{}, err
	}
	if f.Era, f.BirthDate, err = ParseEraDate(birth); err != nil {
		return Facts{}, err
	}
	sex, err := get(OIDSex)
	if err != nil {
		return Facts{}, err
	}
	if len(sex) != 1 || !strings.ContainsRune("123", rune(sex[0])) {
		// The value is not quoted: it is the holder's sex, and this error
		// reaches a physical card's report through Expect(err).
		return Facts{}, fmt.Errorf("%w: sex otherName (%d bytes): want 1, 2 or 3", ErrBadFact, len(sex))
	}
	f.Sex = sex[0]
	return f, nil
}

// ParseEraDate decodes the birth-date otherName EYYYYMMDD: the era digit
// then the Gregorian date (e.g. "419900102": Heisei, 2 January 1990).
//
// Its errors say what is wrong with the value, never the value: it is the
// holder's birth date, and an error reaches a physical card's JUnit and
// JSON reports through Expect(err) (docs/physical-cards.md, "Personal data
// in reports"). time.ParseInLocation's own error quotes its input, so it
// is not wrapped.
func ParseEraDate(s string) (int, time.Time, error) {
	if len(s) != 9 {
		return 0, time.Time{}, fmt.Errorf("%w: birth date of %d bytes: want 9 digits EYYYYMMDD", ErrBadFact, len(s))
	}
	era, err := strconv.Atoi(s[:1])
	if err != nil || era > 5 {
		return 0, time.Time{}, fmt.Errorf("%w: birth date: era digit must be 0–5", ErrBadFact)
	}
	d, err := time.ParseInLocation("20060102", s[1:], JST)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%w: birth date: YYYYMMDD is not a calendar date", ErrBadFact)
	}
	return era, d, nil
}

// PersonalData lists the holder-fact otherNames and subject attributes
// other than C and CN found in c: an authentication certificate must have
// none (it identifies the card, not the person).
func PersonalData(c *x509.Certificate) ([]string, error) {
	var found []string
	names, err := OtherNames(c)
	if err != nil {
		return nil, err
	}
	for oid := range names {
		if strings.HasPrefix(oid, oidPersonalArc.String()+".") {
			found = append(found, "subjectAltName otherName "+oid)
		}
	}
	for _, n := range c.Subject.Names {
		switch n.Type.String() {
		case "2.5.4.6", "2.5.4.3": // C, CN (an opaque identifier)
		default:
			found = append(found, "subject attribute "+n.Type.String())
		}
	}
	return found, nil
}

// date is the calendar date of t in JST.
func date(t time.Time) (int, time.Month, int) { return t.In(JST).Date() }

// birthday is the holder's birthday in year y; 29 February falls on 28
// February in common years (the day the holder reaches the next age under
// Japanese law).
func birthday(birth time.Time, y int) time.Time {
	_, m, d := date(birth)
	if m == time.February && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		d = 28
	}
	return time.Date(y, m, d, 0, 0, 0, 0, JST)
}

// FifthBirthdayAfter is the calendar day (midnight JST) of the holder's
// 5th birthday strictly after the issue date: issued on a birthday, that
// day does not count.
func FifthBirthdayAfter(birth, issued time.Time) time.Time {
	y, m, d := date(issued)
	day := time.Date(y, m, d, 0, 0, 0, 0, JST)
	first := birthday(birth, y)
	if !first.After(day) {
		y++
	}
	return birthday(birth, y+4)
}

// CheckValidity checks that c ends on the holder's 5th birthday after the
// day it was issued (its notBefore), comparing calendar days in JST. Its
// error names neither the birth date nor the birthday it wanted.
func CheckValidity(c *x509.Certificate, birth time.Time) error {
	want := FifthBirthdayAfter(birth, c.NotBefore)
	wy, wm, wd := date(want)
	gy, gm, gd := date(c.NotAfter)
	if wy != gy || wm != gm || wd != gd {
		// The wanted day is not named: it is the holder's birthday, and
		// this message can reach a physical card's report.
		return fmt.Errorf("certificate issued %s ends %s, not on the holder's 5th birthday after issue",
			c.NotBefore.In(JST).Format(time.DateOnly), c.NotAfter.In(JST).Format(time.DateOnly))
	}
	return nil
}
