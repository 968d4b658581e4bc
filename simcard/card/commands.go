package card

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"

	"github.com/mynahil/mynahil/simcard/apdu"
)

// Instruction bytes (ISO/IEC 7816-4 5.4 and JICSAP proprietary ones).
const (
	insVerify            = 0x20
	insChangeRefData     = 0x24
	insGetChallenge      = 0x84
	insInternalAuth      = 0x88
	insSelect            = 0xA4
	insReadBinary        = 0xB0
	insReadRecord        = 0xB2
	insGetData           = 0xCA
	insComputeSignature  = 0x2A // with CLA 80: JPKI "COMPUTE DIGITAL SIGNATURE"
	insChangeKey         = 0x32 // with CLA 80: JICSAP CHANGE KEY
	insPhoneLastCommand  = 0xFC // with CLA 80: iPhone-token command, 6700 on the plastic card
	insSetPublicICKey    = 0xA2 // with CLA 80: verify a terminal's CV certificate (JPKI EF 0016)
	insSetSessionKey     = 0xAE // with CLA 80: secure-messaging key set-up (text applet only)
	terminalCertLen      = 307  // body of the terminal CV certificate 80 A2 00 C1 carries
	maxPKCS1Input        = 245  // k − 11 for RSA-2048 (docs/card.md §7)
	signatureSchemeCount = 6
)

func (c *Card) execute(cmd *apdu.Command) ([]byte, apdu.SW) {
	switch {
	case cmd.CLA&0x0C != 0:
		return nil, secureMessaging(cmd)
	case cmd.CLA&0x03 != 0:
		return nil, apdu.LogicalChannelNotSupp
	case cmd.CLA == 0x00:
		switch cmd.INS {
		case insSelect:
			return nil, c.selectFile(cmd)
		case insReadBinary:
			return c.readBinary(cmd)
		case insReadRecord:
			return c.readRecord(cmd)
		case insVerify:
			return nil, c.verify(cmd)
		case insChangeRefData:
			if cmd.P1 != 0x01 {
				return nil, apdu.IncorrectP1P2
			}
			return nil, c.changePIN(cmd)
		case insGetChallenge:
			return c.getChallenge(cmd)
		case insInternalAuth:
			return c.internalAuthenticate(cmd)
		case insGetData:
			return c.getData(cmd)
		}
		return nil, apdu.INSNotSupported
	case cmd.CLA == 0x80:
		switch cmd.INS {
		case insComputeSignature:
			return c.computeSignature(cmd)
		case insChangeKey:
			if cmd.P1 != 0x00 {
				return nil, apdu.IncorrectP1P2
			}
			return nil, c.changePIN(cmd)
		case insPhoneLastCommand:
			if c.st.LastCommandIndicator && cmd.P1 == 0 && cmd.P2 == 0 && cmd.Case == apdu.Case1 {
				return nil, apdu.OK
			}
			return nil, apdu.WrongLength
		case insSetPublicICKey:
			return nil, setPublicICKey(cmd)
		case insSetSessionKey:
			// No secure-messaging session can be set up on the simulated card:
			// the JPKI applet refuses SET SESSION KEY with 6982 even with both
			// PINs verified (myna-card ap/jpki.rs); the simulator answers the
			// same in every applet (docs/card.md §4.6).
			return nil, apdu.SecurityNotSatisfied
		}
		return nil, apdu.INSNotSupported
	}
	return nil, apdu.CLANotSupported
}

// secureMessaging answers a command with a secure-messaging CLA (x8 or xC)
// outside a secure-messaging session: 69FC to READ BINARY and VERIFY, 6882
// to anything else, SELECT included (myna-card sm.rs and ap/jpki.rs, which
// probed real cards; docs/card.md §4.6).
func secureMessaging(cmd *apdu.Command) apdu.SW {
	switch cmd.INS {
	case insReadBinary, insVerify:
		return apdu.SMObjectsMissing
	}
	return apdu.SecureMessagingNotSupp
}

// setPublicICKey answers SET PUBLIC IC KEY 80 A2, which hands the card a
// terminal's card-verifiable certificate to check against JPKI EF 0016.
// Only P1-P2 00 C1 is known: a body other than 307 bytes answers 6700 (the
// status jsapdu's real-card test randr.e2e.test.ts asserts for 256 bytes);
// other P1-P2 answer 6A86 (myna-card card.rs: 00 00, 00 AE, 80 00 and 00 B6
// on real cards). The simulator knows no terminal CA, so a 307-byte body
// never verifies: 6A80 [inf] (docs/card.md §4.6, §10).
func setPublicICKey(cmd *apdu.Command) apdu.SW {
	if cmd.P1 != 0x00 || cmd.P2 != 0xC1 {
		return apdu.IncorrectP1P2
	}
	if len(cmd.Data) != terminalCertLen {
		return apdu.WrongLength
	}
	return apdu.WrongData
}

// selectFile implements SELECT (ISO/IEC 7816-4 7.1.1) as the card answers it
// (docs/card.md §3.6, §4.1, §9.2): by DF name (P1=04, full or partial name)
// and by EF identifier in the current DF (P1=02); P2 0C (no data) or 00
// (FCI requested: the card answers 9000 with no data). Selecting another
// application DF clears the security status; re-selecting the current one
// keeps it, as real cards do, and leaves no EF current (docs/card.md §5.1).
func (c *Card) selectFile(cmd *apdu.Command) apdu.SW {
	if cmd.P2 != 0x0C && cmd.P2 != 0x00 {
		return apdu.IncorrectP1P2
	}
	switch cmd.P1 {
	case 0x04:
		if len(cmd.Data) == 0 || len(cmd.Data) > 16 {
			return apdu.WrongLength
		}
		if bytes.Equal(cmd.Data, IssuerSecurityDomain) {
			// The GlobalPlatform issuer security domain restores the power-on
			// MF level, GET DATA objects included (myna-card mf.rs
			// MasterFile::select; docs/card.md §3.6).
			c.resetVolatile()
			return apdu.OK
		}
		df := c.findDF(cmd.Data)
		if df == nil {
			return apdu.FileNotFound
		}
		if df == c.current {
			c.ef = nil
			return apdu.OK
		}
		c.resetVolatile()
		c.current = df
		return apdu.OK
	case 0x02:
		if len(cmd.Data) != 2 {
			return apdu.WrongLength
		}
		f := c.fileByID(uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1]))
		if f == nil {
			return apdu.FileNotFound
		}
		c.ef = f
		return apdu.OK
	case 0x00:
		// "Select MF": refused right after reset, accepted (without changing
		// the current DF) once an AP is selected; 3F00 by identifier is unknown.
		if len(cmd.Data) == 0 {
			if c.current == nil {
				return apdu.IncorrectP1P2
			}
			return apdu.OK
		}
		if len(cmd.Data) != 2 {
			return apdu.WrongLength
		}
		return apdu.FileNotFound
	}
	return apdu.IncorrectP1P2
}

func (c *Card) findDF(name []byte) *DF {
	for _, d := range c.st.DFs {
		if bytes.Equal(d.AID, name) {
			return d
		}
	}
	// Partial DF name (JICSAP 4.2(1), docs/card.md §2): the first DF whose
	// name starts with the given bytes.
	for _, d := range c.st.DFs {
		if bytes.HasPrefix(d.AID, name) {
			return d
		}
	}
	return nil
}

// fileByID finds an EF in the current DF, or at MF level when no AP is selected.
func (c *Card) fileByID(id uint16) *File {
	if c.current == nil {
		for _, f := range c.st.MFFiles {
			if f.ID == id {
				return f
			}
		}
		return nil
	}
	return c.current.File(id)
}

// fileBySFI resolves a short EF identifier in the current DF.
func (c *Card) fileBySFI(sfi byte) *File {
	if sfi == 0 || sfi > 0x1E {
		return nil
	}
	return c.fileByID(uint16(sfi))
}

func (c *Card) granted(a Access) bool {
	if a.Never {
		return false
	}
	if len(a.AnyOf) == 0 {
		return true
	}
	for _, id := range a.AnyOf {
		if c.verified[id] {
			return true
		}
	}
	return false
}

// readBinary implements READ BINARY (ISO/IEC 7816-4 7.2.3): a 15-bit offset
// in P1-P2, or P1 = 1 0 0 SFI with an 8-bit offset in P2; min(Ne, remaining)
// bytes with 9000; 6B00 at or beyond the end (docs/card.md §7).
func (c *Card) readBinary(cmd *apdu.Command) ([]byte, apdu.SW) {
	if !cmd.HasLe() || len(cmd.Data) != 0 {
		return nil, apdu.WrongLength
	}
	f, off := c.ef, int(cmd.P1)<<8|int(cmd.P2)
	if cmd.P1&0x80 != 0 {
		if cmd.P1&0x60 != 0 {
			return nil, apdu.IncorrectP1P2
		}
		if f = c.fileBySFI(cmd.P1 & 0x1F); f == nil {
			return nil, apdu.FileNotFound
		}
		c.ef, off = f, int(cmd.P2)
	}
	if f == nil {
		return nil, apdu.NoCurrentEF
	}
	if f.Kind != Binary {
		return nil, apdu.IncompatibleFile
	}
	if !c.granted(f.Read) {
		return nil, apdu.SecurityNotSatisfied
	}
	if off >= len(f.Data) {
		return nil, apdu.WrongOffset
	}
	end := min(len(f.Data), off+cmd.Ne)
	return f.Data[off:end], apdu.OK
}

// readRecord implements READ RECORD (ISO/IEC 7816-4 7.3.3) for "read record
// P1" (P2 low bits 100), in the current EF or the EF named by the SFI in P2's
// high five bits (myna-rs sends 00 B2 01 0C 00, docs/card.md §3.5).
func (c *Card) readRecord(cmd *apdu.Command) ([]byte, apdu.SW) {
	if !cmd.HasLe() || len(cmd.Data) != 0 {
		return nil, apdu.WrongLength
	}
	if cmd.P2&0x07 != 0x04 || cmd.P1 == 0 {
		return nil, apdu.IncorrectP1P2
	}
	f := c.ef
	if sfi := cmd.P2 >> 3; sfi != 0 {
		if f = c.fileBySFI(sfi); f == nil {
			return nil, apdu.FileNotFound
		}
		c.ef = f
	}
	if f == nil {
		return nil, apdu.NoCurrentEF
	}
	if f.Kind != Record {
		return nil, apdu.IncompatibleFile
	}
	if !c.granted(f.Read) {
		return nil, apdu.SecurityNotSatisfied
	}
	if int(cmd.P1) > len(f.Records) {
		return nil, apdu.RecordNotFound
	}
	r := f.Records[cmd.P1-1]
	return r[:min(len(r), cmd.Ne)], apdu.OK
}

// pinFile resolves the PIN named by P2: 80 for the current EF, 80|SFI for a
// PIN of the current DF (docs/card.md §9.5).
func (c *Card) pinFile(p2 byte) (*File, apdu.SW) {
	if p2&0x80 == 0 || p2&0x60 != 0 {
		return nil, apdu.IncorrectP1P2
	}
	f := c.ef
	if sfi := p2 & 0x1F; sfi != 0 {
		f = c.fileBySFI(sfi)
	}
	if f == nil || f.Kind != PINFile {
		return nil, apdu.RefDataNotFound
	}
	return f, apdu.OK
}

// verify implements VERIFY (ISO/IEC 7816-4 7.5.6). With no data (case 1, or
// the 5-byte form 00 20 00 80 00 some clients send) it reports the counter as
// 63Cx. With data it first spends a try and stores that (anti-tearing), then
// compares in constant time: 9000 restores the counter, otherwise 63C(x−1);
// a blocked PIN answers 6984 whatever the value (docs/card.md §4.6, §5.5).
func (c *Card) verify(cmd *apdu.Command) apdu.SW {
	if cmd.P1 != 0x00 {
		return apdu.IncorrectP1P2
	}
	f, sw := c.pinFile(cmd.P2)
	if sw != apdu.OK {
		return sw
	}
	p := f.PIN
	if len(cmd.Data) == 0 {
		return apdu.VerifyFailed(p.Left)
	}
	if p.Left <= 0 {
		return apdu.RefDataNotUsable
	}
	delete(c.verified, f.ID)
	p.Left--
	if err := c.save(); err != nil {
		p.Left++
		return apdu.MemoryFailure
	}
	if !p.matches(cmd.Data) {
		return apdu.VerifyFailed(p.Left)
	}
	p.Left = p.Max
	c.verified[f.ID] = true
	if err := c.save(); err != nil {
		return apdu.MemoryFailure
	}
	return apdu.OK
}

// changePIN implements CHANGE REFERENCE DATA with P1=01 (ISO/IEC 7816-4
// 7.5.7: the new value only, the old one having been verified in this DF) and
// JICSAP CHANGE KEY (80 32 00 80). A new value that breaks the PIN's format
// answers 6A80 (docs/card.md §9.6); reference data printed on the card
// (照合番号A/B, the birth-date key) cannot be changed: 6985 [inf].
func (c *Card) changePIN(cmd *apdu.Command) apdu.SW {
	f, sw := c.pinFile(cmd.P2)
	if sw != apdu.OK {
		return sw
	}
	if len(cmd.Data) == 0 {
		return apdu.WrongLength
	}
	if !c.verified[f.ID] {
		return apdu.SecurityNotSatisfied
	}
	if f.PIN.Fixed {
		return apdu.ConditionsNotSatisfied
	}
	if f.PIN.Format.Check(cmd.Data) != nil {
		return apdu.WrongData
	}
	old := *f.PIN
	f.PIN.SetPIN(string(cmd.Data))
	if err := c.save(); err != nil {
		*f.PIN = old
		return apdu.MemoryFailure
	}
	return apdu.OK
}

// keyFile resolves the key named by P2: 80 for the current EF, 80|SFI, or 00
// for the DF's own default key.
func (c *Card) keyFile(p2 byte) (*File, apdu.SW) {
	var f *File
	switch {
	case p2 == 0x00:
		if c.current == nil || c.current.DefaultKey == 0 {
			return nil, apdu.IncorrectP1P2
		}
		f = c.current.File(c.current.DefaultKey)
	case p2&0xE0 == 0x80:
		f = c.ef
		if sfi := p2 & 0x1F; sfi != 0 {
			f = c.fileBySFI(sfi)
		}
	default:
		return nil, apdu.IncorrectP1P2
	}
	if f == nil || f.Kind != KeyFile {
		return nil, apdu.RefDataNotFound
	}
	return f, apdu.OK
}

// computeSignature implements the JPKI COMPUTE DIGITAL SIGNATURE
// 80 2A P1 P2 Lc data [Le] (docs/card.md §4.1, §4.5): P1=00 pads the data as
// given with PKCS#1 v1.5 type 1 (1–245 bytes; OpenSC and myna send a
// DigestInfo); P1 01–05 hash and/or wrap on the card. The key's PIN must have
// been verified in this DF, else 6982. The answer is the 256-byte signature.
func (c *Card) computeSignature(cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 >= signatureSchemeCount {
		return nil, apdu.IncorrectP1P2
	}
	f, sw := c.keyFile(cmd.P2)
	if sw != apdu.OK {
		return nil, sw
	}
	if len(cmd.Data) == 0 || (cmd.HasLe() && cmd.Ne < 256) {
		return nil, apdu.WrongLength
	}
	if !c.granted(f.Key.Use) {
		return nil, apdu.SecurityNotSatisfied
	}
	priv, err := f.Key.Private()
	if err != nil {
		return nil, apdu.NoPreciseDiagnosis
	}
	sig, sw := sign(priv, cmd.P1, cmd.Data)
	if sw != apdu.OK {
		return nil, sw
	}
	return sig, apdu.OK
}

func sign(priv *rsa.PrivateKey, scheme byte, data []byte) ([]byte, apdu.SW) {
	var (
		sig []byte
		err error
	)
	switch scheme {
	case 0x00: // PKCS#1 v1.5 type-1 padding over the data exactly as given
		if len(data) > maxPKCS1Input {
			return nil, apdu.WrongLength
		}
		sig, err = rsa.SignPKCS1v15(nil, priv, crypto.Hash(0), data)
	case 0x01: // SHA-256 of the message, padded bare (no DigestInfo)
		h := sha256.Sum256(data)
		sig, err = rsa.SignPKCS1v15(nil, priv, crypto.Hash(0), h[:])
	case 0x02: // a 32-byte SHA-256 hash, wrapped in a DigestInfo
		if len(data) != sha256.Size {
			return nil, apdu.WrongLength
		}
		sig, err = rsa.SignPKCS1v15(nil, priv, crypto.SHA256, data)
	case 0x03: // SHA-256 + DigestInfo of the message
		h := sha256.Sum256(data)
		sig, err = rsa.SignPKCS1v15(nil, priv, crypto.SHA256, h[:])
	case 0x04: // PSS over a 32-byte SHA-256 hash
		if len(data) != sha256.Size {
			return nil, apdu.WrongLength
		}
		sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, data, nil)
	case 0x05: // SHA-256 + PSS of the message
		h := sha256.Sum256(data)
		sig, err = rsa.SignPSS(rand.Reader, priv, crypto.SHA256, h[:], nil)
	}
	if err != nil {
		return nil, apdu.ConditionsNotSatisfied
	}
	return sig, apdu.OK
}

// internalAuthenticate implements INTERNAL AUTHENTICATE 00 88 00 P2 (ISO/IEC
// 7816-4 7.5.2): only a key marked for it (共通カードAP 0019) answers, with a
// PKCS#1 v1.5 signature over DigestInfo(SHA-256(challenge)); keys behind a
// PIN answer 6982, others 6985 (docs/card.md §4.5).
func (c *Card) internalAuthenticate(cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0x00 {
		return nil, apdu.IncorrectP1P2
	}
	f, sw := c.keyFile(cmd.P2)
	if sw != apdu.OK {
		return nil, sw
	}
	if len(cmd.Data) == 0 {
		return nil, apdu.WrongLength
	}
	if !f.Key.InternalAuth {
		if len(f.Key.Use.AnyOf) > 0 {
			return nil, apdu.SecurityNotSatisfied
		}
		return nil, apdu.ConditionsNotSatisfied
	}
	if !c.granted(f.Key.Use) {
		return nil, apdu.SecurityNotSatisfied
	}
	priv, err := f.Key.Private()
	if err != nil {
		return nil, apdu.NoPreciseDiagnosis
	}
	return sign(priv, 0x03, cmd.Data)
}

// getChallenge implements GET CHALLENGE (ISO/IEC 7816-4 7.5.3): 1–256 random
// bytes; the extended form answers 6985 (docs/card.md §4.5).
func (c *Card) getChallenge(cmd *apdu.Command) ([]byte, apdu.SW) {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return nil, apdu.IncorrectP1P2
	}
	if cmd.Case.Extended() {
		return nil, apdu.ConditionsNotSatisfied
	}
	if !cmd.HasLe() || len(cmd.Data) != 0 {
		return nil, apdu.WrongLength
	}
	b := make([]byte, cmd.Ne)
	if _, err := io.ReadFull(c.rand, b); err != nil {
		return nil, apdu.NoPreciseDiagnosis
	}
	return b, apdu.OK
}

// getData implements GET DATA (ISO/IEC 7816-4 7.4.2) for the card's data
// objects (tag in P1-P2); absent objects answer 6A88, which is also what the
// setcos driver's probe 00 CA DF 30 gets (docs/card.md §3.6, §9.8). An
// object longer than a short Le can carry needs extended Le, else 6700.
//
// The objects belong to the MF level: with an applet selected only the
// contact ATR (5F51) answers, as on the cards myna-card probed (mf.rs: "GET
// DATA answers there, and only there"; 5F51 "answers with an application
// current too"). myna-card's get_data retries a 6700 with extended Le, so
// the large objects (00F8, 7F21) exercise that path (docs/card.md §3.6).
func (c *Card) getData(cmd *apdu.Command) ([]byte, apdu.SW) {
	if !cmd.HasLe() || len(cmd.Data) != 0 {
		return nil, apdu.WrongLength
	}
	tag := uint16(cmd.P1)<<8 | uint16(cmd.P2)
	if c.current != nil && tag != tagATR {
		return nil, apdu.RefDataNotFound
	}
	v, ok := c.st.DataObjects[tag]
	if !ok {
		return nil, apdu.RefDataNotFound
	}
	if len(v) > cmd.Ne {
		return nil, apdu.WrongLength
	}
	return v, apdu.OK
}
