package simd

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/cardinfo"
)

// TestEndpointsPublishCardInfoCAs: office.endpoints gives the card-info
// CAs' public keys, the trust anchors a suite against a running daemon
// needs, and they are the keys the daemon's cards are certified with.
func TestEndpointsPublishCardInfoCAs(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	var ep simapi.Endpoints
	if err := r.client.Call(context.Background(), "office.endpoints", nil, &ep); err != nil {
		t.Fatal(err)
	}
	var a *cardinfo.Applets
	for _, x := range r.d.Issuer().Extra {
		if ap, ok := x.(*cardinfo.Applets); ok {
			a = ap
		}
	}
	for _, tc := range []struct {
		name string
		pem  string
		want *rsa.PublicKey
	}{{"text", ep.CardInfoTextCA, a.TextCA()}, {"visual", ep.CardInfoVisualCA, a.VisualCA()}} {
		b, _ := pem.Decode([]byte(tc.pem))
		if b == nil || b.Type != "PUBLIC KEY" {
			t.Errorf("%s CA: no PUBLIC KEY block in %q", tc.name, tc.pem)
			continue
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil || !tc.want.Equal(k) {
			t.Errorf("%s CA: %v, %v; want the issuer's key", tc.name, k, err)
		}
	}
}
