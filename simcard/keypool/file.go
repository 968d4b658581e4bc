package keypool

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// EnvFile names a PEM file that the process-wide pools (Shared,
// SharedRoots) take their keys from, so that the processes of one test run
// (ginkgo -p, the packages of go test ./...) generate the keys once
// instead of once each (docs/suites.md, "In parallel"): the first process
// to find the file missing generates them and writes it, under a lock
// beside it; the others wait for it and read it. The keys are test keys of
// simulated cards, like the fuzz targets' fixture.
const EnvFile = "MYNAHIL_KEYPOOL_FILE"

var loadOnce sync.Once

// loadShared fills the shared pools from $MYNAHIL_KEYPOOL_FILE once, when
// it is set. A file that cannot be read or written leaves the pools to
// generate their own keys, with a line on stderr: it only costs time.
func loadShared() {
	loadOnce.Do(func() {
		path := os.Getenv(EnvFile)
		if path == "" {
			return
		}
		keys, err := LoadOrCreateFile(path, shared.Size+roots.Size)
		if err != nil {
			fmt.Fprintf(os.Stderr, "keypool: %v; generating keys in this process\\n", err)
			return
		}
		shared.mu.Lock()
		shared.keys = keys[:shared.Size]
		shared.mu.Unlock()
		roots.mu.Lock()
		roots.keys = keys[shared.Size : shared.Size+roots.Size]
		roots.mu.Unlock()
	})
}

// LoadOrCreateFile returns n keys from the PEM file at path, generating
// and writing them first (atomically, under path+".lock") when the file
// is missing or holds fewer.
func LoadOrCreateFile(path string, n int) ([]*rsa.PrivateKey, error) {
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking the key file: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("locking the key file: %w", err)
	}
	if b, err := os.ReadFile(path); err == nil {
		keys, err := ParsePEM(b)
		if err != nil {
			return nil, fmt.Errorf("reading the key file %s: %w", path, err)
		}
		if len(keys) >= n {
			return keys[:n], nil
		}
	}
	var buf bytes.Buffer
	keys := make([]*rsa.PrivateKey, n)
	for i := range keys {
		if keys[i], err = (Fresh{}).Key(); err != nil {
			return nil, err
		}
		_ = pem.Encode(&buf, &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(keys[i])})
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keypool-*")
	if err != nil {
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("writing the key file: %w", err)
	}
	return keys, nil
}
