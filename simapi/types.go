package simapi

import (
	"encoding/json"
	"time"
)

// Kind is a certificate kind (docs/lifecycle-rules.md §1).
type Kind string

// The two card certificates.
const (
	Auth Kind = "auth" // 利用者証明用電子証明書
	Sign Kind = "sign" // 署名用電子証明書
)

// Device says where a certificate's key lives (docs/lifecycle-rules.md §4).
type Device string

// Devices.
const (
	OnCard       Device = "card"
	OnSmartphone Device = "smartphone" // スマホ用電子証明書
)

// ProxyOperation is what a proxy may apply for (docs/lifecycle-rules.md §2).
type ProxyOperation string

// Proxy operations.
const (
	ProxyIssueCertificate ProxyOperation = "issue-certificate"
	ProxyResetPIN         ProxyOperation = "reset-pin"
)

// Params of the office.* methods. PINs travel only in these bodies, never on
// a command line, and are never logged.
type (
	// CardParams names a card.
	CardParams struct {
		Card string `json:"card"`
	}
	// CertParams names a card and a certificate kind.
	CertParams struct {
		Card string `json:"card"`
		Kind Kind   `json:"kind"`
	}
	// PINParams names a card, a kind and the PIN to set.
	PINParams struct {
		Card string `json:"card"`
		Kind Kind   `json:"kind"`
		PIN  string `json:"pin"`
	}
	// CardPINParams names a card and the card-info PIN to set
	// (office.reset-cardinfo-pin).
	CardPINParams struct {
		Card string `json:"card"`
		PIN  string `json:"pin"`
	}
	// FactsParams changes the facts given; absent ones stay. BirthDate is
	// YYYY-MM-DD; Sex is male, female or unspecified.
	FactsParams struct {
		Card          string  `json:"card"`
		Name          *string `json:"name,omitempty"`
		Address       *string `json:"address,omitempty"`
		BirthDate     *string `json:"birth_date,omitempty"`
		Sex           *string `json:"sex,omitempty"`
		FormerSurname *string `json:"former_surname,omitempty"`
	}
	// RenewParams renews a card's certificates, optionally with new PINs
	// (empty keeps the old one).
	RenewParams struct {
		Card    string `json:"card"`
		AuthPIN string `json:"auth_pin,omitempty"`
		SignPIN string `json:"sign_pin,omitempty"`
	}
	// ProxyParams files a proxy application.
	ProxyParams struct {
		Card      string         `json:"card"`
		Operation ProxyOperation `json:"operation"`
		Kind      Kind           `json:"kind"`
	}
	// AnswerParams completes a proxy application with the holder's sealed
	// PIN.
	AnswerParams struct {
		Inquiry string `json:"inquiry"`
		PIN     string `json:"pin"`
	}
	// IssueParams issues a card from a profile, as in profile files
	// (docs/card.md): fields left out keep the built-in profile's, and
	// without an issue_date the card is issued on the office's today.
	IssueParams struct {
		Profile json.RawMessage `json:"profile,omitempty"`
	}
	// TimeParams moves a virtual clock: Set (RFC 3339, or YYYY-MM-DD for
	// midnight JST) first, then Years, Months and Days added in JST. The
	// zero value only asks the time.
	TimeParams struct {
		Set    string `json:"set,omitempty"`
		Years  int    `json:"years,omitempty"`
		Months int    `json:"months,omitempty"`
		Days   int    `json:"days,omitempty"`
	}
)

// Facts are the holder's four basic facts (基本4情報) and a former surname,
// as the office recorded them.
type Facts struct {
	Name          string `json:"name"`
	Address       string `json:"address"`
	BirthDate     string `json:"birth_date"` // YYYY-MM-DD
	Sex           string `json:"sex"`
	FormerSurname string `json:"former_surname,omitempty"`
}

// Event is one line of a card's history.
type Event struct {
	At   time.Time `json:"at"`
	What string    `json:"what"`
}

// CertificateReport is what one certificate is at the report's time.
type CertificateReport struct {
	Kind   Kind   `json:"kind"`
	Device Device `json:"device"`
	Serial int64  `json:"serial,omitempty"` // 0: none issued
	// State is "none", "valid", "not-yet-valid", "expired" or "revoked".
	State     string    `json:"state"`
	Reason    string    `json:"reason,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// OnChip: the chip holds exactly this certificate (card certificates).
	OnChip bool   `json:"on_chip"`
	DER    []byte `json:"der,omitempty"`
}

// Report answers docs/lifecycle-rules.md §6 for one card at the office's
// time: its certificates and what each is, the tries left of each JPKI PIN,
// its history.
type Report struct {
	ID     string `json:"id"`
	Status string `json:"status"` // active, lost, deceased, abroad or invalidated
	Holder Facts  `json:"holder"`
	// IssueDate is the card's issue date: its certificates' notBefore at
	// issuance and the date of the first lines of its history.
	IssueDate     time.Time           `json:"issue_date"`
	CardExpiry    time.Time           `json:"card_expiry"`
	At            time.Time           `json:"at"`
	Certificates  []CertificateReport `json:"certificates"` // card auth, card sign, smartphone auth, smartphone sign
	AuthTriesLeft int                 `json:"auth_tries_left"`
	SignTriesLeft int                 `json:"sign_tries_left"`
	History       []Event             `json:"history"`
	// NotBack is set when the operation changed the card but its reader
	// did not take it back in time (docs/daemon.md, "The visit path"):
	// the change is kept; the client reports an environment error.
	NotBack *NotBack `json:"not_back,omitempty"`
}

// NotBack says which reader did not power the card up again after an
// office visit, and how long the daemon waited.
type NotBack struct {
	Card   string `json:"card"`
	Reader string `json:"reader"`
	Waited string `json:"waited"`
}

// Certificate returns the report of one certificate.
func (r Report) Certificate(k Kind, dev Device) CertificateReport {
	for _, c := range r.Certificates {
		if c.Kind == k && c.Device == dev {
			return c
		}
	}
	return CertificateReport{Kind: k, Device: dev, State: "none"}
}

// Inquiry is a proxy application waiting for the holder's sealed answer
// (照会書兼回答書, docs/lifecycle-rules.md §2).
type Inquiry struct {
	ID        string         `json:"id"`
	CardID    string         `json:"card"`
	Operation ProxyOperation `json:"operation"`
	Kind      Kind           `json:"kind"`
	FiledAt   time.Time      `json:"filed_at"`
}

// Smartphone is a pair of smartphone certificates (スマホ用電子証明書).
type Smartphone struct {
	Sign []byte `json:"sign"` // DER
	Auth []byte `json:"auth"` // DER
}

// TimeResult is the office's time after office.time.
type TimeResult struct {
	Now     time.Time `json:"now"`
	Virtual bool      `json:"virtual"`
}

// CardSummary is one line of office.cards.
type CardSummary struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Name   string `json:"name"`
}

// Endpoints are where relying parties find the authority.
type Endpoints struct {
	CRLAuth  string `json:"crl_auth"`
	CRLSign  string `json:"crl_sign"`
	OCSPAuth string `json:"ocsp_auth"`
	OCSPSign string `json:"ocsp_sign"`
	CAAuth   string `json:"ca_auth"`
	CASign   string `json:"ca_sign"`
	// CardInfoTextCA and CardInfoVisualCA are the public keys (PEM, PKIX)
	// of the CAs that certify EF 0004 of the card-info text and visual
	// applets (docs/card.md §5.3, §5.4): a card-info reader's trust anchors.
	CardInfoTextCA   string `json:"cardinfo_text_ca,omitempty"`
	CardInfoVisualCA string `json:"cardinfo_visual_ca,omitempty"`
}

// SlotInfo describes one card and its slot, as sim.list returns it. A card
// that sim.place took out of its slot has Slot -1 and no reader.
type SlotInfo struct {
	Card      string `json:"card"`
	Slot      int    `json:"slot"`      // -1: in no slot (sim.place took it out)
	Reader    string `json:"reader"`    // expected PC/SC reader name
	VPCD      string `json:"vpcd"`      // address the card dials
	Inserted  bool   `json:"inserted"`  // the card wants to be in the reader
	Connected bool   `json:"connected"` // vpcd has accepted the connection
	ATR       string `json:"atr"`       // pcsc_scan style: "3B E0 00 FF …"
	Status    string `json:"status"`    // the office's: active, lost, invalidated, …
	Holder    string `json:"holder"`    // the holder's name
}

// Selector picks cards for sim.insert and sim.remove: a card ID, a slot
// number, or all cards. Card and Slot together must name the same card.
type Selector struct {
	Card string `json:"card,omitempty"`
	Slot *int   `json:"slot,omitempty"`
	All  bool   `json:"all,omitempty"`
}

// Placement names a card and the slot to put it in (sim.place).
type Placement struct {
	Card string `json:"card"`
	Slot *int   `json:"slot"`
}

// SimStatus is what sim.status returns.
type SimStatus struct {
	PID       int       `json:"pid"`
	StateDir  string    `json:"state_dir"`
	Control   string    `json:"control"`
	VPCD      string    `json:"vpcd"` // slot 0's address
	Started   time.Time `json:"started"`
	Uptime    string    `json:"uptime"`
	Cards     int       `json:"cards"`
	Inserted  int       `json:"inserted"`
	Connected int       `json:"connected"`
}
