package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/pcscdenv"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/simd/ready"
	"github.com/mynahil/mynahil/vpcd"
)

func init() {
	register(&cli.Command{
		Name:    "sim",
		Summary: "run the simulated card daemon; list, insert and remove its cards; wait for it",
		Run:     simDaemon,
		Subs: []*cli.Command{
			{Name: "list", Summary: "cards, slots, reader names, ATRs", Run: simQuery("list")},
			{Name: "status", Summary: "the daemon: pid, state directory, counts", Run: simQuery("status")},
			{Name: "insert", Summary: "put cards into their readers", Run: simToggle("insert")},
			{Name: "remove", Summary: "take cards out of their readers", Run: simToggle("remove")},
			{Name: "call", Summary: "call any control method (control.methods lists them)", Run: simCall},
			{Name: "wait", Summary: "wait until the sim's cards are in their readers (pcscd sees them)", Run: simWait},
		},
	})
}

const simHelp = `Usage: mynahil sim [flags]
       mynahil sim [flags] -- CMD [ARGS...]
       mynahil sim <command> [flags]     (list, status, insert, remove, call, wait)

Runs simulated My Number Cards and puts them into vpcd's virtual readers
("Virtual PCD 00 00", "Virtual PCD 00 01", ...), so that any PC/SC program
(pcsc_scan, OpenSC's pkcs11-tool, your own code) talks to them like real
cards. pcscd with vpcd must run (scripts/with-pcscd starts a private one);
until it does the cards keep retrying. Ctrl-C stops the sim.

On first start the sim issues one card per --profile, or one card from the
built-in profile with the PINs 1234 (authentication) and SIGN2026
(signing). --cards N issues N cards (up to 16) in N readers, the profiles
in turn, each holder with a My Number of its own; Debian's pcscd config
serves two readers, 'scripts/with-pcscd --slots N' a private pcscd with N
(docs/vpcd-pcscd.md, "Many cards"). The state directory keeps the office, the test CA and every
card's chip; a restarted sim continues where it stopped. Delete the
directory to start afresh. Logs go to stderr; PINs are never logged.

Commands (run 'mynahil sim <command> -h' for their flags):
  list     cards, slots, reader names, ATRs
  status   the daemon: pid, state directory, counts
  insert   put cards into their readers (--card ID, --slot N or --all;
           --card ID --slot N puts that card into that slot, taking out the card there)
  remove   take cards out (also: kill -USR1 <pid> removes all, -USR2 inserts all)
  call     call any control method: 'mynahil sim call control.methods'
  wait     wait until the cards are in their readers, for scripts

With -- CMD, the sim runs CMD once its cards are in their readers (as
'mynahil sim wait' sees them; --ready-timeout bounds the wait), with
$MYNAHIL_STATE set to the state directory, stops when CMD ends and exits
with CMD's status (3 when the cards never got ready; CMD did not run):

  scripts/with-pcscd -- mynahil sim --state "$(mktemp -d)" -- pkcs15-tool --list-certificates

Time: the sim runs on the wall clock unless a new state directory is started
with --clock virtual:2026-04-01T09:00:00+09:00 (or virtual:2026-04-01); the
virtual time is kept in the state directory and moved by 'mynahil office
time --set/--advance'. An office change to a card in a reader takes the card
out, changes it and puts it back (PC/SC programs see a removal).

Details: docs/cli.md and docs/vpcd-pcscd.md.`

// profileList collects repeated --profile flags.
type profileList []string

func (p *profileList) String() string     { return strings.Join(*p, ",") }
func (p *profileList) Set(v string) error { *p = append(*p, v); return nil }

// simDaemon is 'mynahil sim': it serves the cards until stopped, or runs
// the command after "--" beside them. Its flag table reads better whole,
// beside the help text, than split.
func simDaemon(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil sim", simHelp)
	state := fs.String("state", simd.DefaultStateDir(), "state `DIR`; $MYNAHIL_STATE sets the default")
	var profiles profileList
	fs.Var(&profiles, "profile", "card profile `FILE` (JSON) to issue on first start; repeat for more cards")
	cards := fs.Int("cards", 0, "issue `N` cards (1-16) on first start, in N readers: the --profiles in turn (default the built-in one), each holder with a My Number of its own")
	slot := fs.Int("slot", 0, "vpcd slot `N` of the first card (reader \"Virtual PCD 00 0N\")")
	vpcdAddr := fs.String("vpcd", simd.DefaultVPCD, "vpcd's `HOST:PORT` for slot 0; slot N uses port+N")
	ctl := fs.String("control", "", "control `ADDR`: unix:/path/control.sock or tcp:127.0.0.1:PORT (default unix:<state>/control.sock)")
	allowRemote := fs.Bool("control-allow-remote", false, "allow a non-loopback TCP control address (unauthenticated!)")
	clockSpec := fs.String("clock", "", "clock `SPEC` of a new state directory: wall (default) or virtual:TIME (RFC 3339 or YYYY-MM-DD); a state directory keeps its clock")
	verbose := fs.Bool("v", false, "log every APDU (masked) and every connection attempt")
	relyingParty := fs.String("relying-party", "", "start the CA, CRL and OCSP endpoints with the sim at loopback `HOST:PORT` (e.g. 127.0.0.1:8080); default: on the first 'office endpoints', on a free port")
	timingName := fs.String("timing", "", "answer as slowly as a real card: timing `PROFILE` instant, contact or contactless, for every card this run (default: each card profile's \"timing\", else instant; docs/card.md §7.1)")
	logFile := fs.String("log", "", "append the sim's log to `FILE` instead of standard error")
	readyTimeout := fs.Duration("ready-timeout", time.Minute, "with -- CMD: wait at most `D` for the cards to be in their readers")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	command, err := simCommand(fs, args)
	if err != nil {
		return err
	}
	log, closeLog, err := openSimLog(cio.Stderr, *logFile, *verbose)
	if err != nil {
		return err
	}
	defer closeLog()
	cfg := simd.Config{
		StateDir:           *state,
		FirstSlot:          *slot,
		VPCD:               *vpcdAddr,
		Control:            *ctl,
		AllowRemoteControl: *allowRemote,
		ClockSpec:          *clockSpec,
		Signals:            true,
		Logger:             log,
		RelyingParty:       *relyingParty,
		Timing:             *timingName,
	}
	if cfg.Profiles, err = simProfiles(fs, profiles, *cards, *slot); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if command == nil { // with a command, the signals go to it (runWithSim)
		go stopOnSignal(ctx, cancel, sigs, log)
	}
	d, release, err := openSimDaemon(cfg)
	if err != nil {
		return err
	}
	defer release()
	if command != nil {
		return runWithSim(ctx, cancel, cio, d, sigs, command, simCommandConfig{
			state: *state, timeout: *readyTimeout, skipPCSC: *vpcdAddr != simd.DefaultVPCD,
		})
	}
	return d.Run(ctx)
}

// openSimDaemon opens the daemon; on vpcd's default address it first
// claims the vpcd slots (one card source per slot: refused when another
// process serves them), released by the function returned.
func openSimDaemon(cfg simd.Config) (*simd.Daemon, func(), error) {
	release := func() {}
	if cfg.VPCD == simd.DefaultVPCD {
		var err error
		if release, err = pcscdenv.ClaimSlots("mynahil sim"); err != nil {
			return nil, nil, cli.Env(err)
		}
	}
	d, err := simd.Open(cfg)
	switch {
	case errors.Is(err, simd.ErrBadClock) || errors.Is(err, simd.ErrBadRelyingParty) || errors.Is(err, simd.ErrBadTiming):
		release()
		return nil, nil, cli.WithCode(cli.ExitUsage, err)
	case err != nil:
		release()
		return nil, nil, cli.Env(err)
	}
	return d, release, nil
}

// simCommand is the command after "--" ('mynahil sim -- CMD'), nil
// without one; any other argument is an unknown subcommand.
func simCommand(fs *cli.FlagSet, args []string) ([]string, error) {
	if n := len(args) - fs.NArg(); n > 0 && args[n-1] == "--" {
		if fs.NArg() == 0 {
			return nil, fs.Usagef("-- needs a command to run")
		}
		return fs.Args(), nil
	}
	if fs.NArg() > 0 {
		return nil, fs.Usagef("unknown command %q (have: list, status, insert, remove, call, wait)", fs.Arg(0))
	}
	return nil, nil
}

// openSimLog is the sim's logger: to stderr, or appended to path; every
// APDU and connection attempt when verbose.
func openSimLog(stderr io.Writer, path string, verbose bool) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	logTo, closeLog := stderr, func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, cli.Env(fmt.Errorf("opening the log: %w", err))
		}
		logTo, closeLog = f, func() { _ = f.Close() }
	}
	return slog.New(slog.NewTextHandler(logTo, &slog.HandlerOptions{Level: level})), closeLog, nil
}

// simProfiles loads the --profile files and, with --cards, makes the card
// set from them (cardSet).
func simProfiles(fs *cli.FlagSet, paths profileList, cards, slot int) ([]profile.Profile, error) {
	var ps []profile.Profile
	for _, path := range paths {
		p, err := profile.Load(path)
		if err != nil {
			return nil, cli.WithCode(cli.ExitUsage, fmt.Errorf("loading profile %s: %w", path, err))
		}
		ps = append(ps, p)
	}
	if cards == 0 {
		return ps, nil
	}
	ps, err := cardSet(cards, slot, ps)
	if err != nil {
		return nil, fs.Usagef("%v", err)
	}
	return ps, nil
}

// stopOnSignal cancels the daemon's context on SIGINT or SIGTERM.
func stopOnSignal(ctx context.Context, cancel context.CancelFunc, sigs <-chan os.Signal, log *slog.Logger) {
	select {
	case sig := <-sigs:
		log.Info("stopping", "signal", sig.String())
		cancel()
	case <-ctx.Done():
	}
}

// cardSet is the profiles of 'sim --cards n': the given profiles in turn
// (profile.Default without any), card i as holder i/len(given) of its
// profile (profile.Nth), in slots first to first+n-1 of one pcscd.
func cardSet(n, first int, given []profile.Profile) ([]profile.Profile, error) {
	if n < 1 || n > vpcd.MaxSlots {
		return nil, fmt.Errorf("--cards %d: want 1 to %d (pcscd serves at most %d readers)", n, vpcd.MaxSlots, vpcd.MaxSlots)
	}
	if first+n > vpcd.MaxSlots {
		return nil, fmt.Errorf("--cards %d from --slot %d: slots beyond %d, the last reader pcscd can serve", n, first, vpcd.MaxSlots-1)
	}
	if len(given) == 0 {
		given = []profile.Profile{profile.Default()}
	}
	set := make([]profile.Profile, n)
	for i := range set {
		p, err := given[i%len(given)].Nth(i / len(given))
		if err != nil {
			return nil, err
		}
		set[i] = p
	}
	return set, nil
}

func simQuery(cmd string) func(*cli.IO, []string) error {
	return func(cio *cli.IO, args []string) error {
		fs := cli.NewFlagSet("mynahil sim "+cmd, fmt.Sprintf(`Usage: mynahil sim %s [--state DIR | --control ADDR] [--json]

%s of the running sim.`, cmd, map[string]string{
			"list":   "Lists the cards, their slots, reader names, insertion and ATRs (pcsc_scan style)",
			"status": "Shows the process, its state directory and card counts",
		}[cmd]))
		sf := addSimFlags(fs)
		asJSON := fs.JSON("print the result as JSON")
		if err := fs.Parse(cio, args); err != nil {
			return err
		}
		if err := fs.NoArgs(); err != nil {
			return err
		}
		c, err := sf.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		if cmd == "status" {
			st, err := call(c.Status)
			if err != nil {
				return err
			}
			if *asJSON {
				return cli.PrintJSON(cio.Stdout, st)
			}
			_, err = fmt.Fprintf(cio.Stdout, "pid %d, up %s\nstate    %s\ncontrol  %s\nvpcd     %s (slot 0)\ncards    %d (%d inserted, %d connected to vpcd)\n",
				st.PID, st.Uptime, st.StateDir, st.Control, st.VPCD, st.Cards, st.Inserted, st.Connected)
			return err
		}
		list, err := call(c.List)
		if err != nil {
			return err
		}
		if *asJSON {
			return cli.PrintJSON(cio.Stdout, list)
		}
		printSlots(cio.Stdout, list)
		return nil
	}
}

// simToggleHelp is the help of 'mynahil sim insert' and 'sim remove'.
func simToggleHelp(cmd string) string {
	return fmt.Sprintf(`Usage: mynahil sim %s [--state DIR | --control ADDR] [--json] [--no-wait] [--timeout D] (--card ID | --slot N | --all)

%s the running sim's readers, and returns once pcscd shows the change
(every card taken out gone from its reader, every card put in present with
its ATR), so the next PC/SC call sees it. --no-wait returns at once (for a
vpcd behind another machine's pcscd). Exit 3 when pcscd has not shown the
change within --timeout; the change itself is made.%s`, cmd, map[string]string{"insert": "Puts cards into", "remove": "Takes cards out of"}[cmd],
		map[string]string{"insert": `

With both --card and --slot, puts that card into that slot's reader as a
person swaps cards (sim.place): the card that was in the slot is taken out
and detached (slot -1 in 'mynahil sim list' until placed again), the slot
stays empty long enough for pcscd to see the removal, then the card goes
in (leaving its old slot empty):

  mynahil sim insert --card card-2 --slot 0`}[cmd])
}

// simToggle is 'mynahil sim insert' and 'sim remove'.
func simToggle(cmd string) func(*cli.IO, []string) error {
	return func(cio *cli.IO, args []string) error {
		fs := cli.NewFlagSet("mynahil sim "+cmd, simToggleHelp(cmd))
		sf := addSimFlags(fs)
		asJSON := fs.JSON("print the cards affected as JSON")
		var sel simd.Selector
		fs.StringVar(&sel.Card, "card", "", "card `ID` (see 'mynahil sim list')")
		slot := fs.IntOpt("slot", "slot number `N`")
		fs.BoolVar(&sel.All, "all", false, "every card")
		noWait := fs.Bool("no-wait", false, "return once the sim made the change, without waiting for pcscd to show it")
		timeout := fs.Duration("timeout", 30*time.Second, "wait at most `D` for pcscd to show the change")
		if err := fs.Parse(cio, args); err != nil {
			return err
		}
		if err := fs.NoArgs(); err != nil {
			return err
		}
		if slot.Given {
			if slot.N < 0 {
				return fs.Usagef("--slot %d: want a slot number 0 or above", slot.N)
			}
			sel.Slot = &slot.N
		}
		if sel.Card == "" && sel.Slot == nil && !sel.All {
			return fs.Usagef("say which card: --card ID, --slot N or --all")
		}
		c, err := sf.dial()
		if err != nil {
			return err
		}
		defer c.Close()
		do := func(ctx context.Context) ([]simd.SlotInfo, error) {
			switch {
			case cmd == "insert" && sel.Card != "" && sel.Slot != nil && !sel.All:
				return c.Place(ctx, simd.Placement{Card: sel.Card, Slot: sel.Slot})
			case cmd == "insert":
				return c.Insert(ctx, sel)
			}
			return c.Remove(ctx, sel)
		}
		list, err := call(do)
		if err != nil {
			return err
		}
		if !*noWait {
			if err := waitSeen(list, *timeout); err != nil {
				return err
			}
		}
		if *asJSON {
			return cli.PrintJSON(cio.Stdout, list)
		}
		printSlots(cio.Stdout, list)
		return nil
	}
}

// waitSeen waits until pcscd shows the change the sim reported in list; an
// environment error (exit 3) when it does not within timeout.
func waitSeen(list []simd.SlotInfo, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := ready.WaitSeen(ctx, list, 0); err != nil {
		return cli.Env(fmt.Errorf("the sim made the change, but after %v %w (is pcscd with vpcd running? --no-wait skips this)", timeout, err))
	}
	return nil
}

func simCall(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil sim call", `Usage: mynahil sim call [--state DIR | --control ADDR] METHOD [PARAMS-JSON]

Calls one method of the running sim's control socket and prints the JSON
result. 'mynahil sim call control.methods' lists the methods, the office's
(office.*) included.`)
	sf := addSimFlags(fs)
	fs.JSON("accepted for symmetry: the result is always JSON")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if fs.NArg() < 1 || fs.NArg() > 2 {
		return fs.Usagef("call needs METHOD and optionally PARAMS-JSON")
	}
	var params any
	if fs.NArg() == 2 {
		if !json.Valid([]byte(fs.Arg(1))) {
			return fs.Usagef("params %q are not valid JSON", fs.Arg(1))
		}
		params = json.RawMessage(fs.Arg(1))
	}
	c, err := sf.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	raw, err := call(func(ctx context.Context) (json.RawMessage, error) {
		var raw json.RawMessage
		return raw, c.Call(ctx, fs.Arg(0), params, &raw)
	})
	if err != nil {
		return err
	}
	return cli.PrintJSON(cio.Stdout, raw)
}

func simWait(cio *cli.IO, args []string) error {
	fs := cli.NewFlagSet("mynahil sim wait", `Usage: mynahil sim wait [--state DIR | --control ADDR] [--timeout D] [--no-pcscd] [--json]

Waits until the sim answers and every inserted card is connected to vpcd
and present in its pcscd reader with its ATR, then lists the cards. Call it
right after starting the sim in the background:

  mynahil sim & mynahil sim wait --timeout 30s && pcsc_scan -r

Exit 0 when ready; 3 when the timeout passes first, naming what was
missing (no sim, no vpcd connection, pcscd not showing the card).`)
	sf := addSimFlags(fs)
	timeout := fs.Duration("timeout", 30*time.Second, "give up after `D`")
	noPCSC := fs.Bool("no-pcscd", false, "stop at \"connected to vpcd\" without asking pcscd")
	asJSON := fs.JSON("print the ready cards as JSON")
	if err := fs.Parse(cio, args); err != nil {
		return err
	}
	if err := fs.NoArgs(); err != nil {
		return err
	}
	addr, where := sf.addr()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cards, err := ready.Wait(ctx, ready.Config{Control: addr, StateDir: *sf.state, SkipPCSC: *noPCSC})
	if err != nil {
		return cli.Env(fmt.Errorf("waiting %v for the sim of %s: %w", *timeout, where, err))
	}
	if *asJSON {
		return cli.PrintJSON(cio.Stdout, cards)
	}
	printSlots(cio.Stdout, cards)
	return nil
}

func printSlots(w io.Writer, list []simd.SlotInfo) {
	tw := cli.Table(w)
	fmt.Fprintln(tw, "CARD\tSLOT\tREADER\tINSERTED\tCONNECTED\tSTATUS\tATR\tHOLDER")
	for _, s := range list {
		slot, reader := strconv.Itoa(s.Slot), s.Reader
		if s.Slot < 0 { // taken out of its slot by sim.place
			slot, reader = "-", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Card, slot, reader, cli.YesNo(s.Inserted), cli.YesNo(s.Connected),
			s.Status, s.ATR, s.Holder)
	}
	tw.Flush()
}
