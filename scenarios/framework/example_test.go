package framework_test

import (
	"context"
	"fmt"

	"github.com/mynahil/mynahil/harness/speclabel"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/target"
	_ "github.com/mynahil/mynahil/scenarios/framework" // opens simulated targets
)

// A suite imports the framework, which opens simulated targets, opens the
// target, talks JPKI through its Transport with the PINs
// it knows, and asks the guard before anything a physical card must not
// suffer.
func Example() {
	tgt, err := target.Open(context.Background(), target.Config{Kind: target.Sim})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tgt.Close()

	c := jpkiclient.New(tgt.Transport())
	if err := c.SelectAP(); err != nil {
		fmt.Println(err)
		return
	}
	err = c.VerifyPIN(jpkiclient.AuthPIN, tgt.PINs().Auth)
	fmt.Println("verified:", err == nil, "PIN prints as", tgt.PINs().Auth)
	fmt.Println("destructive spec runs:", tgt.Decide(speclabel.Of(speclabel.Destructive)).Run)

	// The same spec on a physical card without the opt-in:
	d := target.Decide(speclabel.Of(speclabel.Destructive), target.Facts{Physical: true})
	fmt.Println("on a physical card:", d.Run, "-", d.Reason)
	// Output:
	// verified: true PIN prints as ****
	// destructive spec runs: true
	// on a physical card: false - destructive on a physical card: set MYNAHIL_ALLOW_DESTRUCTIVE=1 and MYNAHIL_CARD_FINGERPRINT to run it
}
