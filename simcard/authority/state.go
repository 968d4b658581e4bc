package authority

import (
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
)

// stateVersion is the version of the encoding Marshal writes.
const stateVersion = 1

type caState struct {
	Cert []byte `json:"cert"` // DER
	Key  []byte `json:"key"`  // PKCS#1 DER
}

type crlNumbers struct {
	Number     int64     `json:"number"`
	ThisUpdate time.Time `json:"this_update,omitzero"`
}

type stateFile struct {
	Version int                 `json:"version"`
	AuthCA  caState             `json:"auth_ca"`
	SignCA  caState             `json:"sign_ca"`
	Serial  int64               `json:"serial"`
	Records []*Record           `json:"records"`
	CRLs    map[Kind]crlNumbers `json:"crls,omitempty"`
}

// Marshal encodes the whole authority: root keys and certificates, the
// serial counter, the certificate database and the CRL numbers. The output
// holds private keys: store it with mode 0600 (store.WriteFile does).
func (a *Authority) Marshal() ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.marshal()
}

func (a *Authority) sortedRecords() []*Record {
	out := make([]*Record, 0, len(a.db))
	for _, r := range a.db {
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y *Record) int { return int(x.Serial - y.Serial) })
	return out
}

func (a *Authority) marshal() ([]byte, error) {
	st := stateFile{
		Version: stateVersion,
		AuthCA:  caState{a.AuthCA.Cert.Raw, x509.MarshalPKCS1PrivateKey(a.AuthCA.Key)},
		SignCA:  caState{a.SignCA.Cert.Raw, x509.MarshalPKCS1PrivateKey(a.SignCA.Key)},
		Serial:  a.serial,
		Records: a.sortedRecords(),
		CRLs:    map[Kind]crlNumbers{},
	}
	for k, c := range a.crls {
		st.CRLs[k] = crlNumbers{c.Number, c.ThisUpdate}
	}
	b, err := json.Marshal(&st)
	if err != nil {
		return nil, fmt.Errorf("encoding authority state: %w", err)
	}
	return b, nil
}

// Load decodes an authority written by Marshal. CRLs are re-signed on first
// use, continuing the stored CRL numbers.
func Load(data []byte, c clock.Clock) (*Authority, error) {
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decoding authority state: %w", err)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("checking authority state: %w", err)
	}
	a := &Authority{Clock: c, serial: st.Serial, db: map[int64]*Record{}, crls: map[Kind]*crlState{}}
	var err error
	if a.AuthCA, err = loadCA(st.AuthCA); err != nil {
		return nil, fmt.Errorf("decoding authority state: auth root: %w", err)
	}
	if a.SignCA, err = loadCA(st.SignCA); err != nil {
		return nil, fmt.Errorf("decoding authority state: sign root: %w", err)
	}
	for _, r := range st.Records {
		if r == nil || r.Serial <= 0 || r.Serial > st.Serial || (r.Kind != Auth && r.Kind != Sign) {
			return nil, fmt.Errorf("decoding authority state: malformed certificate record")
		}
		if _, dup := a.db[r.Serial]; dup {
			return nil, fmt.Errorf("decoding authority state: serial %d recorded twice", r.Serial)
		}
		a.db[r.Serial] = r
	}
	for k, n := range st.CRLs {
		if k != Auth && k != Sign {
			return nil, fmt.Errorf("decoding authority state: CRL of unknown kind %q", k)
		}
		// NextUpdate stays zero: the first CRL request re-signs.
		a.crls[k] = &crlState{Number: n.Number, ThisUpdate: n.ThisUpdate}
	}
	return a, nil
}

func loadCA(s caState) (*CA, error) {
	cert, err := x509.ParseCertificate(s.Cert)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	key, err := x509.ParsePKCS1PrivateKey(s.Key)
	if err != nil {
		return nil, fmt.Errorf("parsing key: %w", err)
	}
	// The roots are RSA-2048 (docs/card.md §7); a huge key from a damaged
	// file would make every CRL and OCSP answer take seconds.
	if n := key.N.BitLen(); n > 4096 {
		return nil, fmt.Errorf("key: RSA-%d, want at most RSA-4096", n)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("key does not match certificate")
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Persist makes the authority store itself through save after every change
// (issuance, binding, revocation, a new CRL number), and stores it once now.
// Pass store.File{Path: ...}.Save for crash-safe files.
func (a *Authority) Persist(save func([]byte) error) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.persist = save
	return a.save()
}

// save hands the state to the persister; callers hold a.mu.
func (a *Authority) save() error {
	if a.persist == nil {
		return nil
	}
	b, err := a.marshal()
	if err != nil {
		return err
	}
	if err := a.persist(b); err != nil {
		return fmt.Errorf("persisting authority: %w", err)
	}
	return nil
}
