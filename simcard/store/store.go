// Package store writes state files crash-safely: a new version is written to a
// temporary file in the same directory, fsynced, renamed over the old one and
// the directory fsynced, so after a crash a reader finds either the old or the
// new version, never a torn one. A Journal makes the writes of one operation
// to several files atomic together (journal.go).
package store

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mynahil/mynahil/internal/crashpoint"
)

// WriteFile replaces path with data atomically and durably, mode 0600 (state
// files hold keys).
func WriteFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating state directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating temporary state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing state file: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("syncing state directory: %w", err)
	}
	crashpoint.Wrote(path)
	return nil
}

// File is one state file; its Save method is a card.Persister. A File of a
// Journal (Journal.File) joins the journal's open transaction when that
// claims it.
type File struct {
	Path    string
	journal *Journal
}

// Save writes data crash-safely, or keeps it for the commit of the open
// transaction that claims the file.
func (f File) Save(data []byte) error {
	if f.journal != nil && f.journal.keep(f.Path, data) {
		return nil
	}
	return WriteFile(f.Path, data)
}

// Load reads the file; os.ErrNotExist when it was never written.
func (f File) Load() ([]byte, error) {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, fmt.Errorf("reading state file: %w", err)
	}
	return b, nil
}
