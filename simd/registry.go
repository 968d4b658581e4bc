package simd

import (
	"fmt"
	"github.com/mynahil/mynahil/control"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simcard/store"
)

// openRegistry opens the cards of dir. Interim until office.Open lands:
// chip state only, one store file per card.
func openRegistry(dir string, _ clock.Clock, issuer *simcard.Issuer) (registry, error) {
	r := &fileRegistry{dir: filepath.Join(dir, "cards"), issuer: issuer}
	entries, err := os.ReadDir(r.dir)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("reading cards: %w", err)
	}
	var ids []int
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !strings.HasPrefix(n, "card-") {
			continue
		}
		i, err := strconv.Atoi(strings.TrimPrefix(n, "card-"))
		if err == nil {
			ids = append(ids, i)
		}
	}
	sort.Ints(ids)
	for _, i := range ids {
		f := store.File{Path: filepath.Join(r.dir, fmt.Sprintf("card-%d.json", i))}
		b, err := f.Load()
		if err != nil {
			return nil, fmt.Errorf("loading card %d: %w", i, err)
		}
		chip, err := card.Load(b, card.WithPersister(f.Save))
		if err != nil {
			return nil, fmt.Errorf("loading card %d: %w", i, err)
		}
		r.cards = append(r.cards, &office.Card{ID: fmt.Sprintf("card-%d", i), Chip: chip})
		r.next = i
	}
	return r, nil
}

type fileRegistry struct {
	dir    string
	issuer *simcard.Issuer
	mu     sync.Mutex
	cards  []*office.Card
	next   int
}

func (r *fileRegistry) Cards() []*office.Card {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*office.Card(nil), r.cards...)
}

func (r *fileRegistry) IssueCard(p profile.Profile) (*office.Card, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := fmt.Sprintf("card-%d", r.next+1)
	f := store.File{Path: filepath.Join(r.dir, id+".json")}
	is, err := r.issuer.Issue(p, card.WithPersister(f.Save))
	if err != nil {
		return nil, err
	}
	b, err := is.Card.Marshal()
	if err != nil {
		return nil, err
	}
	if err := f.Save(b); err != nil {
		return nil, err
	}
	r.next++
	c := &office.Card{ID: id, Chip: is.Card}
	r.cards = append(r.cards, c)
	return c, nil
}

func (r *fileRegistry) registerControl(*control.Server) {}

func (r *fileRegistry) Close() error { return nil }
