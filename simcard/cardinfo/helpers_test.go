package cardinfo_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"sync"
	"testing"

	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/cardinfo"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/profile"
)

var (
	appletsOnce sync.Once
	applets     *cardinfo.Applets
	appletsErr  error
)

// shared returns one Applets for the whole test binary: its keys come from
// the process-wide pool.
func shared(t testing.TB) *cardinfo.Applets {
	t.Helper()
	appletsOnce.Do(func() { applets, appletsErr = cardinfo.New(keypool.Shared()) })
	if appletsErr != nil {
		t.Fatal(appletsErr)
	}
	return applets
}

var saltN byte

// salt is a deterministic, never-empty salt source for tests.
func salt() []byte {
	saltN++
	b := make([]byte, 16)
	for i := range b {
		b[i] = saltN + byte(i)*37
	}
	return b
}

// build issues the applets for p into a fresh state.
func build(t testing.TB, p profile.Profile) *card.State {
	t.Helper()
	dfs, err := shared(t).Build(p, salt)
	if err != nil {
		t.Fatal(err)
	}
	return &card.State{DFs: dfs}
}

func file(t testing.TB, st *card.State, aid []byte, id uint16) []byte {
	t.Helper()
	df := st.DF(aid)
	if df == nil {
		t.Fatalf("no DF % X", aid)
	}
	f := df.File(id)
	if f == nil {
		t.Fatalf("no EF %04X in % X", id, aid)
	}
	return f.Data
}

// fields decodes a constructed file's outer object and its fields by tag.
func fields(t testing.TB, b []byte, outer uint32) map[uint32]cardinfo.Object {
	t.Helper()
	o, _, err := cardinfo.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if o.Tag != outer {
		t.Fatalf("outer tag %X, want %X", o.Tag, outer)
	}
	objs, err := cardinfo.DecodeAll(o.Value)
	if err != nil {
		t.Fatal(err)
	}
	m := map[uint32]cardinfo.Object{}
	for _, x := range objs {
		m[x.Tag] = x
	}
	return m
}

// publicKey decodes 90 exponent, 91 modulus.
func publicKey(t testing.TB, b []byte) *rsa.PublicKey {
	t.Helper()
	objs, err := cardinfo.DecodeAll(b)
	if err != nil || len(objs) != 2 || objs[0].Tag != 0x90 || objs[1].Tag != 0x91 {
		t.Fatalf("not a 90/91 public key: %v", err)
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(objs[1].Value), E: int(new(big.Int).SetBytes(objs[0].Value).Int64())}
}

// certifiedKey checks a 7F21 certificate against the CA and returns the key
// it certifies.
func certifiedKey(t testing.TB, cert []byte, ca *rsa.PublicKey) *rsa.PublicKey {
	t.Helper()
	if len(cert) != 568 {
		t.Fatalf("certificate is %d bytes, want 568", len(cert))
	}
	f := fields(t, cert, 0x7F21)
	body, sig := f[0x5F4E].Value, f[0x5F37].Value
	if len(body) != 297 || len(sig) != 256 {
		t.Fatalf("body %d bytes, signature %d bytes", len(body), len(sig))
	}
	if err := verify(ca, body, sig); err != nil {
		t.Fatalf("certificate signature: %v", err)
	}
	return publicKey(t, body[32:])
}

func verify(pub *rsa.PublicKey, msg, sig []byte) error {
	h := sha256.Sum256(msg)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}
