package jpkiclient

import (
	"crypto"
	"fmt"
)

// DER prefixes of DigestInfo ::= SEQUENCE { AlgorithmIdentifier { OID, NULL },
// OCTET STRING digest } (RFC 8017 §9.2 note 1), for the hashes clients use
// with the JPKI card (docs/card.md §4.2, myna-go common.go). Written out here
// rather than taken from crypto/rsa, so that the harness checks the card
// against an independent encoding.
var digestInfoPrefix = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// DigestInfo returns the DER DigestInfo for digest, the input the card's
// COMPUTE DIGITAL SIGNATURE (80 2A, P1=00) pads with PKCS#1 v1.5 type 1
// (docs/card.md §5.6). Supported: SHA-256, SHA-384, SHA-512.
func DigestInfo(hash crypto.Hash, digest []byte) ([]byte, error) {
	prefix, ok := digestInfoPrefix[hash]
	if !ok {
		return nil, fmt.Errorf("building DigestInfo: unsupported hash %v", hash)
	}
	if len(digest) != hash.Size() {
		return nil, fmt.Errorf("building DigestInfo: %v digest of %d bytes, want %d", hash, len(digest), hash.Size())
	}
	return append(append(make([]byte, 0, len(prefix)+len(digest)), prefix...), digest...), nil
}
