package jpkiclient

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync"
	"testing"
)

var (
	testKeyOnce sync.Once
	testKey     *rsa.PrivateKey
)

// rsaKey returns one RSA-2048 key shared by the package's tests.
func rsaKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

// encodedMessage undoes the RSA operation of a PKCS#1 v1.5 signature and
// returns the encoded message EM = 00 01 FF.. 00 T (RFC 8017 §9.2).
func encodedMessage(t *testing.T, pub *rsa.PublicKey, sig []byte) []byte {
	t.Helper()
	m := new(big.Int).Exp(new(big.Int).SetBytes(sig), big.NewInt(int64(pub.E)), pub.N)
	return m.FillBytes(make([]byte, pub.Size()))
}

var hashes = []crypto.Hash{crypto.SHA256, crypto.SHA384, crypto.SHA512}

// TestDigestInfoMatchesCryptoRSA checks the hand-written prefixes against
// what crypto/rsa puts inside a PKCS#1 v1.5 signature.
func TestDigestInfoMatchesCryptoRSA(t *testing.T) {
	key := rsaKey(t)
	for _, h := range hashes {
		t.Run(h.String(), func(t *testing.T) {
			hh := h.New()
			hh.Write([]byte("mynahil"))
			digest := hh.Sum(nil)
			sig, err := rsa.SignPKCS1v15(nil, key, h, digest)
			if err != nil {
				t.Fatal(err)
			}
			di, err := DigestInfo(h, digest)
			if err != nil {
				t.Fatal(err)
			}
			em := encodedMessage(t, &key.PublicKey, sig)
			if !bytes.HasSuffix(em, di) {
				t.Fatalf("crypto/rsa encoded\n  % X\nwhich does not end in our DigestInfo\n  % X", em, di)
			}
			if p := em[:len(em)-len(di)]; p[0] != 0 || p[1] != 1 || p[len(p)-1] != 0 {
				t.Errorf("unexpected padding % X", p)
			}
		})
	}
}

// TestDigestInfoMatchesASN1 checks the prefixes against encoding/asn1, an
// encoder that shares no code with crypto/rsa's table.
func TestDigestInfoMatchesASN1(t *testing.T) {
	oids := map[crypto.Hash]asn1.ObjectIdentifier{
		crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
		crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
		crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
	}
	for _, h := range hashes {
		t.Run(h.String(), func(t *testing.T) {
			digest := bytes.Repeat([]byte{0x5A}, h.Size())
			want, err := asn1.Marshal(struct {
				Alg    pkix.AlgorithmIdentifier
				Digest []byte
			}{pkix.AlgorithmIdentifier{Algorithm: oids[h], Parameters: asn1.NullRawValue}, digest})
			if err != nil {
				t.Fatal(err)
			}
			got, err := DigestInfo(h, digest)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("DigestInfo = % X, %v\nwant % X", got, err, want)
			}
		})
	}
}

func TestDigestInfoErrors(t *testing.T) {
	if _, err := DigestInfo(crypto.SHA1, make([]byte, 20)); err == nil {
		t.Error("SHA-1 accepted")
	}
	if _, err := DigestInfo(crypto.SHA256, make([]byte, 31)); err == nil {
		t.Error("31-byte SHA-256 digest accepted")
	}
	if got, _ := DigestInfo(crypto.SHA512, make([]byte, 64)); len(got) != 83 {
		t.Errorf("SHA-512 DigestInfo has %d bytes, docs/card.md §7 says 83", len(got))
	}
}
