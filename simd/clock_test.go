package simd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/office"
)

func clientOf(t *testing.T, r *rig) *simapi.Client {
	t.Helper()
	c, err := simapi.Dial(r.d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestVirtualClockSurvivesRestart: a daemon started on a virtual clock
// issues at that time, office.time moves it, and a restart continues from
// the moved time (clock.json), without a --clock or with the same one.
func TestVirtualClockSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	state := shortTempDir(t)
	start := time.Date(2026, time.April, 1, 9, 0, 0, 0, clock.JST)
	r := newRig(t, state, nil, Config{ClockSpec: "virtual:2026-04-01T09:00:00+09:00"})
	c := clientOf(t, r)
	now, err := c.Time(ctx, simapi.TimeParams{})
	if err != nil || !now.Virtual || !now.Now.Equal(start) {
		t.Fatalf("office.time = %+v, %v; want virtual %v", now, err, start)
	}
	rep, err := c.Report(ctx, simapi.CardParams{Card: "card-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.IssueDate.Equal(clock.Date(2026, time.April, 1)) {
		t.Errorf("card issued %v, want the virtual day 2026-04-01", rep.IssueDate)
	}
	if nb := rep.Certificate(simapi.Auth, simapi.OnCard).NotBefore; !nb.Equal(clock.Date(2026, time.April, 1)) {
		t.Errorf("auth certificate notBefore %v, want the virtual day", nb)
	}
	moved, err := c.Time(ctx, simapi.TimeParams{Years: 1, Months: 2, Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := start.AddDate(1, 2, 3)
	if !moved.Now.Equal(want) {
		t.Fatalf("after advancing 1y2m3d: %v, want %v", moved.Now, want)
	}
	r.stop()

	for _, spec := range []string{"", "virtual", "virtual:" + want.Format(time.RFC3339)} {
		r2 := newRig(t, state, nil, Config{ClockSpec: spec})
		now, err := clientOf(t, r2).Time(ctx, simapi.TimeParams{})
		if err != nil || !now.Virtual || !now.Now.Equal(want) {
			t.Fatalf("after restart with --clock %q: %+v, %v; want virtual %v", spec, now, err, want)
		}
		r2.stop()
	}
}

// TestClockConflicts: a state directory keeps the clock it was created
// with; a contradicting --clock is refused with the rule and a hint.
func TestClockConflicts(t *testing.T) {
	virtualDir := shortTempDir(t)
	newRig(t, virtualDir, nil, Config{ClockSpec: "virtual:2026-04-01"}).stop()
	wallDir := shortTempDir(t)
	newRig(t, wallDir, nil, Config{}).stop()
	for _, tc := range []struct {
		dir, spec, want string
	}{
		{virtualDir, "wall", "cannot go back to the wall clock"},
		{virtualDir, "virtual:2027-01-01", "keeps its virtual clock at 2026-04-01T00:00:00+09:00"},
		{wallDir, "virtual:2026-04-01", "runs on the wall clock"},
		{wallDir, "virtual", "runs on the wall clock"},
		{shortTempDir(t), "virtual:yesterday", "want RFC 3339"},
		{shortTempDir(t), "sundial", "want wall, virtual or virtual:"},
	} {
		_, err := Open(Config{StateDir: tc.dir, ClockSpec: tc.spec, Control: "tcp:127.0.0.1:0"})
		if !errors.Is(err, ErrBadClock) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--clock %s on %s: %v, want an error saying %q", tc.spec, filepath.Base(tc.dir), err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(wallDir, clockFile)); err != nil {
		t.Errorf("a new wall-clock state directory keeps its clock kind: %v", err)
	}
}

// TestWallClockRefusesOfficeTime: on the default wall clock office.time
// reports the time and refuses to move it, saying how to get a virtual one.
func TestWallClockRefusesOfficeTime(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	c := clientOf(t, r)
	now, err := c.Time(context.Background(), simapi.TimeParams{})
	if err != nil || now.Virtual || time.Since(now.Now).Abs() > time.Minute {
		t.Fatalf("office.time on the wall clock: %+v, %v", now, err)
	}
	_, err = c.Time(context.Background(), simapi.TimeParams{Years: 0, Months: 0, Days: 1})
	var re *simapi.RefusedError
	if !errors.As(err, &re) || re.RuleName != office.RuleRealClock || !strings.Contains(re.Reason, "--clock virtual:") {
		t.Fatalf("advancing the wall clock: %v, want rule %s with a --clock hint", err, office.RuleRealClock)
	}
}

// TestOneSetOfCardInfoApplets: a daemon's card carries each applet once.
func TestOneSetOfCardInfoApplets(t *testing.T) {
	r := newRig(t, shortTempDir(t), nil, Config{})
	cards := r.d.reg.Cards()
	if len(cards) != 1 {
		t.Fatalf("%d cards", len(cards))
	}
	var aids []string
	cards[0].Chip.Inspect(func(st *card.State) {
		for _, df := range st.DFs {
			aids = append(aids, string(df.AID))
		}
	})
	seen := map[string]bool{}
	for _, a := range aids {
		if seen[a] {
			t.Errorf("applet % X appears twice on the daemon's card", a)
		}
		seen[a] = true
	}
	if len(aids) < 5 {
		t.Errorf("%d applets, want JPKI and the four card-info applets", len(aids))
	}
}

// TestIssuanceFollowsVirtualClock: a card issued over the control socket
// without an issue date is issued on the virtual day, its certificates
// valid from then to the holder's 5th birthday after it.
func TestIssuanceFollowsVirtualClock(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, shortTempDir(t), nil, Config{ClockSpec: "virtual:2031-05-05T15:00:00+09:00"})
	c := clientOf(t, r)
	rep, err := c.IssueCard(ctx, simapi.IssueParams{})
	if err != nil {
		t.Fatal(err)
	}
	day := clock.Date(2031, time.May, 5)
	auth := rep.Certificate(simapi.Auth, simapi.OnCard)
	if !rep.IssueDate.Equal(day) || !auth.NotBefore.Equal(day) || auth.NotAfter.Year() != 2036 {
		t.Errorf("issued %v, auth certificate %v – %v; want issued on the virtual %v, valid about 5 years",
			rep.IssueDate, auth.NotBefore, auth.NotAfter, day)
	}
}

// TestLostClockIsRefused: a state directory that holds an office but lost
// clock.json is refused, naming the file, whatever --clock says (issue: a
// virtual 2031 silently restarted at the wall clock's 2026); nothing in the
// directory changes.
func TestLostClockIsRefused(t *testing.T) {
	for _, dirSpec := range []string{"virtual:2031-01-15", ""} {
		state := shortTempDir(t)
		d, err := Open(Config{StateDir: state, ClockSpec: dirSpec, VPCD: "127.0.0.1:1", Keys: fixtureKeys(t), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		if err := os.Remove(filepath.Join(state, clockFile)); err != nil {
			t.Fatal(err)
		}
		before := dirFiles(t, state)
		for _, spec := range []string{"", "wall", "virtual", "virtual:2026-04-01"} {
			d, err := Open(Config{StateDir: state, ClockSpec: spec, VPCD: "127.0.0.1:1", Keys: fixtureKeys(t), Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				d.Close()
				t.Errorf("a directory created with --clock %q, clock.json lost, opened with --clock %q", dirSpec, spec)
				continue
			}
			if errors.Is(err, ErrBadClock) || !strings.Contains(err.Error(), clockFile+" is missing") || !strings.Contains(err.Error(), "start afresh") {
				t.Errorf("--clock %q on a lost clock.json: %v; want an environment error naming clock.json and the remedy", spec, err)
			}
		}
		if after := dirFiles(t, state); !maps.Equal(before, after) {
			t.Errorf("the refused starts changed the directory:\nbefore %v\nafter  %v", before, after)
		}
	}
}

// dirFiles reads every state file of a directory but the lock and token.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || !e.Type().IsRegular() || e.Name() == "sim.lock" || e.Name() == "control.token" {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// readJSON decodes a state file.
func readJSON(t *testing.T, state, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

// storedClock reads the virtual time kept in clock.json.
func storedClock(t *testing.T, state string) time.Time {
	t.Helper()
	var st clockState
	readJSON(t, state, clockFile, &st)
	return st.Now
}

// TestClockMovesOnlyOnceStored: office.time stores the new time before the
// clock moves to it, under the office's lock: concurrent moves leave on
// disk the time the clock shows (and the last client was told), and a move
// that cannot be stored does not happen.
func TestClockMovesOnlyOnceStored(t *testing.T) {
	state := shortTempDir(t)
	d, err := openOut(t, state)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	api := officeOf(d)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 30 {
				p := simapi.TimeParams{Days: 1}
				if i%2 == 0 {
					p = simapi.TimeParams{Set: fmt.Sprintf("20%02d-%02d-01", 27+i, j%12+1)}
				}
				if _, err := api.Time(ctx, p); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if now, stored := d.reg.Now(), storedClock(t, state); !now.Equal(stored) {
		t.Errorf("after 240 concurrent moves the clock shows %v, clock.json holds %v", now, stored)
	}

	// clock.json cannot be replaced (a directory stands in its way): the
	// move is refused and the clock stays.
	before := d.reg.Now()
	path := filepath.Join(state, clockFile)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Time(ctx, simapi.TimeParams{Set: "2040-01-01"}); err == nil {
		t.Error("a move that could not be stored succeeded")
	}
	if now := d.reg.Now(); !now.Equal(before) {
		t.Errorf("the clock moved to %v though its new time was not stored (was %v)", now, before)
	}
}

// TestDamagedClockIsRefused: each check of clock.json refuses what it
// guards, naming the file, and leaves the directory as it was.
func TestDamagedClockIsRefused(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"not JSON", "{"},
		{"an unknown clock", `{"kind":"sundial"}`},
		{"a virtual clock at no time", `{"kind":"virtual"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			state := shortTempDir(t)
			d, err := openOut(t, state)
			if err != nil {
				t.Fatal(err)
			}
			d.Close()
			if err := os.WriteFile(filepath.Join(state, clockFile), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			before := dirFiles(t, state)
			if d, err := Open(Config{StateDir: state, VPCD: "127.0.0.1:1", Keys: fixtureKeys(t), Logger: slog.New(slog.DiscardHandler)}); err == nil {
				d.Close()
				t.Fatalf("a clock.json holding %s opened", tc.content)
			} else if !strings.Contains(err.Error(), clockFile+" is malformed") {
				t.Errorf("clock.json holding %s: %v, want it named as malformed", tc.content, err)
			}
			if after := dirFiles(t, state); !maps.Equal(before, after) {
				t.Error("the refused start changed the directory")
			}
		})
	}
}
