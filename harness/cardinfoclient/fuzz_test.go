package cardinfoclient

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzParseFiles feeds arbitrary file contents to every decoder: none may
// panic, and what they accept must be self-consistent.
func FuzzParseFiles(f *testing.F) {
	f.Add(myNumberFile(testMyNumber))
	f.Add(factsFile(testName, testAddress, testBirth, "2"))
	f.Add(factsFile("", "", "20000229", "9"))
	f.Add(basicInfoFile())
	f.Add(unhexOK("FF2082000ADF2108000E002000590064"))
	f.Add(unhexOK("7F2182000A5F4E8200805F3700"))
	f.Add(unhexOK("FF3082014BDF3120"))
	f.Add(unhexOK("FF20820020DF2102001ADF22083139393030313032DF230132DF2400"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if n, err := ParseMyNumberFile(b); err == nil && n.Validate() != nil {
			t.Fatalf("% X: accepted an invalid My Number", b)
		}
		if fa, err := ParseFacts(b); err == nil {
			if len(fa.Raw) > len(b) || fa.Offsets[0] > len(fa.Raw) || !bytes.HasPrefix(b, fa.Raw) {
				t.Fatalf("% X: facts %+v outside the input", b, fa.Offsets)
			}
			_ = fa.HashedPart()
		}
		if r, err := ParseIntegrityRecord(b); err == nil {
			if len(r.MyNumberHash) != 32 || len(r.FactsHash) != 32 || len(r.Signature) != 256 || len(r.Signed) != 70 {
				t.Fatalf("% X: implausible record", b)
			}
		}
		if c, err := ParseCVCertificate(b); err == nil {
			if c.PublicKey.N.BitLen() != 2048 || len(c.IssuerKeyID) != 16 || len(c.SubjectKeyID) != 16 {
				t.Fatalf("% X: implausible certificate", b)
			}
			_ = c.CheckSignature(c.PublicKey)
		}
		if bi, err := ParseBasicInfo(b); err == nil && (len(bi.Info) != 4 || len(bi.KeyID) != 16 || len(bi.Data) != 128) {
			t.Fatalf("% X: implausible basic info", b)
		}
		if fc, err := ParseFace(b); err == nil {
			_ = fc.CheckOffsets()
			_ = fc.Segments()
			_ = fc.CheckSignature(fc.PublicKey)
		}
		_ = CheckPNG(b)
		_ = CheckJPEG2000(b)
	})
}

// replay is a Transport that answers from a fuzzer's byte string: each
// response is a length byte followed by that many bytes. It fails the test
// if the client keeps sending after the input is used up, which would be a
// hang against a card that keeps answering the same way.
type replay struct {
	t     *testing.T
	in    []byte
	sent  int
	ended int
}

var errReplayEnded = errors.New("replay ended")

func (r *replay) Transmit([]byte) ([]byte, error) {
	r.sent++
	if len(r.in) == 0 {
		if r.ended++; r.ended > 8 {
			r.t.Fatalf("client kept transmitting after %d errors", r.ended)
		}
		return nil, errReplayEnded
	}
	n := min(int(r.in[0]), len(r.in)-1)
	resp := r.in[1 : 1+n]
	r.in = r.in[1+n:]
	return resp, nil
}

// FuzzClient drives every client operation against arbitrary card answers:
// none may panic, and each must end with a result or an error.
func FuzzClient(f *testing.F) {
	ok := "\x02\x90\x00"
	f.Add([]byte(ok + ok + ok + "\x13" + string(myNumberFile(testMyNumber)) + "\x90\x00"))
	f.Add([]byte(ok + ok + "\x09\xFF\x20\x82\xFF\xFF\xDF\x21\x90\x00" + "\x02\x6B\x00"))
	f.Add([]byte(ok + "\x02\x63\xC3" + ok + "\x02\x63\xCA" + ok + "\x02\x90\x00"))
	f.Add([]byte(ok + "\x02\x69\x84"))
	f.Add([]byte(ok + "\x01\x90"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ops := []func(c *Client) error{
			func(c *Client) error { _, err := c.MyNumber("1234"); return err },
			func(c *Client) error { _, err := c.FactsWithCodeB(testCodeB); return err },
			func(c *Client) error { _, err := c.VerifyIntegrity(); return err },
			func(c *Client) error { _, err := c.FaceData(MyNumber(testMyNumber)); return err },
			func(c *Client) error { _, err := c.PINStatus(); return err },
			func(c *Client) error { _, err := c.PINStatusSFI(); return err },
			func(c *Client) error { _, err := c.BasicInfo(); return err },
			func(c *Client) error { _, err := c.Certificate(); return err },
		}
		for _, op := range ops {
			r := &replay{t: t, in: in}
			_ = op(New(r))
			if r.sent > len(in)+8 {
				t.Fatalf("%d commands for %d input bytes", r.sent, len(in))
			}
		}
	})
}
