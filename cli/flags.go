package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// FlagSet is a flag.FlagSet that prints its help on standard output, spells
// every flag --name, and turns parse errors into one usage error (exit 2).
type FlagSet struct {
	*flag.FlagSet
	cmd   string
	usage string
}

// NewFlagSet returns the flags of the command cmd ("mynahil sim list");
// usage is the text above the flag list: Usage lines and a description.
func NewFlagSet(cmd, usage string) *FlagSet {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &FlagSet{FlagSet: fs, cmd: cmd, usage: usage}
}

// JSON defines the --json flag.
func (f *FlagSet) JSON(what string) *bool {
	return f.Bool("json", false, what)
}

// Parse parses args. On -h or --help it prints the help to cio.Stdout and
// returns an error whose exit code is 0: return it. A bad flag is a usage
// error naming the command. With cio.JSON (--json anywhere on the command
// line) the command's --json flag is set.
func (f *FlagSet) Parse(cio *IO, args []string) error {
	err := f.FlagSet.Parse(args)
	if err == nil && cio.JSON && f.Lookup("json") != nil {
		err = f.Set("json", "true")
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		f.PrintHelp(cio.Stdout)
		return errHelpShown
	case err != nil:
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag --" + strings.TrimLeft(name, "-")
		} else {
			msg = strings.Replace(msg, " -", " --", 1)
		}
		return &Error{Code: ExitUsage, Err: errors.New(msg), help: f.cmd}
	}
	return nil
}

// NoArgs is a usage error when positional arguments remain after Parse.
func (f *FlagSet) NoArgs() error {
	if f.NArg() > 0 {
		return f.Usagef("unexpected argument %q", f.Arg(0))
	}
	return nil
}

// Usagef is a usage error of this command (exit 2).
func (f *FlagSet) Usagef(format string, args ...any) error {
	return &Error{Code: ExitUsage, Err: fmt.Errorf(format, args...), help: f.cmd}
}

// PrintHelp writes the usage text and the flags, each spelt --name.
func (f *FlagSet) PrintHelp(w io.Writer) {
	fmt.Fprint(w, strings.TrimRight(f.usage, "\n")+"\n")
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprint(w, "\nFlags:\n")
	f.VisitAll(func(fl *flag.Flag) {
		name, text := flag.UnquoteUsage(fl)
		line := "  --" + fl.Name
		if name != "" {
			line += " " + name
		}
		text = strings.ReplaceAll(text, "\n", "\n        ")
		fmt.Fprintf(w, "%s\n        %s", line, text)
		if !isZeroValue(fl) {
			if g, ok := fl.Value.(flag.Getter); ok && isString(g.Get()) {
				fmt.Fprintf(w, " (default %q)", fl.DefValue)
			} else {
				fmt.Fprintf(w, " (default %v)", fl.DefValue)
			}
		}
		fmt.Fprintln(w)
	})
}

// isZeroValue reports whether the flag's default is its type's zero value,
// which the help leaves out.
func isZeroValue(fl *flag.Flag) bool {
	switch fl.DefValue {
	case "", "0", "false", "0s", "[]":
		return true
	}
	return false
}

func isString(v any) bool { _, ok := v.(string); return ok }

// OptionalInt is an int flag that may be left unset: its help shows no
// default (not "(default -1)").
type OptionalInt struct {
	N     int
	Given bool // the flag was on the command line
}

// IntOpt defines an optional int flag; usage names its placeholder in
// backquotes as every flag does.
func (f *FlagSet) IntOpt(name, usage string) *OptionalInt {
	v := &OptionalInt{}
	f.Var(v, name, usage)
	return v
}

func (o *OptionalInt) String() string {
	if o == nil || !o.Given {
		return ""
	}
	return strconv.Itoa(o.N)
}

// Set parses a decimal int.
func (o *OptionalInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a number")
	}
	o.N, o.Given = n, true
	return nil
}
