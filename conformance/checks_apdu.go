package conformance

// APDU shapes and lengths: R06 cases 1–4, R07 Le=00, R08 61xx chaining,
// R09 extended length, R10 258/259-byte packets.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// definedErr reports whether sw is a defined error answer to a malformed or
// unsuitable command (ISO/IEC 7816-4 clause 5.6).
func definedErr(sw uint16) bool {
	switch sw >> 8 {
	case 0x67, 0x68, 0x6A, 0x6B, 0x6D, 0x6E:
		return sw == 0x6700 || sw == 0x6881 || sw == 0x6882 || sw&0xFF00 == 0x6A00 && sw >= 0x6A80 && sw <= 0x6A88 ||
			sw == 0x6B00 || sw == 0x6D00 || sw == 0x6E00
	}
	return false
}

// checkR06 is check R06 (APDU cases 1–4 at every short length) of docs/conformance-checklist.md. Its
// steps are the checklist item's, in its order, each recording what it
// saw: it reads better whole, beside the checklist, than split into
// helpers.
func checkR06(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)

	// Case 1.
	t.enterEF(s, jpkiclient.EFAuthPIN)
	resp := t.xfer(s, triesQuery)
	if sw, _ := swOf(resp); len(resp) != 2 || sw&0xFFF0 != 0x63C0 {
		t.Errorf("case 1 (VERIFY tries-left query): got %s, want 63Cx", describe(resp))
	}

	// Case 2, every Le.
	t.enterEF(s, jpkiclient.EFAuthCert)
	bad := 0
	for n := 1; n <= 256; n++ {
		resp, _, err := chained(s, readBinary(0, n))
		if err != nil {
			t.Fatalf("case 2 READ BINARY Le %d: %v", n, err)
		}
		sw, _ := swOf(resp)
		if sw != 0x9000 || len(resp)-2 != n || !equalPrefix(resp[:len(resp)-2], ref.authCert) {
			if bad++; bad <= 5 {
				t.Errorf("case 2 READ BINARY Le %d: got %s, want %d certificate bytes + 9000", n, describe(resp), n)
			}
		}
	}
	for n := 1; n <= 256; n++ {
		resp, _, err := chained(s, getChallenge(n))
		if err != nil {
			t.Fatalf("case 2 GET CHALLENGE Le %d: %v", n, err)
		}
		if sw, _ := swOf(resp); sw != 0x9000 || len(resp)-2 != n {
			if bad++; bad <= 10 {
				t.Errorf("case 2 GET CHALLENGE Le %d: got %s, want %d bytes + 9000", n, describe(resp), n)
			}
		}
	}
	t.Record("case 2 lengths", "Le 1..256 (READ BINARY and GET CHALLENGE), %d wrong", bad)

	// Cases 3 and 4, every Lc.
	for _, c := range []struct {
		name string
		p2   byte
		le   bool
	}{{"case 3 SELECT", 0x0C, false}, {"case 4 SELECT with FCI", 0x00, true}} {
		bad, partial := 0, 0
		for n := 1; n <= 255; n++ {
			data := make([]byte, n)
			copy(data, jpkiclient.AID)
			cmd := selectAID(data, c.p2)
			if c.le {
				cmd = append(cmd, 0x00)
			}
			resp, _, err := chained(s, cmd)
			if err != nil {
				t.Fatalf("%s Lc %d: %v", c.name, n, err)
			}
			sw, _ := swOf(resp)
			ok := false
			switch {
			case n == len(jpkiclient.AID):
				ok = sw == 0x9000
			case n < len(jpkiclient.AID):
				ok = sw == 0x9000 || definedErr(sw)
				if sw == 0x9000 {
					partial++
				}
			default:
				ok = definedErr(sw)
			}
			if !ok {
				if bad++; bad <= 5 {
					t.Errorf("%s Lc %d: got %s", c.name, n, describe(resp))
				}
			}
		}
		t.Record(c.name+" lengths", "Lc 1..255, %d wrong; partial DF names accepted for %d of 9 lengths", bad, partial)
	}

	// Case 4 echo through the signature.
	if why := t.verifyAuthPIN(s); why != "" {
		t.skipPIN("case 4 signature echo", jpkiclient.AuthPIN, why)
		return
	}
	t.expectSW(s, "selecting the auth key", selectEF(jpkiclient.EFAuthKey), 0x9000)
	lengths := []int{1, 2, 3, 15, 16, 17, 32, 34, 51, 63, 64, 65, 127, 128, 129, 200, 244, 245}
	if t.cfg.Full {
		lengths = lengths[:0]
		for n := 1; n <= 245; n++ {
			lengths = append(lengths, n)
		}
	}
	pub, _ := ref.cert.PublicKey.(*rsa.PublicKey)
	if pub == nil {
		t.Fatalf("the auth certificate's key is not RSA")
	}
	for _, n := range lengths {
		data := make([]byte, n)
		_, _ = rand.Read(data)
		sig := t.expectSW(s, fmt.Sprintf("case 4 signature Lc %d", n), signCmd(data), 0x9000)
		if err := rsa.VerifyPKCS1v15(pub, crypto.Hash(0), data, sig); err != nil {
			t.Errorf("case 4 signature Lc %d: does not verify over the data sent (mangled in transit?): %v", n, err)
		}
	}
	t.Record("case 4 signature echo", "%d lengths from %d to %d, each verified", len(lengths), lengths[0], lengths[len(lengths)-1])
}

// le00 sends cmd (Le=00) and checks for 256 bytes + 9000 in one exchange
// (under T=0, 61 00 followed by GET RESPONSE is accepted too).
func (t *T) le00(s *session, what string, cmd []byte, want []byte) {
	resp, d, err := s.transmit(cmd)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	t.Ms(what+" round trip", d)
	if sw, _ := swOf(resp); sw == 0x6100 && s.card.ActiveProtocol() == pcsc.ProtocolT0 {
		resp, _, err = chained(s, []byte{0x00, 0xC0, 0x00, 0x00, 0x00})
		if err != nil {
			t.Errorf("%s: GET RESPONSE: %v", what, err)
			return
		}
		t.Record(what, "61 00 + GET RESPONSE (T=0)")
	}
	sw, _ := swOf(resp)
	switch {
	case len(resp) != 258 || sw != 0x9000:
		t.Errorf("%s: got %s, want 256 bytes + 9000", what, describe(resp))
	case want != nil && !bytes.Equal(resp[:256], want):
		t.Errorf("%s: the 256 bytes differ from the certificate", what)
	}
}

func checkR07(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	if len(ref.authCert) <= 256 {
		t.Fatalf("the auth certificate has only %d bytes: no full Le=00 chunk to read", len(ref.authCert))
	}
	t.enterEF(s, jpkiclient.EFAuthCert)
	t.le00(s, "READ BINARY Le=00", readBinary(0, 256), ref.authCert[:256])
	t.le00(s, "GET CHALLENGE Le=00", getChallenge(256), nil)
	if why := t.verifyAuthPIN(s); why != "" {
		t.skipPIN("signature Le=00", jpkiclient.AuthPIN, why)
		return
	}
	t.expectSW(s, "selecting the auth key", selectEF(jpkiclient.EFAuthKey), 0x9000)
	h := sha256.Sum256([]byte("mynahil R07"))
	di, err := jpkiclient.DigestInfo(crypto.SHA256, h[:])
	if err != nil {
		t.Fatalf("building DigestInfo: %v", err)
	}
	t.le00(s, "signature Le=00", signCmd(di), nil)
}

func checkR08(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	t.enterEF(s, jpkiclient.EFAuthCert)
	probes, chainedN := 0, 0
	for _, n := range []int{1, 128, 255, 256} {
		for _, p := range []struct {
			name string
			cmd  []byte
			want []byte
		}{
			{"GET CHALLENGE", getChallenge(n), nil},
			{"READ BINARY", readBinary(0, n), ref.authCert[:min(n, len(ref.authCert))]},
		} {
			probes++
			resp, rounds, err := chained(s, p.cmd)
			if err != nil {
				t.Errorf("%s Le %d: %v", p.name, n, err)
				continue
			}
			if rounds > 0 {
				chainedN++
			}
			sw, _ := swOf(resp)
			data := resp[:len(resp)-2]
			switch {
			case sw != 0x9000 || len(data) != n:
				t.Errorf("%s Le %d: assembled %s after %d GET RESPONSE rounds, want %d bytes + 9000", p.name, n, describe(resp), rounds, n)
			case p.want != nil && !bytes.Equal(data, p.want):
				t.Errorf("%s Le %d: assembled data differ from the certificate", p.name, n)
			}
		}
	}
	t.Record("61xx chaining", "%d of %d probes chained", chainedN, probes)
}

// featureTLV is FEATURE_GET_TLV_PROPERTIES and its dwMaxAPDUDataSize tag
// (PC/SC part 10 v2.02.09 §2.6.14, §2.6.14.3 tag 0x0A).
const (
	featureGetTLVProperties = 0x12
	tagMaxAPDUDataSize      = 0x0A
)

// advertisedExtended asks the reader for dwMaxAPDUDataSize; 0 when it says
// nothing (Debian's vpcd answers no SCardControl, docs/vpcd-pcscd.md §9).
func advertisedExtended(s *session) (int, string) {
	c := s.card
	feat, err := within(s.timeout, "SCardControl", func() ([]byte, error) {
		return c.Control(pcsc.GetFeatureRequest, nil)
	})
	if err != nil {
		return 0, fmt.Sprintf("CM_IOCTL_GET_FEATURE_REQUEST: %v", err)
	}
	for i := 0; i+6 <= len(feat); i += 6 {
		if feat[i] != featureGetTLVProperties || feat[i+1] != 4 {
			continue
		}
		ioctl := uint32(feat[i+2])<<24 | uint32(feat[i+3])<<16 | uint32(feat[i+4])<<8 | uint32(feat[i+5])
		props, err := within(s.timeout, "SCardControl", func() ([]byte, error) { return c.Control(ioctl, nil) })
		if err != nil {
			return 0, fmt.Sprintf("FEATURE_GET_TLV_PROPERTIES: %v", err)
		}
		for j := 0; j+2 <= len(props); {
			tag, l := props[j], int(props[j+1])
			if j+2+l > len(props) {
				break
			}
			if tag == tagMaxAPDUDataSize {
				v := 0
				for k := l - 1; k >= 0; k-- { // little-endian
					v = v<<8 | int(props[j+2+k])
				}
				return v, "advertised by the reader (dwMaxAPDUDataSize)"
			}
			j += 2 + l
		}
		return 0, "FEATURE_GET_TLV_PROPERTIES without dwMaxAPDUDataSize"
	}
	return 0, "no FEATURE_GET_TLV_PROPERTIES"
}

func checkR09(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	ref := t.ref(s)
	max, how := advertisedExtended(s)
	t.Record("reader advertisement", "%d (%s)", max, how)
	if max == 0 && t.cfg.ExtendedMax > 0 {
		max, how = t.cfg.ExtendedMax, "declared by the reader maker (--extended)"
	}
	t.Record("extended claim", "%d bytes, %s", max, how)
	if max <= 256 {
		max = 0 // dwMaxAPDUDataSize 0 (or a short size) means short APDUs only (PC/SC part 10 §2.6.14.3)
	}
	n := len(ref.authCert)
	if max > 0 {
		n = min(n, max)
	}
	case2E := []byte{0x00, 0xB0, 0x00, 0x00, 0x00, byte(n >> 8), byte(n)}
	t.enterEF(s, jpkiclient.EFAuthCert)
	if max == 0 {
		resp, _, err := chained(s, case2E)
		t.Record("probe", "case 2E READ BINARY Le %d: %s", n, probeResult(resp, err))
		t.Record("result", "no extended-APDU claim to check (declare one with --extended to test it)")
		return
	}
	start := time.Now()
	resp, rounds, err := chained(s, case2E)
	switch sw, _ := swOf(resp); {
	case err != nil:
		t.Errorf("case 2E READ BINARY Le %d: %v", n, err)
	case sw != 0x9000 || !bytes.Equal(resp[:len(resp)-2], ref.authCert[:n]):
		t.Errorf("case 2E READ BINARY Le %d: got %s, want %d certificate bytes + 9000", n, describe(resp), n)
	default:
		t.Record("case 2E", "%d-byte response in %.2f ms (%d GET RESPONSE rounds)", len(resp), float64(time.Since(start).Microseconds())/1000, rounds)
	}
	aid := jpkiclient.AID
	unknown := make([]byte, 16) // the longest DF name (ISO/IEC 7816-4 clause 8.2.1.2)
	for _, c := range []struct {
		name string
		cmd  []byte
		sw   uint16
	}{
		{"case 3E SELECT", append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, byte(len(aid))}, aid...), 0x9000},
		{"case 4E SELECT", append(append([]byte{0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, byte(len(aid))}, aid...), 0x00, 0x00), 0x9000},
		{"case 3E SELECT of an unknown 16-byte name", append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x00, 0x10}, unknown...), 0x6A82},
	} {
		resp, _, err := chained(s, c.cmd)
		if sw, _ := swOf(resp); err != nil || sw != c.sw {
			t.Errorf("%s: %s, want %04X from the card", c.name, probeResult(resp, err), c.sw)
		}
	}
	big := append([]byte{0x00, 0xA4, 0x04, 0x0C, 0x00, 0x01, 0x2C}, make([]byte, 300)...)
	resp, _, err = s.transmit(big)
	t.Record("case 3E Lc 300", "%s", probeResult(resp, err))
}

func probeResult(resp []byte, err error) string {
	if err != nil {
		return err.Error()
	}
	return describe(resp)
}

func checkR10(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	for _, n := range []int{255, 256} {
		resp, _, err := chained(s, getChallenge(n))
		if err != nil {
			t.Errorf("GET CHALLENGE Le %d: %v", n, err)
			continue
		}
		if sw, _ := swOf(resp); len(resp) != n+2 || sw != 0x9000 {
			t.Errorf("%d-byte response (GET CHALLENGE Le %d): got %s", n+2, n%256, describe(resp))
		}
	}
	for _, c := range []struct {
		lc int
		le bool
	}{{253, false}, {254, false}, {255, false}, {255, true}} {
		data := make([]byte, c.lc)
		copy(data, jpkiclient.AID)
		p2 := byte(0x0C)
		if c.le {
			p2 = 0x00
		}
		cmd := selectAID(data, p2)
		if c.le {
			cmd = append(cmd, 0x00)
		}
		resp, _, err := chained(s, cmd)
		sw, _ := swOf(resp)
		if err != nil || !definedErr(sw) {
			t.Errorf("%d-byte command (SELECT Lc %d): %s, want the card's error for an over-long DF name", len(cmd), c.lc, probeResult(resp, err))
		}
	}
	t.Record("packets", "responses of 257 and 258 bytes; commands of 258, 259, 260 and 261 bytes")
}
