package apdu

import "fmt"

// SW is a status word (SW1 SW2), ISO/IEC 7816-4 5.6. It implements error so
// that handlers can return it; Is matches the families the card uses (any
// 63Cx is a wrong verification, whatever the counter).
type SW uint16

// Status words the card answers (ISO/IEC 7816-4 5.6, tables 5 and 6; the JPKI
// specifics follow docs/card.md §4.6).
const (
	OK                     SW = 0x9000
	MemoryFailure          SW = 0x6581 // the state could not be stored; nothing was compared
	WrongLength            SW = 0x6700
	LogicalChannelNotSupp  SW = 0x6881
	SecureMessagingNotSupp SW = 0x6882
	// SMObjectsMissing is JICSAP's answer to a secure-messaging CLA on
	// READ BINARY and VERIFY outside a secure-messaging session (myna-card
	// sm.rs; docs/card.md §4.6).
	SMObjectsMissing       SW = 0x69FC
	IncompatibleFile       SW = 0x6981 // command incompatible with file structure
	SecurityNotSatisfied   SW = 0x6982
	AuthMethodBlocked      SW = 0x6983
	RefDataNotUsable       SW = 0x6984 // PIN blocked (JICSAP "referenced IEF locked")
	ConditionsNotSatisfied SW = 0x6985
	NoCurrentEF            SW = 0x6986
	WrongData              SW = 0x6A80
	FileNotFound           SW = 0x6A82
	RecordNotFound         SW = 0x6A83
	IncorrectP1P2          SW = 0x6A86
	RefDataNotFound        SW = 0x6A88
	WrongOffset            SW = 0x6B00 // READ BINARY offset at or beyond the end (JICSAP 7.3.1)
	INSNotSupported        SW = 0x6D00
	CLANotSupported        SW = 0x6E00
	NoPreciseDiagnosis     SW = 0x6F00
)

// VerifyFailed returns 63Cx: a failed comparison (or a status query) with x
// tries left (ISO/IEC 7816-4 5.6, table 6, "counter provided by X").
func VerifyFailed(triesLeft int) SW {
	if triesLeft < 0 {
		triesLeft = 0
	}
	if triesLeft > 15 {
		triesLeft = 15
	}
	return SW(0x63C0 | triesLeft)
}

// TriesLeft returns x for a 63Cx status word and whether sw is one.
func (sw SW) TriesLeft() (int, bool) {
	if sw&0xFFF0 != 0x63C0 {
		return 0, false
	}
	return int(sw & 0x0F), true
}

func (sw SW) Error() string { return fmt.Sprintf("status word %04X", uint16(sw)) }

// Is makes errors.Is(err, VerifyFailed(0)) match every 63Cx.
func (sw SW) Is(target error) bool {
	t, ok := target.(SW)
	if !ok {
		return false
	}
	if _, wrong := sw.TriesLeft(); wrong {
		_, tw := t.TriesLeft()
		return tw
	}
	return sw == t
}

// Bytes returns SW1 SW2.
func (sw SW) Bytes() [2]byte { return [2]byte{byte(sw >> 8), byte(sw)} }

// Response appends sw to data and returns the response APDU. data is copied.
func Response(data []byte, sw SW) []byte {
	r := make([]byte, len(data)+2)
	copy(r, data)
	r[len(data)] = byte(sw >> 8)
	r[len(data)+1] = byte(sw)
	return r
}
