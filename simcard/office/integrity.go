package office

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/store"
)

// maxStateFile bounds every state file read: the largest real one (the
// authority after thousands of issuances) is a few megabytes.
const maxStateFile = 64 << 20

// remedy ends every refusal to open a damaged state directory
// (docs/reliability.md, "State files").
const remedy = "restore it from a backup, or move the state directory aside to start afresh with new cards (docs/reliability.md)"

// DamagedError is a state directory the office refuses to open: File is the
// file at fault and Field, when known, the field within it.
type DamagedError struct {
	File  string
	Field string
	Err   error
}

func (e *DamagedError) Error() string {
	what := e.File
	if e.Field != "" {
		what += ": " + e.Field
	}
	return fmt.Sprintf("state file %s: %v; %s", what, e.Err, remedy)
}

func (e *DamagedError) Unwrap() error { return e.Err }

func damaged(file string, err error) error { return &DamagedError{File: file, Err: err} }

// checkStateFiles refuses a state directory whose office registry or
// authority is missing while other state exists: opening it would issue a
// new card over the old card files and replace the authority's roots. It
// runs before anything is written.
func checkStateFiles(dir string, keyFiles []string) error {
	exists := func(name string) (bool, error) {
		_, err := os.Lstat(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	office, err := exists(officeFile)
	if err != nil {
		return fmt.Errorf("checking %s: %w", filepath.Join(dir, officeFile), err)
	}
	cards, err := filepath.Glob(filepath.Join(dir, cardsDir, "*.json"))
	if err != nil {
		return err
	}
	auth, err := exists(authorityFile)
	if err != nil {
		return fmt.Errorf("checking %s: %w", filepath.Join(dir, authorityFile), err)
	}
	if !office {
		switch {
		case len(cards) > 0:
			return damaged(filepath.Join(dir, officeFile), fmt.Errorf("missing, but %s holds %d card file(s) (%s…): the office will not issue over them",
				filepath.Join(dir, cardsDir), len(cards), filepath.Base(cards[0])))
		case auth:
			return damaged(filepath.Join(dir, officeFile), fmt.Errorf("missing, but %s exists: the office will not replace the authority", authorityFile))
		}
		return nil
	}
	if !auth {
		return damaged(filepath.Join(dir, authorityFile), errors.New("missing (root keys, certificate database, CRL numbers)"))
	}
	if len(cards) > 0 {
		for _, k := range keyFiles {
			ok, err := exists(k)
			if err != nil {
				return fmt.Errorf("checking %s: %w", filepath.Join(dir, k), err)
			}
			if !ok {
				return damaged(filepath.Join(dir, k), errors.New("missing (card-info CA keys of the issued cards)"))
			}
		}
	}
	return nil
}

// loadState reads a state file of at most maxStateFile bytes.
func loadState(f store.File) ([]byte, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxStateFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	if len(b) > maxStateFile {
		return nil, damaged(f.Path, fmt.Errorf("larger than %d bytes", maxStateFile))
	}
	return b, nil
}

var cardIDPattern = regexp.MustCompile(`^card-([1-9][0-9]{0,8})$`)

// validate checks the decoded registry field by field.
func (st *officeState) validate() error {
	if st.Version != stateVersion {
		return fmt.Errorf("version: %d, want %d", st.Version, stateVersion)
	}
	if st.NextID < len(st.Cards) {
		return fmt.Errorf("next_id: %d, below the %d cards registered", st.NextID, len(st.Cards))
	}
	if st.NextInquiry < len(st.Inquiries) {
		return fmt.Errorf("next_inquiry: %d, below the %d open inquiries", st.NextInquiry, len(st.Inquiries))
	}
	ids := map[string]bool{}
	for i, r := range st.Cards {
		if r == nil {
			return fmt.Errorf("cards[%d]: null", i)
		}
		m := cardIDPattern.FindStringSubmatch(r.ID)
		if m == nil {
			return fmt.Errorf("cards[%d].id: %q, want card-N", i, r.ID)
		}
		if n, _ := strconv.Atoi(m[1]); n > st.NextID {
			return fmt.Errorf("cards[%d].id: %s beyond next_id %d", i, r.ID, st.NextID)
		}
		if ids[r.ID] {
			return fmt.Errorf("cards[%d].id: %s registered twice", i, r.ID)
		}
		ids[r.ID] = true
		if err := r.validate(); err != nil {
			return fmt.Errorf("cards[%d] (%s).%w", i, r.ID, err)
		}
	}
	for i, q := range st.Inquiries {
		switch {
		case q == nil:
			return fmt.Errorf("inquiries[%d]: null", i)
		case !ids[q.CardID]:
			return fmt.Errorf("inquiries[%d].card: %q is not registered", i, q.CardID)
		case q.Operation != simapi.ProxyIssueCertificate && q.Operation != simapi.ProxyResetPIN:
			return fmt.Errorf("inquiries[%d].operation: %q unknown", i, q.Operation)
		case q.Kind != authority.Auth && q.Kind != authority.Sign:
			return fmt.Errorf("inquiries[%d].kind: %q unknown", i, q.Kind)
		}
	}
	return nil
}

func (r *cardRecord) validate() error {
	switch r.Status {
	case Active, Lost, Deceased, Abroad, Invalidated:
	default:
		return fmt.Errorf("status: %q unknown", r.Status)
	}
	if r.IssuedAt.IsZero() || r.Expiry.Before(r.IssuedAt) || r.Expiry.After(r.IssuedAt.AddDate(11, 0, 0)) {
		return fmt.Errorf("expiry: %s for a card issued %s, want within 10 years after issuance",
			r.Expiry.Format(time.DateOnly), r.IssuedAt.Format(time.DateOnly))
	}
	for name, s := range map[string]int64{"auth": r.Auth, "sign": r.Sign, "phone_auth": r.PhoneAuth, "phone_sign": r.PhoneSign} {
		if s < 0 {
			return fmt.Errorf("%s: serial %d is negative", name, s)
		}
	}
	return nil
}

func appletKeyFile(i int) string { return fmt.Sprintf("applet-keys-%d.json", i) }

// appletKeyFiles names the key files of the issuer's keyed applet sets.
func (o *Office) appletKeyFiles() []string {
	var out []string
	for i, extra := range o.issuer.Extra {
		if _, ok := extra.(keyedApplets); ok {
			out = append(out, appletKeyFile(i))
		}
	}
	return out
}

// refuseExisting keeps a new card from being written over a card file that
// the registry does not know (a registry restored from an old backup).
func refuseExisting(path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return damaged(path, errors.New("already exists although the registry does not list it: the office will not issue over it"))
	}
	return nil
}
