package authority

import (
	"crypto/x509"
	"fmt"
)

// validate checks a decoded state file field by field, naming the field in
// the error: counters within range, each record's kind, status, reason,
// device and certificate consistent (RFC 5280 §5.3.1 for the reasons).
func (st *stateFile) validate() error {
	if st.Version != stateVersion {
		return fmt.Errorf("version %d, want %d", st.Version, stateVersion)
	}
	if st.Serial < 0 {
		return fmt.Errorf("serial: %d is negative", st.Serial)
	}
	for i, r := range st.Records {
		if r == nil {
			return fmt.Errorf("records[%d]: null", i)
		}
		if err := r.validate(st.Serial); err != nil {
			return fmt.Errorf("records[%d] (serial %d): %w", i, r.Serial, err)
		}
	}
	for k, n := range st.CRLs {
		if k != Auth && k != Sign {
			return fmt.Errorf("crls: unknown kind %q", k)
		}
		if n.Number < 0 {
			return fmt.Errorf("crls.%s.number: %d is negative", k, n.Number)
		}
	}
	return nil
}

func (r *Record) validate(maxSerial int64) error {
	switch {
	case r.Serial <= 0 || r.Serial > maxSerial:
		return fmt.Errorf("serial: %d, want 1–%d (the authority's serial counter)", r.Serial, maxSerial)
	case r.Kind != Auth && r.Kind != Sign:
		return fmt.Errorf("kind: %q, want %q or %q", r.Kind, Auth, Sign)
	case r.Device != "" && r.Device != OnCard && r.Device != Smartphone:
		return fmt.Errorf("device: %q, want %q or %q", r.Device, OnCard, Smartphone)
	case r.Status != Good && r.Status != Revoked:
		return fmt.Errorf("status: %q, want %q or %q", r.Status, Good, Revoked)
	case !r.Reason.Valid():
		return fmt.Errorf("reason: %d is not an RFC 5280 CRLReason", int(r.Reason))
	case r.Status == Revoked && r.RevokedAt.IsZero():
		return fmt.Errorf("revoked_at: missing for a revoked certificate")
	case r.Status == Good && (!r.RevokedAt.IsZero() || r.Reason != Unspecified):
		return fmt.Errorf("revoked_at/reason: set on a certificate that is not revoked")
	case r.NotAfter.Before(r.NotBefore):
		return fmt.Errorf("not_after: %v before not_before %v", r.NotAfter, r.NotBefore)
	}
	cert, err := x509.ParseCertificate(r.DER)
	if err != nil {
		return fmt.Errorf("der: %w", err)
	}
	if !cert.SerialNumber.IsInt64() || cert.SerialNumber.Int64() != r.Serial {
		return fmt.Errorf("der: certificate serial %v, record says %d", cert.SerialNumber, r.Serial)
	}
	return nil
}
