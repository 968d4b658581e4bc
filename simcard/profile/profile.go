// Package profile is the card-profile file format: who holds the card, the
// PINs set at issuance, when it was issued and which certificates it carries.
// Profiles are JSON so any tool can write one; Default is a complete
// fictional holder.
package profile

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/timing"
)

// Date is a calendar date, written YYYY-MM-DD in profiles.
type Date struct{ time.Time }

// NewDate returns the date in JST.
func NewDate(y int, m time.Month, d int) Date { return Date{clock.Date(y, m, d)} }

// MarshalJSON writes YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte(`""`), nil
	}
	return json.Marshal(d.Format(time.DateOnly))
}

// UnmarshalJSON reads YYYY-MM-DD.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: %w", err)
	}
	if s == "" {
		d.Time = time.Time{}
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, clock.JST)
	if err != nil {
		return fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	d.Time = t
	return nil
}

// Sex as recorded in the resident register.
type Sex string

// Values of Sex.
const (
	Male        Sex = "male"
	Female      Sex = "female"
	Unspecified Sex = "unspecified"
)

// SANCode is the sex in the signing certificate's subjectAltName
// (1.2.392.200149.8.5.5.3: 1 male, 2 female, 3 unknown; docs/card.md §6).
func (s Sex) SANCode() string {
	switch s {
	case Male:
		return "1"
	case Female:
		return "2"
	}
	return "3"
}

// Facts are the holder's four basic facts (基本4情報) plus a former surname.
type Facts struct {
	// Name is family and given name separated by U+3000 (full-width space).
	Name          string `json:"name"`
	Address       string `json:"address"`
	BirthDate     Date   `json:"birth_date"`
	Sex           Sex    `json:"sex"`
	FormerSurname string `json:"former_surname,omitempty"`
}

// PINs are the values the holder sets at issuance (docs/lifecycle-rules.md §1, §2).
type PINs struct {
	Auth     string `json:"auth"`      // JPKI user authentication: 4 digits
	Sign     string `json:"sign"`      // JPKI signing: 6–16 of A–Z 0–9
	CardInfo string `json:"card_info"` // 券面事項入力補助AP: 4 digits
	Resident string `json:"resident"`  // 住基AP: 4 digits
	Common   string `json:"common"`    // 共通カードAP: 4 digits
}

// Profile describes one card.
type Profile struct {
	Holder   Facts  `json:"holder"`
	MyNumber string `json:"my_number"`
	PINs     PINs   `json:"pins"`
	// IssueDate is when the card and its certificates were issued.
	IssueDate Date `json:"issue_date"`
	// DeclineAuth and DeclineSign leave a certificate out at issuance.
	DeclineAuth bool `json:"decline_auth,omitempty"`
	DeclineSign bool `json:"decline_sign,omitempty"`
	// UnderGuardianship: no signing certificate (成年被後見人, §1).
	UnderGuardianship bool `json:"under_guardianship,omitempty"`
	// SecurityCode is the 4-digit code printed on the card (照合番号B).
	SecurityCode string `json:"security_code"`
	// Municipality is the 6-digit local government code of the issuing office.
	Municipality string `json:"municipality"`
	// ATR overrides the default contact ATR: the name of a built-in one
	// (ATRNames) or hex bytes.
	ATR string `json:"atr,omitempty"`
	// Token is the JPKI token the card presents: TokenCard (the default),
	// TokenAndroid, TokenIPhone or TokenJuki.
	Token string `json:"token,omitempty"`
	// FreshKeys generates new RSA keys for this card instead of drawing from
	// the process-wide pool.
	FreshKeys bool `json:"fresh_keys,omitempty"`
	// Timing is how long the card takes to answer: a profile of package
	// simcard/timing ("instant", the default; "contact"; "contactless";
	// docs/card.md §7.1). 'mynahil sim --timing' overrides it for a run.
	Timing string `json:"timing,omitempty"`
}

// JPKI token variants (docs/card.md §1.3).
const (
	TokenCard    = "card"    // the plastic card, label JPKIAPICCTOKEN2
	TokenAndroid = "android" // the Android smartphone token, JPKIAPGPSETOKEN
	TokenIPhone  = "iphone"  // the iPhone token, JPKIAPIOSTOKEN
	TokenJuki    = "juki"    // the old resident-registry card's label, JPKIAPICCTOKEN
)

// Tokens lists the token variants a profile may name.
var Tokens = []string{TokenCard, TokenAndroid, TokenIPhone, TokenJuki}

// Built-in ATRs, as pcsc_scan prints them (docs/card.md §1.1). OpenSC
// registers all of them for its Windows minidriver (win32/customactions.cpp
// "JPKI", "JPKI (02)", "JPKI (03)", "JPKI (06)") and detects the card by AID
// whatever the ATR (card-jpki.c jpki_match_card).
var builtinATRs = map[string]string{
	// The contact ATR in OpenSC's card-jpki.c ATR table: T=1, no historical bytes.
	"contact": "3B E0 00 FF 81 31 FE 45 14",
	// A newer card's contact ATR (OpenSC issue #3021): card capabilities
	// declare extended Lc/Le.
	"contact-02": "3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B",
	// Another newer contact ATR (jpki/myna issue #12).
	"contact-03": "3B C5 FF 81 31 FB 45 80 73 C6 01 00 00",
	// The pseudo-ATR a PC/SC contactless reader synthesises for the card
	// (PC/SC part 3 from ATQB; pcsc-tools smartcard_list.txt).
	"contactless": "3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F",
}

// ATRNames lists the built-in ATRs' names, sorted.
func ATRNames() []string {
	names := make([]string, 0, len(builtinATRs))
	for n := range builtinATRs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ATRBytes returns the profile's ATR: a built-in one by name, or the hex
// given; nil when the profile leaves the default.
func (p Profile) ATRBytes() ([]byte, error) {
	s := p.ATR
	if s == "" {
		return nil, nil
	}
	if b, ok := builtinATRs[s]; ok {
		s = b
	}
	b, err := hex.DecodeString(strings.NewReplacer(" ", "", ":", "").Replace(s))
	if err != nil || len(b) < 2 || len(b) > 33 || (b[0] != 0x3B && b[0] != 0x3F) {
		return nil, fmt.Errorf("profile: atr %q: want one of %s, or 2–33 hex bytes starting 3B or 3F", p.ATR, strings.Join(ATRNames(), ", "))
	}
	return b, nil
}

// Default returns a complete fictional holder: a woman born 1990-01-02,
// card issued 2026-04-01 in a fictional ward.
func Default() Profile {
	return Profile{
		Holder: Facts{
			Name:      "試験　花子",
			Address:   "東京都千代田区試験町一丁目２番３号",
			BirthDate: NewDate(1990, time.January, 2),
			Sex:       Female,
		},
		MyNumber:     "123456789018",
		PINs:         PINs{Auth: "1234", Sign: "SIGN2026", CardInfo: "1234", Resident: "1234", Common: "1234"},
		IssueDate:    NewDate(2026, time.April, 1),
		SecurityCode: "5678",
		Municipality: "131016",
	}
}

// Load reads a profile file. Fields it leaves out keep Default's values.
func Load(path string) (Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Profile{}, fmt.Errorf("reading profile: %w", err)
	}
	return Parse(b)
}

// Parse decodes a profile and validates it.
func Parse(b []byte) (Profile, error) {
	p := Default()
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("decoding profile: %w", err)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

var (
	fourDigits = regexp.MustCompile(`^[0-9]{4}$`)
	signPIN    = regexp.MustCompile(`^[A-Z0-9]{6,16}$`)
	sixDigits  = regexp.MustCompile(`^[0-9]{6}$`)
)

// Validate checks every rule a profile must follow. Errors never quote a PIN.
func (p Profile) Validate() error {
	switch {
	case strings.TrimSpace(p.Holder.Name) == "":
		return fmt.Errorf("profile: holder name is empty")
	case strings.TrimSpace(p.Holder.Address) == "":
		return fmt.Errorf("profile: holder address is empty")
	case p.Holder.BirthDate.IsZero():
		return fmt.Errorf("profile: holder birth_date is missing")
	case p.IssueDate.IsZero():
		return fmt.Errorf("profile: issue_date is missing")
	case p.IssueDate.Before(p.Holder.BirthDate.Time):
		return fmt.Errorf("profile: issue_date is before birth_date")
	case p.Holder.Sex != Male && p.Holder.Sex != Female && p.Holder.Sex != Unspecified:
		return fmt.Errorf("profile: sex %q: want male, female or unspecified", p.Holder.Sex)
	case !fourDigits.MatchString(p.PINs.Auth):
		return fmt.Errorf("profile: pins.auth must be exactly 4 digits")
	case !signPIN.MatchString(p.PINs.Sign):
		return fmt.Errorf("profile: pins.sign must be 6–16 characters of A–Z and 0–9")
	case !fourDigits.MatchString(p.PINs.CardInfo):
		return fmt.Errorf("profile: pins.card_info must be exactly 4 digits")
	case !fourDigits.MatchString(p.PINs.Resident):
		return fmt.Errorf("profile: pins.resident must be exactly 4 digits")
	case !fourDigits.MatchString(p.PINs.Common):
		return fmt.Errorf("profile: pins.common must be exactly 4 digits")
	case !fourDigits.MatchString(p.SecurityCode):
		return fmt.Errorf("profile: security_code must be exactly 4 digits")
	case !sixDigits.MatchString(p.Municipality):
		return fmt.Errorf("profile: municipality must be a 6-digit local government code")
	}
	if err := CheckMyNumber(p.MyNumber); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	if p.Token != "" && !slices.Contains(Tokens, p.Token) {
		return fmt.Errorf("profile: token %q: want one of %s", p.Token, strings.Join(Tokens, ", "))
	}
	if _, err := p.ATRBytes(); err != nil {
		return err
	}
	if _, err := timing.Lookup(p.Timing); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}

// String hides the PINs, so a profile can be logged.
func (p PINs) String() string {
	return "{auth:**** sign:**** card_info:**** resident:**** common:****}"
}

// GoString hides the PINs from %#v too.
func (p PINs) GoString() string { return p.String() }

// MyNumberCheckDigit computes the check digit of the first 11 digits of an
// individual number (個人番号), per the Ordinance of the Act on the Use of
// Numbers art. 5: Σ Pn×Qn over n = 1..11 counted from the right, Qn = n+1
// for n ≤ 6 and n−5 above; the digit is 11 − (Σ mod 11), or 0 when the
// remainder is 0 or 1.
func MyNumberCheckDigit(first11 string) (byte, error) {
	if len(first11) != 11 {
		return 0, fmt.Errorf("my number: want 11 digits before the check digit, have %d", len(first11))
	}
	sum := 0
	for n := 1; n <= 11; n++ {
		ch := first11[11-n]
		if ch < '0' || ch > '9' {
			return 0, fmt.Errorf("my number: non-digit character")
		}
		q := n + 1
		if n > 6 {
			q = n - 5
		}
		sum += int(ch-'0') * q
	}
	r := sum % 11
	if r <= 1 {
		return '0', nil
	}
	return byte('0' + 11 - r), nil
}

// CheckMyNumber validates a 12-digit individual number and its check digit.
func CheckMyNumber(n string) error {
	if len(n) != 12 {
		return fmt.Errorf("my number must have 12 digits, has %d", len(n))
	}
	cd, err := MyNumberCheckDigit(n[:11])
	if err != nil {
		return err
	}
	if n[11] != cd {
		return fmt.Errorf("my number check digit is wrong")
	}
	return nil
}

// Nth returns the i-th holder like p, for a set of cards from one profile
// ('mynahil sim --cards'): i = 0 is p itself; otherwise the My Number's
// first 11 digits are counted up by i (modulo 10^11) and the check digit
// recomputed, so that every card has a number of its own.
func (p Profile) Nth(i int) (Profile, error) {
	if i == 0 {
		return p, nil
	}
	if err := CheckMyNumber(p.MyNumber); err != nil {
		return Profile{}, fmt.Errorf("profile: holder %d: %w", i, err)
	}
	v, err := strconv.ParseUint(p.MyNumber[:11], 10, 64)
	if err != nil {
		return Profile{}, fmt.Errorf("profile: holder %d: my number is not a number", i)
	}
	first := fmt.Sprintf("%011d", (v+uint64(i))%100_000_000_000)
	cd, err := MyNumberCheckDigit(first)
	if err != nil {
		return Profile{}, fmt.Errorf("profile: holder %d: %w", i, err)
	}
	p.MyNumber = first + string(cd)
	return p, nil
}
