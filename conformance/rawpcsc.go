package conformance

// github.com/ebfe/scard always receives into a 65548-byte buffer, so it
// cannot show what SCardTransmit does with a buffer that is too small
// (docs/conformance-checklist.md, R14; pcsc-lite UnitaryTests BufferOverflow_SCardTransmit.c).
// These few calls go to libpcsclite directly for that check.

// #cgo pkg-config: libpcsclite
// #include <stdlib.h>
// #include <string.h>
// #include <winscard.h>
//
// static LONG rawTransmit(SCARDHANDLE h, DWORD proto, const BYTE *cmd, DWORD cmdLen, BYTE *rsp, DWORD *rspLen) {
// 	SCARD_IO_REQUEST pci;
// 	pci.dwProtocol = proto;
// 	pci.cbPciLength = sizeof(SCARD_IO_REQUEST);
// 	return SCardTransmit(h, &pci, cmd, cmdLen, NULL, rsp, rspLen);
// }
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/ebfe/scard"
)

// rawCard is a libpcsclite context and card handle.
type rawCard struct {
	ctx    C.SCARDCONTEXT
	handle C.SCARDHANDLE
	proto  C.DWORD
}

func rawConnect(reader string) (*rawCard, error) {
	var r rawCard
	if rc := C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &r.ctx); rc != C.SCARD_S_SUCCESS {
		return nil, fmt.Errorf("establishing PC/SC context: %w", scard.Error(rc))
	}
	name := C.CString(reader)
	defer C.free(unsafe.Pointer(name))
	if rc := C.SCardConnect(r.ctx, name, C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T0|C.SCARD_PROTOCOL_T1, &r.handle, &r.proto); rc != C.SCARD_S_SUCCESS {
		C.SCardReleaseContext(r.ctx)
		return nil, fmt.Errorf("connecting to %q: %w", reader, scard.Error(rc))
	}
	return &r, nil
}

// canary fills the bytes after the buffer handed to SCardTransmit; any
// change to them is an overflow.
const canary = 0xA5

// rawResult is one SCardTransmit into a buffer of a chosen size.
type rawResult struct {
	Resp       []byte // the bytes the call reports as received (empty on error)
	Needed     int    // pcbRecvLength after the call
	Err        error  // nil or a scard.Error
	Overflowed bool   // bytes beyond the buffer were written
}

// transmit sends cmd with a receive buffer of bufLen bytes.
func (r *rawCard) transmit(cmd []byte, bufLen int) rawResult {
	const guard = 64
	cmdC := C.CBytes(cmd)
	defer C.free(cmdC)
	rsp := (*[1 << 20]byte)(C.malloc(C.size_t(bufLen + guard)))[: bufLen+guard : bufLen+guard]
	defer C.free(unsafe.Pointer(&rsp[0]))
	for i := range rsp {
		rsp[i] = canary
	}
	n := C.DWORD(bufLen)
	rc := C.rawTransmit(r.handle, r.proto, (*C.BYTE)(cmdC), C.DWORD(len(cmd)), (*C.BYTE)(unsafe.Pointer(&rsp[0])), &n)
	res := rawResult{Needed: int(n)}
	for _, b := range rsp[bufLen:] {
		if b != canary {
			res.Overflowed = true
		}
	}
	if rc != C.SCARD_S_SUCCESS {
		res.Err = scard.Error(rc)
		return res
	}
	res.Resp = append([]byte(nil), rsp[:min(int(n), bufLen)]...)
	return res
}

func (r *rawCard) close() {
	C.SCardDisconnect(r.handle, C.SCARD_LEAVE_CARD)
	C.SCardReleaseContext(r.ctx)
}
