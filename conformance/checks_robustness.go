package conformance

// Robustness: R11 slow card operations, R12 no hang, R13 malformed
// commands, R14 receive buffer too small.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

func checkR11(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	budget := t.cfg.SlowBudget
	var worst time.Duration
	for _, ef := range []jpkiclient.FileID{jpkiclient.EFAuthCert, jpkiclient.EFAuthCA} {
		t.enterEF(s, ef)
		start := time.Now()
		der, err := readDER(s)
		d := time.Since(start)
		if err != nil {
			t.Errorf("reading %v: %v", ef, err)
			continue
		}
		t.Ms(fmt.Sprintf("whole read of %v (%d bytes)", ef, len(der)), d)
		worst = max(worst, d/time.Duration((len(der)+255)/256))
	}
	if why := t.verifyAuthPIN(s); why != "" {
		t.skipPIN("signature", jpkiclient.AuthPIN, why)
	} else {
		t.expectSW(s, "selecting the auth key", selectEF(jpkiclient.EFAuthKey), 0x9000)
		h := sha256.Sum256([]byte("mynahil R11"))
		di, _ := jpkiclient.DigestInfo(crypto.SHA256, h[:])
		start := time.Now()
		t.expectSW(s, "signature", signCmd(di), 0x9000)
		d := time.Since(start)
		t.Ms("signature", d)
		worst = max(worst, d)
	}
	t.Ms("slowest APDU (mean per chunk)", worst)
	if worst > budget {
		t.Errorf("an operation took %v per APDU, budget %v", worst, budget)
	}
}

func checkR12(t *T) {
	before := hangs.Load() - t.run.hangsAtStart
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	t.enterEF(s, jpkiclient.EFAuthPIN)
	var l latencies
	for i := 0; i < 5; i++ {
		for _, cmd := range [][]byte{triesQuery, getChallenge(8), selectEF(jpkiclient.EFAuthPIN), append(selectAID(jpkiclient.AID[:8], 0x00), 0x00)} {
			_, d, err := s.transmit(cmd)
			if err != nil {
				t.Fatalf("exchange % X: %v", cmd[:4], err)
			}
			l = append(l, d)
			if len(cmd) > 5 && cmd[1] == 0xA4 && cmd[2] == 0x04 {
				t.expectSW(s, "reselecting the PIN EF", selectEF(jpkiclient.EFAuthPIN), 0x9000)
			}
		}
	}
	t.Ms("max of 20 exchanges", l.max())
	total := hangs.Load() - t.run.hangsAtStart
	t.Record("PC/SC calls that missed their deadline in this run", "%d (before this check: %d)", total, before)
	if total > 0 {
		t.Errorf("%d PC/SC calls in this run did not return within %v: the reader hangs instead of failing", total, t.cfg.APDUTimeout)
	}
}

func checkR13(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	t.enterEF(s, jpkiclient.EFAuthCert)
	for _, c := range []struct {
		name string
		cmd  []byte
	}{
		{"2-byte command", []byte{0x00, 0xA4}},
		{"3-byte command", []byte{0x00, 0xA4, 0x04}},
		{"Lc 10 with 2 data bytes", []byte{0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92}},
		{"Lc 2 with 4 data bytes", []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, 0x0A, 0x00, 0x0A}},
		{"unknown INS", []byte{0x00, 0x02, 0x00, 0x00}},
		{"unknown CLA", []byte{0x90, 0xA4, 0x04, 0x0C, 0x02, 0xD3, 0x92}},
		{"READ BINARY beyond the file", []byte{0x00, 0xB0, 0x7F, 0xFF, 0x01}},
	} {
		resp, _, err := s.transmit(c.cmd)
		switch sw, ok := swOf(resp); {
		case err != nil:
			t.Record(c.name, "PC/SC error: %v", err)
		case !ok:
			t.Errorf("%s: %d-byte answer without status word", c.name, len(resp))
		case !definedErr(sw):
			t.Errorf("%s: got %s, want a defined error", c.name, describe(resp))
		default:
			t.Record(c.name, "%04X", sw)
		}
	}
}

func checkR14(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	t.enterEF(s, jpkiclient.EFAuthCert)
	// A connection of its own, past any lies of the run's PC/SC stack
	// (faults.Stack): the check judges libpcsclite's receive buffer.
	r, err := openSession(t.cfg.Reader, t.cfg.APDUTimeout)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer func() { _ = r.close() }()
	if err := r.connect(pcsc.Shared); err != nil {
		t.Fatalf("%v", err)
	}
	type rawResult struct {
		pcsc.Received
		Err error
	}
	into := func(cmd []byte, bufLen int) func() (rawResult, error) {
		return func() (rawResult, error) {
			got, err := r.card.TransmitBuffer(cmd, bufLen)
			return rawResult{got, err}, nil
		}
	}
	want := append(append([]byte(nil), ref.authCert[:10]...), 0x90, 0x00)
	// send issues READ BINARY Le 10, following a 61xx with GET RESPONSE;
	// the data-bearing exchange gets the buffer under test.
	send := func(bufLen int) rawResult {
		res, err := within(t.cfg.APDUTimeout, "transmitting", into(readBinary(0, 10), bufLen))
		if err != nil {
			t.Fatalf("%v", err)
		}
		if sw, ok := swOf(res.Data); ok && len(res.Data) == 2 && sw>>8 == 0x61 {
			res, _ = within(t.cfg.APDUTimeout, "transmitting", into([]byte{0x00, 0xC0, 0x00, 0x00, byte(sw)}, bufLen))
		}
		return res
	}
	small := send(len(want) - 1)
	t.Record("11-byte buffer", "error %v, needed %d", small.Err, small.Needed)
	switch {
	case small.Overflowed:
		t.Errorf("SCardTransmit wrote past an 11-byte buffer")
	case !errors.Is(small.Err, pcsc.ErrInsufficientBuffer):
		t.Errorf("11-byte buffer for a 12-byte response: got %v (%d bytes), want SCARD_E_INSUFFICIENT_BUFFER", errOrOK(small.Err), len(small.Data))
	case small.Needed != len(want):
		t.Errorf("11-byte buffer: SCardTransmit reports %d bytes needed, want %d", small.Needed, len(want))
	}
	exact := send(len(want))
	switch {
	case exact.Overflowed:
		t.Errorf("SCardTransmit wrote past a 12-byte buffer")
	case exact.Err != nil:
		t.Errorf("12-byte buffer for a 12-byte response: %v (needed %d)", exact.Err, exact.Needed)
	case !bytes.Equal(exact.Data, want):
		t.Errorf("12-byte buffer: got %s, want %s", hexs(exact.Data), hexs(want))
	}
}
