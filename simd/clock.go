package simd

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/store"
)

// Clock specs for Config.ClockSpec and 'mynahil sim --clock'.
const (
	// ClockWall runs the daemon on the wall clock (the default for a new
	// state directory).
	ClockWall = "wall"
	// ClockVirtual, alone, continues the state directory's virtual clock
	// (or starts one at the wall clock's now); "virtual:T" starts it at T
	// (RFC 3339, or YYYY-MM-DD for midnight JST).
	ClockVirtual = "virtual"
)

// RuleClockConflict refuses a --clock that contradicts the clock kept in
// the state directory.
const RuleClockConflict = "sim.clock-conflict"

// ErrBadClock marks an Open error caused by Config.ClockSpec: a spec that
// does not parse, or one that contradicts the state directory's clock. It
// is the caller's usage error (the CLI's exit code 2), not the
// environment's.
var ErrBadClock = errors.New("bad --clock")

// clockFile keeps the daemon's clock in the state directory.
const clockFile = "clock.json"

// clockState is clock.json: which clock the state directory runs on and,
// for a virtual clock, where it stands.
type clockState struct {
	Kind string    `json:"kind"` // ClockWall or ClockVirtual
	Now  time.Time `json:"now,omitzero"`
}

// parseClockSpec splits a clock spec into its kind and, for "virtual:T",
// the start time.
func parseClockSpec(spec string) (kind string, start time.Time, err error) {
	kind, at, hasAt := strings.Cut(spec, ":")
	switch {
	case spec == "":
		return "", time.Time{}, nil
	case kind == ClockWall && !hasAt:
		return ClockWall, time.Time{}, nil
	case kind == ClockVirtual && !hasAt:
		return ClockVirtual, time.Time{}, nil
	case kind == ClockVirtual:
		t, err := ParseTime(at)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("parsing clock %q: %w: %w", spec, ErrBadClock, err)
		}
		return ClockVirtual, t, nil
	}
	return "", time.Time{}, fmt.Errorf("parsing clock %q: %w: want wall, virtual or virtual:2026-04-01T09:00:00+09:00", spec, ErrBadClock)
}

// ParseTime reads a time as the office does: RFC 3339, or YYYY-MM-DD for
// midnight JST.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, clock.JST); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339 (2026-04-01T09:00:00+09:00) or YYYY-MM-DD", s)
}

// daemonClock is the clock a daemon runs on and, for a virtual one, how it
// is kept.
type daemonClock struct {
	clock.Clock
	file store.File // zero when the clock is not kept (wall clock, Config.Clock)
}

// save stores a virtual clock's time t, before the clock moves to it
// (office.Office.KeepClock); a no-op for the others.
func (c daemonClock) save(t time.Time) error {
	if _, ok := c.Clock.(*clock.Virtual); !ok || c.file.Path == "" {
		return nil
	}
	b, err := json.Marshal(clockState{Kind: ClockVirtual, Now: t})
	if err != nil {
		return fmt.Errorf("encoding clock: %w", err)
	}
	if err := c.file.Save(b); err != nil {
		return fmt.Errorf("saving clock: %w", err)
	}
	return nil
}

// openClock decides the daemon's clock from cfg and the state directory:
//
//   - Config.Clock, when set, is used as it is and not kept (tests).
//   - A state directory with a virtual clock continues it; --clock wall or
//     a virtual:T at another time is refused (move it with office.time).
//   - A state directory whose clock.json says wall runs on the wall clock;
//     --clock virtual… is refused (its certificates were issued at
//     wall-clock times).
//   - A state directory that holds an office but no clock.json is refused,
//     as a lost office.json is: which clock it ran on is lost.
//   - A new state directory takes --clock (default wall) and keeps it.
func openClock(cfg Config) (daemonClock, error) {
	if cfg.Clock != nil {
		if cfg.ClockSpec != "" {
			return daemonClock{}, fmt.Errorf("setting clock: %w: give Config.Clock or Config.ClockSpec, not both", ErrBadClock)
		}
		return daemonClock{Clock: cfg.Clock}, nil
	}
	kind, start, err := parseClockSpec(cfg.ClockSpec)
	if err != nil {
		return daemonClock{}, err
	}
	f := store.File{Path: filepath.Join(cfg.StateDir, clockFile)}
	stored, err := loadClock(f, cfg.StateDir)
	if err != nil {
		return daemonClock{}, err
	}
	if stored != nil {
		return continueClock(cfg, f, *stored, kind, start)
	}
	if kind != ClockVirtual {
		b, _ := json.Marshal(clockState{Kind: ClockWall})
		if err := f.Save(b); err != nil {
			return daemonClock{}, fmt.Errorf("saving clock: %w", err)
		}
		return daemonClock{Clock: clock.Real{}}, nil
	}
	if start.IsZero() {
		start = time.Now()
	}
	start = start.Truncate(time.Second)
	c := daemonClock{Clock: clock.NewVirtual(start), file: f}
	return c, c.save(start)
}

// loadClock reads clock.json: nil when the directory is new, an error when
// it is malformed or lost beside an office.
func loadClock(f store.File, stateDir string) (*clockState, error) {
	b, err := f.Load()
	switch {
	case err == nil:
		var st clockState
		if err := json.Unmarshal(b, &st); err != nil || (st.Kind != ClockWall && st.Kind != ClockVirtual) ||
			(st.Kind == ClockVirtual && st.Now.IsZero()) {
			return nil, fmt.Errorf("reading clock: %s is malformed", f.Path)
		}
		return &st, nil
	case errors.Is(err, os.ErrNotExist):
		// A directory with an office always has its clock: without it, a
		// virtual 2031 would silently restart at the wall clock's time.
		if _, err := os.Lstat(filepath.Join(stateDir, officeFile)); !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("reading clock: %s is missing, but the state directory holds an office (%s): "+
				"restore it from a backup, or write {\"kind\":\"virtual\",\"now\":\"…\"} (or {\"kind\":\"wall\"}) by hand, "+
				"or move the state directory aside to start afresh (docs/reliability.md)", f.Path, officeFile)
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("reading clock: %w", err)
	}
}

// continueClock continues the clock a state directory keeps, refusing a
// --clock that contradicts it.
func continueClock(cfg Config, f store.File, stored clockState, kind string, start time.Time) (daemonClock, error) {
	switch {
	case stored.Kind == ClockWall && kind == ClockVirtual:
		return daemonClock{}, fmt.Errorf("setting clock: %w: the state directory %s runs on the wall clock and its certificates were issued at wall-clock times; use a new state directory for --clock %s [%s]",
			ErrBadClock, cfg.StateDir, cfg.ClockSpec, RuleClockConflict)
	case stored.Kind == ClockWall:
		return daemonClock{Clock: clock.Real{}}, nil
	case kind == ClockWall:
		return daemonClock{}, fmt.Errorf("setting clock: %w: the state directory %s runs on a virtual clock (now %s); it cannot go back to the wall clock: omit --clock, or use a new state directory [%s]",
			ErrBadClock, cfg.StateDir, stored.Now.Format(time.RFC3339), RuleClockConflict)
	case !start.IsZero() && !start.Equal(stored.Now):
		return daemonClock{}, fmt.Errorf("setting clock: %w: the state directory %s keeps its virtual clock at %s, not %s: omit --clock to continue it, and move it with 'mynahil office time --set' [%s]",
			ErrBadClock, cfg.StateDir, stored.Now.Format(time.RFC3339), start.Format(time.RFC3339), RuleClockConflict)
	}
	return daemonClock{Clock: clock.NewVirtual(stored.Now), file: f}, nil
}

// officeFile is the office's registry in the state directory (package
// office): its presence says the directory is not new.
const officeFile = "office.json"
