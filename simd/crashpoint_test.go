package simd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mynahil/mynahil/internal/crashpoint"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/card"
	"github.com/mynahil/mynahil/simcard/jpki"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/store"
)

// crashOp is one operation of the crash-point tests: prepare brings a state
// directory to where the operation can run, do runs it, and retried says
// whether a retry's refusal means the operation is already done.
type crashOp struct {
	name    string
	prepare func(t *testing.T, d *Daemon)
	do      func(ctx context.Context, d *Daemon) error
	done    []string // rules a retry may answer when the crashed run had completed
}

func officeOf(d *Daemon) simapi.Office { return d.reg.API() }

var address = "大阪府大阪市北区試験町"

var crashOps = []crashOp{
	{name: "issue-card",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).IssueCard(ctx, simapi.IssueParams{})
			return err
		}},
	{name: "issue-cert",
		prepare: func(t *testing.T, d *Daemon) {
			if _, err := officeOf(d).Revoke(context.Background(), simapi.CertParams{Card: "card-1", Kind: simapi.Sign}); err != nil {
				t.Fatal(err)
			}
		},
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).IssueCertificate(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Sign, PIN: "LATER2026"})
			return err
		},
		done: []string{"one-per-kind"}},
	{name: "renew",
		prepare: func(t *testing.T, d *Daemon) {
			if _, err := officeOf(d).Time(context.Background(), simapi.TimeParams{Set: "2030-11-15"}); err != nil {
				t.Fatal(err)
			}
		},
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).Renew(ctx, simapi.RenewParams{Card: "card-1", AuthPIN: "4321"})
			return err
		},
		done: []string{"renewal-window"}},
	{name: "revoke",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).Revoke(ctx, simapi.CertParams{Card: "card-1", Kind: simapi.Auth})
			return err
		},
		done: []string{"no-certificate"}},
	{name: "change-facts",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).ChangeFacts(ctx, simapi.FactsParams{Card: "card-1", Address: &address})
			return err
		},
		done: []string{"facts-unchanged"}},
	{name: "report-loss",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).ReportLoss(ctx, simapi.CardParams{Card: "card-1"})
			return err
		},
		done: []string{"card-lost"}},
	{name: "death",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).Death(ctx, simapi.CardParams{Card: "card-1"})
			return err
		},
		done: []string{"card-deceased"}},
	{name: "reset-pin",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).ResetPIN(ctx, simapi.PINParams{Card: "card-1", Kind: simapi.Auth, PIN: "4321"})
			return err
		}},
	{name: "time",
		do: func(ctx context.Context, d *Daemon) error {
			_, err := officeOf(d).Time(ctx, simapi.TimeParams{Set: "2029-02-03"})
			return err
		}},
}

// fixtureKeys are the fixture's RSA keys: no process of these tests
// spends seconds generating keys.
func fixtureKeys(t testing.TB) keypool.Source {
	b, err := os.ReadFile(filepath.Join("..", "simcard", "keypool", "testdata", "keys.pem"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := keypool.ParsePEM(b)
	if err != nil {
		t.Fatal(err)
	}
	return keypool.Filled(keys)
}

// crashConfig is the daemon of a crash test's state directory: a virtual
// clock (started on 2026-04-01 in a new directory, continued in one that
// has it), no vpcd and a control socket of its own.
func crashConfig(t testing.TB, state string) Config {
	spec := ClockVirtual
	if _, err := os.Stat(filepath.Join(state, clockFile)); errors.Is(err, os.ErrNotExist) {
		spec = "virtual:2026-04-01T10:00:00+09:00"
	}
	return Config{StateDir: state, ClockSpec: spec, VPCD: "127.0.0.1:1", Keys: fixtureKeys(t), Logger: slog.New(slog.DiscardHandler)}
}

// openOut opens the daemon of state with every card out of its reader, so
// that no visit waits for a reader.
func openOut(t testing.TB, state string) (*Daemon, error) {
	d, err := Open(crashConfig(t, state))
	if err != nil {
		return nil, err
	}
	if _, err := d.Remove(Selector{All: true}); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// TestHelperCrashPoint is not a test: TestCrashPoints runs it in a child
// process, which kills itself with SIGKILL right after its Nth durable
// write during the operation (a crash at that point).
func TestHelperCrashPoint(t *testing.T) {
	state, op := os.Getenv("SIMD_CRASH_STATE"), os.Getenv("SIMD_CRASH_OP")
	if state == "" {
		t.Skip("helper process for TestCrashPoints")
	}
	after, err := strconv.Atoi(os.Getenv("SIMD_CRASH_AFTER"))
	if err != nil {
		t.Fatal(err)
	}
	writes := 0
	kill := func(string) {
		writes++
		if writes == after {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal is on its way
		}
	}
	var d *Daemon
	if op == "open" {
		crashpoint.AfterWrite.Store(&kill)
		d, err = Open(crashConfig(t, state))
	} else {
		if d, err = openOut(t, state); err == nil {
			crashpoint.AfterWrite.Store(&kill)
			i := slices.IndexFunc(crashOps, func(o crashOp) bool { return o.name == op })
			err = crashOps[i].do(context.Background(), d)
		}
	}
	crashpoint.AfterWrite.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	fmt.Printf("completed after %d durable writes\n", writes)
}

var completedRE = regexp.MustCompile(`completed after (\d+) durable writes`)

// crashAt runs the operation in a child process that dies after its Nth
// durable write; it returns how many writes the operation made when it
// completed before that.
func crashAt(t *testing.T, state, op string, n int) (completed int) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrashPoint$", "-test.v")
	cmd.Env = append(os.Environ(), "SIMD_CRASH_STATE="+state, "SIMD_CRASH_OP="+op, "SIMD_CRASH_AFTER="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		m := completedRE.FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: the helper passed without saying so:\n%s", op, out)
		}
		k, _ := strconv.Atoi(string(m[1]))
		return k
	case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
		return -1
	}
	t.Fatalf("%s, crash after write %d: the helper failed: %v\n%s", op, n, err, out)
	return 0
}

// copyDir copies a state directory (files and cards/), leaving out the
// lock, the socket and the token.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		if !e.Type().IsRegular() || rel == "sim.lock" || rel == "control.token" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkAgreement fails unless every card's registry entry and chip agree:
// every certificate the authority holds valid for a card is the one its
// chip holds, and every certificate on a chip is the registry's current
// one, reported on the chip.
func checkAgreement(t *testing.T, what string, d *Daemon) {
	t.Helper()
	now := d.reg.Now()
	for _, c := range d.reg.Cards() {
		var onChip [2][]byte
		c.Chip.Inspect(func(st *card.State) {
			df := st.DF(jpki.AID)
			for i, ef := range []uint16{jpki.EFAuthCert, jpki.EFSignCert} {
				if f := df.File(ef); f != nil {
					onChip[i] = f.Data
				}
			}
		})
		rep, err := d.reg.Report(c.ID)
		if err != nil {
			t.Fatalf("%s: report of %s: %v", what, c.ID, err)
		}
		for i, k := range []simapi.Kind{simapi.Auth, simapi.Sign} {
			cr := rep.Certificate(k, simapi.OnCard)
			if onChip[i] != nil && (cr.Serial == 0 || !cr.OnChip) {
				t.Errorf("%s: %s holds a %s certificate that the registry does not name (registry #%d)", what, c.ID, k, cr.Serial)
			}
		}
		for _, rec := range d.reg.Records(c.ID) {
			i := map[string]int{"auth": 0, "sign": 1}[string(rec.Kind)]
			if rec.Device == "card" && rec.ValidAt(now) && !bytes.Equal(rec.DER, onChip[i]) {
				t.Errorf("%s: certificate #%d (%s) of %s is valid but not on the chip", what, rec.Serial, rec.Kind, c.ID)
			}
		}
	}
}

// TestCrashPoints: for each office operation, the process is killed right
// after each durable write the operation makes (intent record, each state
// file, the intent's removal, or the one file of a single-file change),
// then restarted: the daemon starts, no intent is left, the registry and
// every chip agree, and retrying the operation works (it succeeds, or is
// refused by the rule that says it is already done). The first start of a
// new state directory is crashed the same way.
func TestCrashPoints(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process per crash point")
	}
	start := time.Now()
	template := shortTempDir(t)
	d, err := openOut(t, template)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	points := 0
	for _, op := range append([]crashOp{{name: "open"}}, crashOps...) {
		t.Run(op.name, func(t *testing.T) {
			prepared := shortTempDir(t)
			if op.name != "open" {
				copyDir(t, template, prepared)
				if op.prepare != nil {
					d, err := openOut(t, prepared)
					if err != nil {
						t.Fatal(err)
					}
					op.prepare(t, d)
					d.Close()
				}
			}
			for n := 1; ; n++ {
				if n > 40 {
					t.Fatal("more than 40 durable writes")
				}
				state := shortTempDir(t)
				copyDir(t, prepared, state)
				completed := crashAt(t, state, op.name, n)
				if completed >= 0 {
					if completed != n-1 {
						t.Fatalf("the operation completed after %d writes, though the crash after write %d did not come", completed, n)
					}
					t.Logf("%s: %d durable writes, a crash after each recovered", op.name, completed)
					return
				}
				points++
				what := fmt.Sprintf("%s, crashed after write %d", op.name, n)
				d, err := openOut(t, state)
				if err != nil {
					t.Fatalf("%s: the daemon does not start: %v", what, err)
				}
				if _, err := os.Stat(filepath.Join(state, store.IntentFile)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: the intent record is still there after the start", what)
				}
				checkAgreement(t, what, d)
				if op.do != nil {
					err := op.do(context.Background(), d)
					var re *simapi.RefusedError
					if err != nil && !(errors.As(err, &re) && slices.Contains(op.done, re.RuleName)) {
						t.Errorf("%s: retrying: %v", what, err)
					}
					checkAgreement(t, what+", then retried", d)
				}
				d.Close()
			}
		})
	}
	t.Logf("%d crash points recovered in %v", points, time.Since(start).Round(time.Millisecond))
}

// TestCrashPointsSeeTheJournal: the crash points of one operation land
// on the intent record first, then on each file, then on the intent's
// removal: the order that makes the operation atomic.
func TestCrashPointsSeeTheJournal(t *testing.T) {
	state := shortTempDir(t)
	d, err := openOut(t, state)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var paths []string
	record := func(p string) { paths = append(paths, strings.TrimPrefix(p, state+"/")) }
	crashpoint.AfterWrite.Store(&record)
	_, err = officeOf(d).Revoke(context.Background(), simapi.CertParams{Card: "card-1", Kind: simapi.Sign})
	crashpoint.AfterWrite.Store(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{store.IntentFile, "authority.json", "cards/card-1.json", "office.json", store.IntentFile}
	if !slices.Equal(paths, want) {
		t.Errorf("durable writes of a revocation: %v, want %v", paths, want)
	}
}
