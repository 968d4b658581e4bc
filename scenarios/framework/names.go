package framework

import (
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
)

// The simulator's names a suite needs, so that suites import this package
// rather than the simulator's (docs/suites.md, "One-way imports").
type (
	// Card is a card the office issued: its ID (and, in process, its chip).
	Card = office.Card
	// RenewPINs are new PINs given at renewal (empty: keep).
	RenewPINs = office.RenewPINs
	// Inquiry is a proxy application waiting for the holder's answer.
	Inquiry = simapi.Inquiry
	// Smartphone holds smartphone certificates (DER).
	Smartphone = simapi.Smartphone
	// RefusedError is a refusal of the office or the daemon; Rule names
	// the rule.
	RefusedError = simapi.RefusedError
	// CertKind is a certificate kind (auth or sign).
	CertKind = simapi.Kind
)

// Certificate kinds, devices and proxy operations.
const (
	AuthCert = simapi.Auth
	SignCert = simapi.Sign

	OnCard             = simapi.OnCard
	OnSmartphone       = simapi.OnSmartphone
	ProxyResetPIN      = simapi.ProxyResetPIN
	ProxyIssueCert     = simapi.ProxyIssueCertificate
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
