// Package keypool hands out RSA-2048 keys. Generating one costs tens of
// milliseconds, which dominates card issuance, so suites that issue many cards
// draw from a pool generated once per process; a profile can still ask for a
// fresh key.
package keypool

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
)

// Bits is the modulus size of every JPKI key (docs/card.md §6).
const Bits = 2048

// Source yields RSA private keys.
type Source interface {
	Key() (*rsa.PrivateKey, error)
}

// Fresh generates a new key on every call.
type Fresh struct{}

// Key generates a new RSA-2048 key.
func (Fresh) Key() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, Bits)
	if err != nil {
		return nil, fmt.Errorf("generating RSA-%d key: %w", Bits, err)
	}
	return k, nil
}

// Pool generates up to Size keys lazily, once, and then hands them out in
// turn: two consecutive calls never return the same key (while Size > 1), so a
// renewal always gets a key different from the one it replaces.
type Pool struct {
	Size int

	mu   sync.Mutex
	keys []*rsa.PrivateKey
	next int
}

// NewPool returns a pool of size keys.
func NewPool(size int) *Pool {
	if size < 2 {
		size = 2
	}
	return &Pool{Size: size}
}

// Key returns the next key of the pool, generating it on first use.
func (p *Pool) Key() (*rsa.PrivateKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.next % p.Size
	p.next++
	if i < len(p.keys) {
		return p.keys[i], nil
	}
	k, err := Fresh{}.Key()
	if err != nil {
		return nil, err
	}
	p.keys = append(p.keys, k)
	return k, nil
}

var (
	shared = NewPool(16)
	roots  = NewPool(8)
)

// Shared is a process-wide pool of 16 keys for the cards' keys in tests and
// demos.
func Shared() *Pool { loadShared(); return shared }

// SharedRoots is a separate process-wide pool for the authorities' own keys
// (roots, the card-info CAs), so that no card key ever equals a root key.
func SharedRoots() *Pool { loadShared(); return roots }

// Fill generates every key of the pool now, so that later calls cost
// nothing: tests whose steps run under a deadline call it first, so that
// key generation on a busy machine (seconds per key) never eats into that
// deadline.
func (p *Pool) Fill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.keys) < p.Size {
		k, err := Fresh{}.Key()
		if err != nil {
			return err
		}
		p.keys = append(p.keys, k)
	}
	return nil
}

// Filled returns a pool that hands out the given keys in turn and never
// generates one: for fuzz targets, whose instrumented math makes key
// generation take minutes, with keys kept in a test fixture.
func Filled(keys []*rsa.PrivateKey) *Pool {
	return &Pool{Size: len(keys), keys: keys}
}

// ParsePEM parses the "RSA PRIVATE KEY" blocks of a PEM file.
func ParsePEM(b []byte) ([]*rsa.PrivateKey, error) {
	var out []*rsa.PrivateKey
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return out, nil
		}
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing key %d: %w", len(out)+1, err)
		}
		out = append(out, k)
	}
}
