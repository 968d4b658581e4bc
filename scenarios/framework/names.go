package framework

import (
	"time"

	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
)

// The simulator's names a suite needs, so that suites import this package
// rather than the simulator's (docs/suites.md, "One-way imports").
type (
	// Card is a card the office issued: its ID (and, in process, its chip).
	Card = office.Card
	// Report is the office's view of a card (office.status).
	Report = office.Report
	// RenewPINs are new PINs given at renewal (empty: keep).
	RenewPINs = office.RenewPINs
	// Inquiry is a proxy application waiting for the holder's answer.
	Inquiry = office.Inquiry
	// Smartphone holds smartphone certificates (DER).
	Smartphone = office.Smartphone
	// RefusedError is an office refusal; Rule names the rule.
	RefusedError = office.RefusedError
	// CertKind is a certificate kind (auth or sign).
	CertKind = authority.Kind
)

// Certificate kinds, devices and proxy operations.
const (
	AuthCert = authority.Auth
	SignCert = authority.Sign

	OnCard             = authority.OnCard
	OnSmartphone       = authority.Smartphone
	ProxyResetPIN      = office.ProxyResetPIN
	ProxyIssueCert     = office.ProxyIssueCertificate
	RuleProxyTwoVisits = office.RuleProxyTwoVisits
	RuleSignMinAge     = office.RuleSignMinAge
	RuleGuardianship   = office.RuleGuardianship
	RuleSmartphoneSign = office.RuleSmartphoneSign
	RuleRenewalWindow  = office.RuleRenewalWindow
	RuleCardExpired    = office.RuleCardExpired
)

// JST is Japan Standard Time, in which card dates are calendar dates.
var JST = clock.JST

// Date is midnight JST of a calendar date.
func Date(y int, m time.Month, d int) time.Time { return clock.Date(y, m, d) }
