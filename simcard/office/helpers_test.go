package office_test

import "crypto/x509"

func x509ParseCRL(der []byte) (*x509.RevocationList, error) { return x509.ParseRevocationList(der) }
