// Package cli is the command-line framework of mynahil: commands and their
// sub-commands, flag sets whose help goes to standard output, the exit codes
// every command shares and errors printed as JSON under --json
// (docs/cli.md).
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes of every mynahil command (docs/cli.md). A command may add
// documented codes above ExitEnv (the conformance suite's "incomplete").
const (
	ExitOK     = 0 // success
	ExitFailed = 1 // the thing tested or asked for failed: a failing check, an office refusal
	ExitUsage  = 2 // usage error: unknown command or flag, missing or bad argument
	ExitEnv    = 3 // environment error: pcscd down, reader missing, sim not running
)

// Error is an error with an exit code and, for a refusal, the rule that
// refused it.
type Error struct {
	Code int
	Rule string // the office's or the sim's rule, when one refused
	Err  error
	// help names the command whose -h helps with a usage error.
	help string
	// reported: the command already told the user (its own JSON verdict,
	// a summary on stderr); the error only sets the exit code.
	reported bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// WithCode gives err an exit code; nil stays nil.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// Usagef is a usage error (exit 2).
func Usagef(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Env marks err as an environment error (exit 3): what the command needs
// around it is missing, not the thing it tests.
func Env(err error) error { return WithCode(ExitEnv, err) }

// Envf is an environment error (exit 3).
func Envf(format string, args ...any) error { return Env(fmt.Errorf(format, args...)) }

// Reported is err with an exit code, already told to the user by the
// command itself: nothing more is printed, not even under --json.
func Reported(code int, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err, reported: true}
}

// Failed marks err as the failure of the thing asked for (exit 1).
func Failed(err error) error { return WithCode(ExitFailed, err) }

// errHelpShown is returned after help was printed on request: exit 0.
var errHelpShown = errors.New("help shown")

// Code is the exit code for err: 0 for nil or help shown, the code of the
// outermost *Error, else ExitFailed.
func Code(err error) int {
	if err == nil || errors.Is(err, errHelpShown) {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ExitFailed
}

// IO is where a command reads and writes. JSON is set when the command line
// holds --json: results and errors are then JSON on Stdout.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	JSON           bool
}

// Command is one command or sub-command. Run receives the arguments after
// the command's name. A command with Subs runs the sub-command named by its
// first argument; without one it runs Run, or prints its help when Run is
// nil.
type Command struct {
	Name    string
	Summary string // one line for the parent's list
	// Help is printed above the sub-command list by 'mynahil NAME -h' when
	// the command has Subs and no Run of its own.
	Help string
	Run  func(io *IO, args []string) error
	Subs []*Command

	path string // "mynahil sim list", set by App
}

// Path is the command's full name, as typed: "mynahil sim list".
func (c *Command) Path() string { return c.path }

// App is a program made of commands.
type App struct {
	Name    string // "mynahil"
	Summary string
	// Version prints the version for --version and the version command.
	Version  func(io *IO) error
	Commands []*Command
}

// Run runs the command line args (without the program name) and returns the
// exit code. Errors go to Stderr as "NAME CMD: message", or with --json as
// {"error": "...", "code": N} on Stdout.
func (a *App) Run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	asJSON := wantsJSON(args)
	args = withoutJSON(args)
	cio := &IO{Stdin: stdin, Stdout: stdout, Stderr: stderr, JSON: asJSON}
	root := &Command{Name: a.Name, Help: a.Summary, Subs: append([]*Command{a.versionCommand()}, a.Commands...)}
	setPaths(root, "")
	if len(args) > 0 {
		switch args[0] {
		case "--version", "-version":
			args[0] = "version"
		case "help":
			// "help CMD..." is "CMD... -h".
			args = append(args[1:], "-h")
		}
	}
	err := root.dispatch(cio, args)
	return a.fail(cio, err)
}

func (a *App) versionCommand() *Command {
	return &Command{Name: "version", Summary: "print the module version and the commit built from (also --version)",
		Run: func(cio *IO, args []string) error {
			fs := NewFlagSet(a.Name+" version", "Usage: "+a.Name+" version [--json]\n\nPrints the module version, the commit it was built from and the Go version.")
			fs.JSON("print the version as JSON")
			if err := fs.Parse(cio, args); err != nil {
				return err
			}
			if err := fs.NoArgs(); err != nil {
				return err
			}
			return a.Version(cio)
		}}
}

func (a *App) fail(cio *IO, err error) int {
	code := Code(err)
	if code == ExitOK {
		return ExitOK
	}
	var e *Error
	errors.As(err, &e)
	if e != nil && e.reported {
		return code
	}
	if cio.JSON {
		out := struct {
			Error string `json:"error"`
			Code  int    `json:"code"`
			Rule  string `json:"rule,omitempty"`
		}{Error: err.Error(), Code: code}
		if e != nil {
			out.Rule = e.Rule
		}
		b, _ := json.Marshal(out)
		fmt.Fprintf(cio.Stdout, "%s\n", b)
		return code
	}
	prefix := a.Name
	if e != nil && e.help != "" {
		prefix = e.help
	}
	fmt.Fprintf(cio.Stderr, "%s: %v\n", prefix, err)
	if code == ExitUsage {
		help := a.Name
		if e != nil && e.help != "" {
			help = e.help
		}
		fmt.Fprintf(cio.Stderr, "Run '%s -h' for usage.\n", help)
	}
	return code
}

func setPaths(c *Command, parent string) {
	c.path = strings.TrimSpace(parent + " " + c.Name)
	for _, s := range c.Subs {
		setPaths(s, c.path)
	}
}

func (c *Command) sub(name string) *Command {
	for _, s := range c.Subs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// dispatch runs c with args, marking errors with the command they came
// from so that usage errors point at the right -h.
func (c *Command) dispatch(cio *IO, args []string) error {
	if len(args) > 0 && len(c.Subs) > 0 {
		if s := c.sub(args[0]); s != nil {
			return s.dispatch(cio, args[1:])
		}
	}
	var err error
	switch {
	case c.Run != nil:
		err = c.Run(cio, args)
	case len(args) > 0 && isHelp(args[0]):
		c.PrintHelp(cio.Stdout)
		return nil
	case len(args) == 0:
		c.PrintHelp(cio.Stdout)
		err = Usagef("missing command")
	case strings.HasPrefix(args[0], "-"):
		err = Usagef("unknown flag %s", args[0])
	default:
		err = Usagef("unknown command %q", args[0])
	}
	var e *Error
	if errors.As(err, &e) && e.help == "" {
		e.help = c.path
	}
	return err
}

// PrintHelp writes the help of a command with sub-commands.
func (c *Command) PrintHelp(w io.Writer) {
	if c.Help != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimRight(c.Help, "\n"))
	}
	fmt.Fprintf(w, "Usage: %s <command> [flags]\n\nCommands:\n", c.path)
	c.PrintSubs(w)
	fmt.Fprintf(w, "\nRun '%s <command> -h' for the flags of one command.\n", c.path)
}

// PrintSubs writes the sub-commands, one per line with its summary.
func (c *Command) PrintSubs(w io.Writer) {
	subs := append([]*Command(nil), c.Subs...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
	for _, s := range subs {
		fmt.Fprintf(w, "  %-13s %s\n", s.Name, s.Summary)
	}
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

func isJSONFlag(a string) bool {
	return a == "--json" || a == "-json" || a == "--json=true" || a == "-json=true"
}

// withoutJSON is args without the --json flags before a "--": --json
// may stand anywhere on the command line (before the command's name, after
// a positional argument), and FlagSet.Parse sets each command's own --json
// from IO.JSON.
func withoutJSON(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !isJSONFlag(a) {
			out = append(out, a)
		}
	}
	return out
}

// wantsJSON reports whether args hold --json before a "--".
func wantsJSON(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if isJSONFlag(a) {
			return true
		}
	}
	return false
}
