package framework

import "os"

// EnvSecurityCode is the 4-digit security code printed on the face of a
// physical card (セキュリティコード). With the birth date and the expiry year
// the suites read from the card itself it makes 照合番号B, the code that
// opens the four facts and the card face (docs/card.md §3.2, §3.3): the
// card-info specs that need 照合番号B skip without it
// (docs/physical-cards.md). A simulated card's code is its profile's.
const EnvSecurityCode = "MYNAHIL_SECURITY_CODE"

// SecurityCode is the security code the run was given for a physical
// card, "" when none.
func SecurityCode() string { return os.Getenv(EnvSecurityCode) }
