package conformance

// ATR and protocol: R05.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"fmt"
	"strings"

	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

func checkR05(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	st, err := s.status()
	if err != nil {
		t.Fatalf("SCardStatus: %v", err)
	}
	t.Record("ATR", "%s", hexs(st.ATR))
	known := false
	for _, k := range knownJPKIATRs {
		known = known || k == hexs(st.ATR)
	}
	t.Record("ATR in the list of known My Number Card ATRs", "%v (information only: the card is identified by SELECT)", known)
	a, err := ParseATR(st.ATR)
	if err != nil {
		t.Errorf("parsing the ATR: %v", err)
	}
	t.Record("TS", "%02X", a.TS)
	t.Record("T0", "%02X (K=%d historical bytes)", a.T0, a.T0&0x0F)
	var ib []string
	for _, b := range a.Interface {
		ib = append(ib, fmt.Sprintf("%s=%02X", b.Name, b.Value))
	}
	t.Record("interface bytes", "%s", strings.Join(ib, " "))
	t.Record("protocols", "%v", a.Protocols)
	t.Record("historical bytes", "%s", hexs(a.Historical))
	if a.HasTCK {
		t.Record("TCK", "%02X (checks)", a.TCK)
	}
	t.Record("interface", "%s", interfaceOf(a))
	if err == nil && !a.Offers(1) {
		t.Errorf("the ATR does not offer T=1 (protocols %v); the My Number Card is T=1 only", a.Protocols)
	}
	proto := s.card.ActiveProtocol()
	t.Record("negotiated protocol", "%s", protoName(proto))
	if proto != pcsc.ProtocolT1 {
		t.Errorf("SCardConnect negotiated %s, want T=1", protoName(proto))
	}
	t.expectSW(s, "SELECT of the JPKI AID", selectAID(jpkiclient.AID, 0x0C), 0x9000)
	t.expectSW(s, "SELECT of an unknown AID", selectAID([]byte{0xD3, 0x92, 0xF0, 0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0xEE}, 0x0C), 0x6A82)
}

func interfaceOf(a ATR) string {
	if a.Contactless() {
		return "contactless (PC/SC part 3 ATR)"
	}
	return "contact (or an ATR passed through unchanged)"
}

func protoName(p pcsc.Protocol) string {
	switch p {
	case pcsc.ProtocolT0:
		return "T=0"
	case pcsc.ProtocolT1:
		return "T=1"
	}
	return fmt.Sprintf("protocol %#x", uint32(p))
}
