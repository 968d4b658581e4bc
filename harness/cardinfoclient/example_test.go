package cardinfoclient_test

import (
	"fmt"
	"time"

	"github.com/mynahil/mynahil/harness/cardinfoclient"
)

func ExampleNewCodeB() {
	// Born 1990-01-02 (Heisei 2), card valid until 2036, security code 5678.
	code, err := cardinfoclient.NewCodeB(time.Date(1990, time.January, 2, 0, 0, 0, 0, time.UTC), 2036, "5678")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(code)         // masked
	fmt.Println(string(code)) // the digits, for the card only
	// Output:
	// **************
	// 02010220365678
}

func ExampleCheckDigit() {
	d, _ := cardinfoclient.CheckDigit("53768667718")
	fmt.Println(d)
	fmt.Println(cardinfoclient.MyNumber("537686677188").Validate())
	// Output:
	// 8
	// <nil>
}
