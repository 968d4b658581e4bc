package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
	"github.com/mynahil/mynahil/testenv"
)

func init() {
	register("sim", "run the simulated card daemon; list, insert and remove its cards", runSim)
}

const simHelp = `Usage:
  mynahil sim [--state DIR] [--profile FILE]... [--slot N] [--vpcd HOST:PORT] [--control ADDR] [-v]
  mynahil sim list    [--state DIR | --control ADDR] [--json]
  mynahil sim status  [--state DIR | --control ADDR] [--json]
  mynahil sim insert  [--state DIR | --control ADDR] (--card ID | --slot N | --all)
  mynahil sim remove  [--state DIR | --control ADDR] (--card ID | --slot N | --all)
  mynahil sim call    [--state DIR | --control ADDR] METHOD [PARAMS-JSON]

'mynahil sim' runs simulated My Number Cards and puts them into virtual
smart-card readers, so that any PC/SC program (pcsc_scan, OpenSC's
pkcs11-tool, a browser, your own code) can talk to them like real cards.

How the pieces fit:
  pcscd        the PC/SC daemon every smart-card program talks to.
  vpcd         a pcscd reader driver (Debian package vsmartcard-vpcd) that
               turns TCP ports into readers: port 35963 is the reader
               "Virtual PCD 00 00" (slot 0), port 35964 is "Virtual PCD 00 01"
               (slot 1). Debian's build has these two slots only.
  mynahil sim  connects each card to its slot's port. Connected = inserted;
               disconnected = removed. If pcscd is not running yet, the cards
               keep retrying and appear as soon as it starts.

Quick start:
  pcscd -f &                    (as root; or 'sudo systemctl start pcscd')
  mynahil sim                   (leave it running; Ctrl-C stops it)
  pcsc_scan                     (in another terminal: the card shows up in
                                 "Virtual PCD 00 00"; opensc-tool -l lists it)
  From a checkout, 'scripts/with-pcscd bin/mynahil sim' does the first two
  steps with a private pcscd that stops with the sim.

  Debian's packaged pcscd is socket-activated and exits after 60 s without
  clients (--auto-exit); the readers vanish with it and the sim reconnects
  when it comes back. For steady readers run 'pcscd -f' without --auto-exit.

Cards and state:
  The state directory (--state, else $MYNAHIL_STATE, else ./mynahil-state)
  holds the office registry, the test certificate authority and every card's
  chip (PIN counters, keys, certificates), each written crash-safely on every
  change. A restarted sim continues where it stopped: same certificates, same
  remaining PIN tries. On first start the sim issues one card per --profile
  (or one card from the built-in default profile, PINs 1234 and SIGN2026);
  once cards exist, --profile is ignored. To start afresh, stop the sim and
  delete the state directory. Only one sim may use a state directory at a
  time.

  The first card goes into slot --slot (default 0), further cards into the
  following slots, in issuance order. Every card starts inserted. Cards the
  office issues while the sim runs get the next free slot and start removed.

Inserting and removing cards (while the sim runs, from another terminal):
  mynahil sim list                  cards, slots, reader names, ATRs
  mynahil sim remove --card ID      take a card out of its reader
  mynahil sim insert --slot 0       put the card of slot 0 back
  mynahil sim remove --all          take every card out
  kill -USR1 <pid>                  same as 'remove --all'
  kill -USR2 <pid>                  same as 'insert --all'
  mynahil sim call control.methods  every method the control socket offers,
                                    including the office's (office.*)

The control socket:
  The sim listens for these commands on a local socket, by default
  unix:<state>/control.sock (mode 0600, owner only). --control
  tcp:127.0.0.1:PORT uses loopback TCP instead; other TCP addresses are
  refused unless --control-allow-remote is given, because the socket has no
  authentication. Clients find the sim through the same --state or --control.

Logs go to stderr: connections, insertions and removals; with -v also one
line per APDU. PINs are never logged: the data of VERIFY, CHANGE REFERENCE
DATA and every other command except SELECT is shown as "<n bytes masked>".

Flags of the daemon:
`

func runSim(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "list", "status", "insert", "remove", "call":
			return simClient(args[0], args[1:])
		}
	}
	return simDaemon(args)
}

// profileList collects repeated --profile flags.
type profileList []string

func (p *profileList) String() string     { return strings.Join(*p, ",") }
func (p *profileList) Set(v string) error { *p = append(*p, v); return nil }

func simDaemon(args []string) error {
	fs := flag.NewFlagSet("mynahil sim", flag.ContinueOnError)
	state := fs.String("state", simd.DefaultStateDir(), "state directory")
	var profiles profileList
	fs.Var(&profiles, "profile", "card profile `FILE` (JSON) to issue on first start; repeat for more cards")
	slot := fs.Int("slot", 0, "vpcd slot of the first card (reader \"Virtual PCD 00 0N\")")
	vpcdAddr := fs.String("vpcd", simd.DefaultVPCD, "vpcd's address for slot 0; slot N uses port+N")
	ctl := fs.String("control", "", "control address: unix:/path/control.sock or tcp:127.0.0.1:PORT (default unix:<state>/control.sock)")
	allowRemote := fs.Bool("control-allow-remote", false, "allow a non-loopback TCP control address (unauthenticated!)")
	verbose := fs.Bool("v", false, "log every APDU (masked) and every connection attempt")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q (subcommands: list, status, insert, remove, call)", fs.Arg(0))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := simd.Config{
		StateDir:           *state,
		FirstSlot:          *slot,
		VPCD:               *vpcdAddr,
		Control:            *ctl,
		AllowRemoteControl: *allowRemote,
		Signals:            true,
		Logger:             log,
	}
	for _, path := range profiles {
		p, err := profile.Load(path)
		if err != nil {
			return fmt.Errorf("loading profile %s: %w", path, err)
		}
		cfg.Profiles = append(cfg.Profiles, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			log.Info("stopping", "signal", sig.String())
			cancel()
		case <-ctx.Done():
		}
	}()
	if *vpcdAddr == simd.DefaultVPCD {
		// One card source per slot: refuse when another process serves them.
		release, err := testenv.ClaimSlots("mynahil sim")
		if err != nil {
			return &exitError{code: 3, err: err}
		}
		defer release()
	}
	d, err := simd.Open(cfg)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

func simClient(cmd string, args []string) error {
	fs := flag.NewFlagSet("mynahil sim "+cmd, flag.ContinueOnError)
	state := fs.String("state", simd.DefaultStateDir(), "state directory of the running sim")
	ctl := fs.String("control", "", "control address of the running sim (default unix:<state>/control.sock)")
	asJSON := fs.Bool("json", false, "print the raw JSON result")
	var sel simd.Selector
	var slot int
	if cmd == "insert" || cmd == "remove" {
		fs.StringVar(&sel.Card, "card", "", "card `ID` (see 'mynahil sim list')")
		fs.IntVar(&slot, "slot", -1, "slot number `N`")
		fs.BoolVar(&sel.All, "all", false, "every card")
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), simHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if slot >= 0 {
		sel.Slot = &slot
	}
	addr := *ctl
	if addr == "" {
		addr = control.DefaultAddr(*state)
	}
	method := "sim." + cmd
	var params any
	switch cmd {
	case "call":
		if fs.NArg() < 1 || fs.NArg() > 2 {
			return errors.New("call needs METHOD and optionally PARAMS-JSON")
		}
		method = fs.Arg(0)
		if fs.NArg() == 2 {
			if !json.Valid([]byte(fs.Arg(1))) {
				return fmt.Errorf("parsing params: %q is not valid JSON", fs.Arg(1))
			}
			params = json.RawMessage(fs.Arg(1))
		}
		*asJSON = true
	case "insert", "remove":
		if sel.Card == "" && sel.Slot == nil && !sel.All {
			return fmt.Errorf("%s needs --card ID, --slot N or --all", cmd)
		}
		fallthrough
	default:
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
	}
	if params == nil && (cmd == "insert" || cmd == "remove") {
		params = sel
	}
	c, err := control.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var raw json.RawMessage
	if err := c.Call(ctx, method, params, &raw); err != nil {
		var ce *control.Error
		if errors.As(err, &ce) && ce.Rule != "" && !strings.Contains(ce.Message, ce.Rule) {
			return fmt.Errorf("%w [%s]", err, ce.Rule)
		}
		return err
	}
	if *asJSON {
		return printJSON(os.Stdout, raw)
	}
	switch cmd {
	case "status":
		var st simd.Status
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("decoding status: %w", err)
		}
		fmt.Printf("pid %d, up %s\nstate    %s\ncontrol  %s\nvpcd     %s (slot 0)\ncards    %d (%d inserted, %d connected to vpcd)\n",
			st.PID, st.Uptime, st.StateDir, st.Control, st.VPCD, st.Cards, st.Inserted, st.Connected)
	default:
		var list []simd.SlotInfo
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("decoding card list: %w", err)
		}
		printSlots(os.Stdout, list)
	}
	return nil
}

func printJSON(w io.Writer, raw json.RawMessage) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

func printSlots(w io.Writer, list []simd.SlotInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CARD\tSLOT\tREADER\tINSERTED\tCONNECTED\tSTATUS\tATR\tHOLDER")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Card, s.Slot, s.Reader, yesNo(s.Inserted), yesNo(s.Connected),
			s.Status, strings.ToUpper(s.ATR), s.Holder)
	}
	tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
