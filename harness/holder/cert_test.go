package holder

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"
)

// sanOf encodes otherNames as the JPKI profile describes them.
func sanOf(t *testing.T, pairs ...any) []byte {
	t.Helper()
	var names []asn1.RawValue
	for i := 0; i < len(pairs); i += 2 {
		v, err := asn1.MarshalWithParams(pairs[i+1].(string), "utf8")
		if err != nil {
			t.Fatal(err)
		}
		id, err := asn1.Marshal(pairs[i].(asn1.ObjectIdentifier))
		if err != nil {
			t.Fatal(err)
		}
		wrapped, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: v})
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(id, wrapped...)})
	}
	b, err := asn1.Marshal(names)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func certWith(t *testing.T, subject pkix.Name, san []byte, from, to time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: from, NotAfter: to}
	if san != nil {
		tmpl.ExtraExtensions = []pkix.Extension{{Id: oidSubjectAltName, Value: san}}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestFromCertificate(t *testing.T) {
	san := sanOf(t, OIDName, "山田　太郎", OIDBirthDate, "419900615", OIDSex, "1", OIDAddress, "東京都千代田区１", OIDNameSubstitutes, "00000")
	c := certWith(t, pkix.Name{Country: []string{"JP"}, Locality: []string{"Chiyoda"}, CommonName: "x"}, san, d(2026, time.April, 1), d(2030, time.June, 16).Add(-time.Second))
	f, err := FromCertificate(c)
	if err != nil {
		t.Fatal(err)
	}
	want := Facts{Name: "山田　太郎", Address: "東京都千代田区１", BirthDate: d(1990, time.June, 15), Era: 4, Sex: '1'}
	if f != want {
		t.Errorf("FromCertificate = %+v, want %+v", f, want)
	}
	if err := CheckValidity(c, f.BirthDate); err != nil {
		t.Errorf("CheckValidity of a certificate ending on the 5th birthday: %v", err)
	}
	late := certWith(t, pkix.Name{CommonName: "x"}, san, d(2026, time.April, 1), d(2030, time.June, 17).Add(-time.Second))
	if err := CheckValidity(late, f.BirthDate); err == nil {
		t.Error("CheckValidity accepted a certificate ending a day after the 5th birthday")
	} else if msg := err.Error(); strings.Contains(msg, "06-15") || strings.Contains(msg, "1990") {
		t.Errorf("CheckValidity's error names the holder's birthday: %s", msg)
	}
	pd, err := PersonalData(c)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(pd)
	if len(pd) != 6 { // 5 otherNames + L
		t.Errorf("PersonalData of a signing certificate = %v", pd)
	}
}

func TestAuthCertificateHoldsNoPersonalData(t *testing.T) {
	c := certWith(t, pkix.Name{Country: []string{"JP"}, CommonName: "0123ABCD"}, nil, d(2026, time.April, 1), d(2031, time.April, 1))
	if pd, err := PersonalData(c); err != nil || len(pd) != 0 {
		t.Errorf("PersonalData(auth) = %v, %v; want none", pd, err)
	}
	if _, err := FromCertificate(c); err == nil {
		t.Error("FromCertificate found facts in a certificate without any")
	}
}

func TestDifferNamesFactsNotValues(t *testing.T) {
	f := Facts{Name: "山田　太郎", Address: "東京都千代田区１", BirthDate: d(1990, time.June, 15), Era: 4, Sex: '1'}
	if d := f.Differ(f); len(d) != 0 {
		t.Errorf("Differ of equal facts = %v", d)
	}
	g := f
	g.Name, g.BirthDate = "山田　花子", d(1990, time.June, 16)
	d := f.Differ(g)
	if !slices.Equal(d, []string{"name", "birth date"}) {
		t.Errorf("Differ = %v, want name and birth date", d)
	}
	if s := fmt.Sprint(d); strings.Contains(s, "山田") || strings.Contains(s, "1990") {
		t.Errorf("Differ shows values: %s", s)
	}
}

// TestParseErrorsHideTheFact: a malformed birth date or sex is reported by
// what is wrong with it, never by its value (issue 17.5): the error reaches
// a physical card's JUnit and JSON reports through Expect(err).
func TestParseErrorsHideTheFact(t *testing.T) {
	for _, tc := range []struct {
		name, birth, sex string
		secret           []string // none may appear in the error
	}{
		{"birth date not a calendar date", "419901302", "1", []string{"19901302", "1990", "1302"}},
		{"birth date month 00", "419900015", "1", []string{"19900015", "0015"}},
		{"birth date too short", "41990061", "1", []string{"41990061", "1990"}},
		{"birth date too long", "4199006150", "1", []string{"4199006150", "1990"}},
		{"birth date bad era", "919900615", "1", []string{"919900615", "19900615"}},
		{"birth date letters", "4199O0615", "1", []string{"4199O0615", "0615"}},
		{"sex not 1, 2 or 3", "419900615", "男", []string{"男"}},
		{"sex two digits", "419900615", "12", []string{"\"12\"", "12:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			san := sanOf(t, OIDName, "山田　太郎", OIDBirthDate, tc.birth, OIDSex, tc.sex, OIDAddress, "東京都千代田区１")
			c := certWith(t, pkix.Name{CommonName: "x"}, san, d(2026, time.April, 1), d(2030, time.June, 16))
			_, err := FromCertificate(c)
			if !errors.Is(err, ErrBadFact) {
				t.Fatalf("FromCertificate error = %v, want ErrBadFact", err)
			}
			for _, s := range tc.secret {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q shows the holder's fact (%q)", err, s)
				}
			}
			if _, _, perr := ParseEraDate(tc.birth); perr != nil && strings.Contains(perr.Error(), tc.birth) {
				t.Errorf("ParseEraDate error %q quotes its input", perr)
			}
		})
	}
}
