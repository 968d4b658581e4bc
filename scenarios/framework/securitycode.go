package framework

import (
	"os"

	"github.com/mynahil/mynahil/harness/target"
)

// EnvSecurityCode is the 4-digit security code printed on the face of a
// physical card (セキュリティコード). With the birth date and the expiry year
// the suites read from the card itself it makes 照合番号B, the code that
// opens the four facts and the card face (docs/card.md §3.2, §3.3): the
// card-info specs that need 照合番号B skip without it
// (docs/physical-cards.md).
const EnvSecurityCode = "MYNAHIL_SECURITY_CODE"

// SecurityCode is the security code of t's card: on a simulated target the
// code of the profile it was issued from, on a physical card the one the
// run was given in MYNAHIL_SECURITY_CODE ("" when none).
func SecurityCode(t *target.Target) string {
	if s := Sim(t); s != nil {
		return s.Issued.Profile.SecurityCode
	}
	return os.Getenv(EnvSecurityCode)
}
