package jpkiclient_test

import (
	"errors"
	"fmt"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
)

// cardStub answers like a fresh card whose auth PIN is 1234, for the example
// only: SELECTs succeed, VERIFY of 1234 succeeds, any other VERIFY is wrong.
type cardStub struct{ tries byte }

func (c *cardStub) Transmit(cmd []byte) ([]byte, error) {
	if cmd[1] != 0x20 {
		return []byte{0x90, 0x00}, nil
	}
	switch {
	case len(cmd) == 4:
	case string(cmd[5:]) == "1234":
		c.tries = 3
		return []byte{0x90, 0x00}, nil
	default:
		c.tries--
	}
	return []byte{0x63, 0xC0 | c.tries}, nil
}

func Example() {
	c := jpkiclient.New(&cardStub{tries: 3}) // in a suite: harness.NewInProcess(card) or a PC/SC transport
	if err := c.SelectAP(); err != nil {
		panic(err)
	}

	err := c.VerifyPIN(jpkiclient.AuthPIN, jpkiclient.PIN("0000"))
	var wp *apduclient.WrongPINError
	if errors.As(err, &wp) {
		fmt.Println("wrong PIN,", wp.TriesLeft, "tries left")
	}
	fmt.Println(err)

	n, _ := c.TriesLeft(jpkiclient.AuthPIN)
	fmt.Println("tries left:", n)
	fmt.Println(c.VerifyPIN(jpkiclient.AuthPIN, "1234"))
	// Output:
	// wrong PIN, 2 tries left
	// verifying auth PIN: wrong PIN, 2 tries left (SW 63C2)
	// tries left: 2
	// <nil>
}
