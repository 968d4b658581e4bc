package conformance

// The JPKI flow end to end: R17.
// Each check's failure branches and the fault profiles that prove them are
// listed in docs/conformance-checklist.md.

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"time"

	"github.com/mynahil/mynahil/harness/apduclient"
	"github.com/mynahil/mynahil/harness/jpkiclient"
	"github.com/mynahil/mynahil/harness/pcsc"
)

// checkR17 is check R17 (the full JPKI flow a client runs) of docs/conformance-checklist.md. Its
// steps are the checklist item's, in its order, each recording what it
// saw: it reads better whole, beside the checklist, than split into
// helpers.
func checkR17(t *T) {
	s := t.open(pcsc.Shared)
	defer func() { _ = s.close() }()
	c := jpkiclient.New(transport{s})
	if err := c.SelectAP(); err != nil {
		t.Fatalf("%v", err)
	}
	certs := map[jpkiclient.Cert][]byte{}
	for _, k := range []jpkiclient.Cert{jpkiclient.AuthCert, jpkiclient.AuthCACert, jpkiclient.SignCACert} {
		_, der, err := c.ReadCertificate(k)
		if err != nil {
			t.Fatalf("reading the %v: %v", k, err)
		}
		certs[k] = der
		t.Record(k.String(), "%d bytes", len(der))
	}
	auth, err := x509.ParseCertificate(certs[jpkiclient.AuthCert])
	if err != nil {
		t.Fatalf("parsing the auth certificate: %v", err)
	}
	authCA, err := x509.ParseCertificate(certs[jpkiclient.AuthCACert])
	if err != nil {
		t.Fatalf("parsing the auth CA certificate: %v", err)
	}
	if err := auth.CheckSignatureFrom(authCA); err != nil {
		t.Errorf("the auth certificate is not signed by the auth CA certificate read from the card: %v", err)
	}
	for _, p := range []jpkiclient.PINRef{jpkiclient.AuthPIN, jpkiclient.SignPIN} {
		n, err := c.TriesLeft(p)
		if err != nil {
			t.Errorf("tries left for the %v: %v", p, err)
			continue
		}
		t.Record("tries left, "+p.String(), "%d of %d", n, p.MaxTries())
	}
	why := t.verifyPIN(s, jpkiclient.SignPIN)
	if why != "" {
		t.skipPIN("reading the sign certificate", jpkiclient.SignPIN, why)
	}
	if why == "" {
		if _, der, err := c.ReadCertificate(jpkiclient.SignCert); err != nil {
			t.Errorf("reading the sign certificate after VERIFY of the sign PIN: %v", err)
		} else {
			t.Record(jpkiclient.SignCert.String(), "%d bytes (sign PIN verified)", len(der))
		}
	} else if err := c.SelectEF(jpkiclient.EFSignCert); err != nil {
		t.Errorf("selecting the sign certificate: %v", err)
	} else {
		resp := t.xfer(s, readBinary(0, 7))
		t.Record("sign certificate without the sign PIN", "%s", describe(resp))
		if sw, _ := swOf(resp); sw != 0x6982 {
			t.Errorf("reading the sign certificate without the sign PIN: got %s, want 6982", describe(resp))
		}
	}
	h := sha256.Sum256([]byte("mynahil R17 " + time.Now().String()))
	if why := t.verifyAuthPIN(s); why != "" {
		t.skipPIN("signing with the auth key", jpkiclient.AuthPIN, why)
		if err := c.SelectAP(); err != nil {
			t.Fatalf("%v", err)
		}
		_, err := c.Sign(jpkiclient.AuthKey, h[:], crypto.SHA256)
		if !isSW(err, 0x6982) {
			t.Errorf("signing without the auth PIN: got %v, want 6982", err)
		}
		return
	}
	n, err := c.TriesLeft(jpkiclient.AuthPIN)
	if err != nil || n != jpkiclient.AuthPIN.MaxTries() {
		t.Errorf("after VERIFY the auth PIN should have %d tries: got %d (%v)", jpkiclient.AuthPIN.MaxTries(), n, err)
	}
	start := time.Now()
	sig, err := c.Sign(jpkiclient.AuthKey, h[:], crypto.SHA256)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	t.Ms("signature", time.Since(start))
	pub, _ := auth.PublicKey.(*rsa.PublicKey)
	if pub == nil {
		t.Fatalf("the auth certificate's key is not RSA")
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Errorf("the signature does not verify with the auth certificate: %v", err)
	}
}

func isSW(err error, sw uint16) bool {
	got, ok := apduclient.StatusOf(err)
	return ok && got == sw
}

// transport adapts a session to harness.Transport for the JPKI client.
type transport struct{ s *session }

func (t transport) Transmit(cmd []byte) ([]byte, error) {
	resp, _, err := chained(t.s, cmd)
	return resp, err
}

func (t transport) ATR() ([]byte, error) {
	st, err := t.s.status()
	if err != nil {
		return nil, err
	}
	return st.ATR, nil
}

func (t transport) Reset() error { return t.s.reconnect(pcsc.ResetCard) }

func (t transport) Close() error { return nil }
