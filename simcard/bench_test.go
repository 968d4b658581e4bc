package simcard_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard/apdu"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/profile"
)

// baselinePerAPDU times the floor of the in-process path, measured in the
// same run as the benchmark it is compared with: parse the command and build
// a 9000 response, nothing else.
func baselinePerAPDU(cmd []byte) time.Duration {
	const n = 200000
	start := time.Now()
	for range n {
		c, err := apdu.Parse(cmd)
		if err != nil || c.INS == 0xFF {
			panic("baseline command does not parse")
		}
		_ = apdu.Response(nil, apdu.OK)
	}
	return time.Since(start) / n
}

// benchAPDUs runs a fixed APDU sequence per iteration and reports APDUs per
// second, time per APDU, and the ratio to the baseline floor.
func benchAPDUs(b *testing.B, c *card.Card, seq [][]byte) {
	base := baselinePerAPDU(seq[0])
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, cmd := range seq {
			r := c.Transmit(cmd)
			if r[len(r)-2] != 0x90 {
				b.Fatalf("% X → % X", cmd, r[len(r)-2:])
			}
		}
	}
	b.StopTimer()
	per := b.Elapsed() / time.Duration(b.N*len(seq))
	b.ReportMetric(float64(len(seq)), "APDUs/op")
	b.ReportMetric(float64(time.Second)/float64(per), "APDUs/s")
	b.ReportMetric(float64(per.Nanoseconds()), "ns/APDU")
	b.ReportMetric(float64(per)/float64(base), "x-baseline")
}

// BenchmarkInProcess measures the in-process APDU path: SELECT + READ BINARY
// of the whole authentication certificate in 256-byte chunks as OpenSC reads
// it, and one signature with the authentication key.
func BenchmarkInProcess(b *testing.B) {
	iss := issue(b, profile.Default())
	c := iss.Card
	b.Run("select+read-certificate", func(b *testing.B) {
		seq := [][]byte{h(selJPKI), h("00A4020C02000A")}
		size := len(iss.AuthCert.Raw)
		for off := 0; off < size; off += 256 {
			seq = append(seq, h(fmt.Sprintf("00B0%04X%02X", off, byte(min(256, size-off)))))
		}
		benchAPDUs(b, c, seq)
	})
	b.Run("sign", func(b *testing.B) {
		for _, cmd := range []string{selJPKI, selAuthPIN, "00200080" + pinHex("1234"), "00A4020C020017"} {
			c.Transmit(h(cmd))
		}
		benchAPDUs(b, c, [][]byte{h("802A0080" + "33" + "3031300d060960864801650304020105000420" + fmt.Sprintf("%064x", 1) + "00")})
	})
}
