package jpkiclient

import (
	"crypto"
	"errors"
	"testing"
)

// replay is a Transport that answers from a fuzzer's byte string: each
// response is a length byte followed by that many bytes. It fails the test if
// the client keeps sending after the input is used up, which would be a hang
// against a real card that keeps answering the same way.
type replay struct {
	t     *testing.T
	in    []byte
	sent  int
	ended int
}

var errReplayEnded = errors.New("replay ended")

func (r *replay) Transmit(cmd []byte) ([]byte, error) {
	r.sent++
	if len(r.in) == 0 {
		if r.ended++; r.ended > 8 {
			r.t.Fatalf("client kept transmitting after %d errors", r.ended)
		}
		return nil, errReplayEnded
	}
	n := int(r.in[0])
	r.in = r.in[1:]
	n = min(n, len(r.in))
	resp := r.in[:n]
	r.in = r.in[n:]
	return resp, nil
}

// FuzzClient drives every client operation against arbitrary card answers:
// none may panic, and each must end with a result or an error.
func FuzzClient(f *testing.F) {
	f.Add([]byte("\x02\x90\x00\x06\x30\x82\x01\x00\x90\x00\x02\x6b\x00"))
	f.Add([]byte("\x02\x90\x00\x02\x63\xc3"))
	f.Add([]byte("\x02\x90\x00\x02\x90\x00"))
	f.Add([]byte("\x02\x90\x00\x05\x8f\x8f\x00\x90\x00"))
	f.Add([]byte("\x02\x90\x00\x01\x90"))
	f.Add([]byte("\x02\x90\x00\x06\x30\x83\x01\x00\x90\x00\x0a\x30\x83\x01\x00\x00\x00\x00\x00\x90\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ops := []func(c *Client) error{
			func(c *Client) error { _, _, err := c.ReadCertificate(AuthCert); return err },
			func(c *Client) error { _, err := c.TriesLeft(SignPIN); return err },
			func(c *Client) error { return c.ChangePIN(AuthPIN, "1234", "5678") },
			func(c *Client) error { _, err := c.Sign(AuthKey, make([]byte, 32), crypto.SHA256); return err },
			func(c *Client) error { return c.CheckToken() },
			func(c *Client) error { _, err := c.CertificatesPresent(); return err },
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
