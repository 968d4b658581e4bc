package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/mynahil/mynahil/internal/crashpoint"
)

// IntentFile is the journal's intent record in its directory.
const IntentFile = "intent.json"

// maxIntent bounds the intent read at start-up: it holds at most a few
// state files, each bounded by the reader of its own (64 MiB).
const maxIntent = 256 << 20

// Journal makes the writes of one operation to several files of a state
// directory atomic together. Begin opens a transaction over the files it
// claims; until Commit, a Save of a claimed file (made through
// Journal.File) is kept in memory. Commit writes every kept file into one
// intent record first — a single crash-safe write, so after a crash it is
// there whole or not at all — then each file, then removes the intent.
// Recover, at start-up, finishes an intent a crash left behind: after a
// crash at any moment the directory holds every write of the operation or
// none of them.
//
// Saves of files the transaction does not claim (another card's PIN
// counter, changed by a command while the office works on this card) go to
// disk at once, as they would without a journal: a command's state is
// stored before it answers (card.Persister).
type Journal struct {
	dir string
	tx  sync.Mutex // held from Begin to the end of Commit: one transaction at a time

	mu      sync.Mutex
	claimed map[string]bool // nil while no transaction is open
	kept    map[string][]byte
	order   []string // kept paths in the order of their first Save
}

// NewJournal returns the journal of a state directory.
func NewJournal(dir string) *Journal { return &Journal{dir: dir} }

// File is the state file name (relative to the journal's directory) whose
// saves join the transaction that claims it.
func (j *Journal) File(name string) File {
	return File{Path: filepath.Join(j.dir, name), journal: j}
}

// Begin opens a transaction over files, waiting for an open one to be
// committed. Every Begin needs its Commit.
func (j *Journal) Begin(files ...File) {
	j.tx.Lock()
	j.mu.Lock()
	defer j.mu.Unlock()
	j.claimed = make(map[string]bool, len(files))
	for _, f := range files {
		j.claimed[f.Path] = true
	}
	j.kept = map[string][]byte{}
	j.order = nil
}

// keep holds data for the open transaction if it claims path.
func (j *Journal) keep(path string, data []byte) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.claimed[path] {
		return false
	}
	if _, ok := j.kept[path]; !ok {
		j.order = append(j.order, path)
	}
	j.kept[path] = slices.Clone(data)
	return true
}

// Commit stores every save kept since Begin, atomically, and ends the
// transaction. A save of a claimed file that arrives while Commit writes is
// stored after it. On an error the files hold either the old versions or,
// once the intent is down, the new ones by the next Recover.
func (j *Journal) Commit() error {
	defer j.tx.Unlock()
	var firstErr error
	for {
		j.mu.Lock()
		kept, order := j.kept, j.order
		j.kept, j.order = map[string][]byte{}, nil
		if len(kept) == 0 {
			j.claimed = nil
			j.mu.Unlock()
			return firstErr
		}
		j.mu.Unlock()
		if err := j.write(kept, order); err != nil && firstErr == nil {
			firstErr = err
		}
	}
}

// intent is the intent record: the new contents of every file of a
// transaction, by name relative to the journal's directory.
type intent struct {
	Files []intentFile `json:"files"`
}

type intentFile struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// write stores one batch: a single file directly (its own write is
// atomic), several through the intent.
func (j *Journal) write(kept map[string][]byte, order []string) error {
	if len(order) == 1 {
		return WriteFile(order[0], kept[order[0]])
	}
	var in intent
	for _, p := range order {
		rel, err := filepath.Rel(j.dir, p)
		if err != nil {
			return fmt.Errorf("recording intent: %w", err)
		}
		in.Files = append(in.Files, intentFile{Name: rel, Data: kept[p]})
	}
	b, err := json.Marshal(&in)
	if err != nil {
		return fmt.Errorf("recording intent: %w", err)
	}
	if err := WriteFile(filepath.Join(j.dir, IntentFile), b); err != nil {
		return fmt.Errorf("recording intent: %w", err)
	}
	return j.apply(in)
}

// apply writes every file of an intent, then removes it.
func (j *Journal) apply(in intent) error {
	for _, f := range in.Files {
		if err := WriteFile(filepath.Join(j.dir, f.Name), f.Data); err != nil {
			return fmt.Errorf("completing intent: %w", err)
		}
	}
	path := filepath.Join(j.dir, IntentFile)
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("completing intent: %w", err)
	}
	if err := syncDir(j.dir); err != nil {
		return fmt.Errorf("completing intent: %w", err)
	}
	crashpoint.Wrote(path)
	return nil
}

// ErrBadIntent marks an intent record that cannot be completed: damaged
// by hand, since the journal writes it in one crash-safe write.
var ErrBadIntent = errors.New("damaged intent record")

// Recover completes the intent a crash left in the directory, if any, and
// returns the names of the files it wrote. Call it before reading any state
// file.
func (j *Journal) Recover() ([]string, error) {
	path := filepath.Join(j.dir, IntentFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading intent: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxIntent+1))
	if err != nil {
		return nil, fmt.Errorf("reading intent: %w", err)
	}
	if len(b) > maxIntent {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBadIntent, maxIntent)
	}
	var in intent
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadIntent, err)
	}
	if len(in.Files) == 0 {
		return nil, fmt.Errorf("%w: files: none", ErrBadIntent)
	}
	var names []string
	for i, f := range in.Files {
		if !filepath.IsLocal(f.Name) || filepath.Clean(f.Name) != f.Name || f.Name == IntentFile || strings.HasPrefix(filepath.Base(f.Name), ".") {
			return nil, fmt.Errorf("%w: files[%d].name: %q is not a state file of the directory", ErrBadIntent, i, f.Name)
		}
		names = append(names, f.Name)
	}
	return names, j.apply(in)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
