package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
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
// error naming the command.
func (f *FlagSet) Parse(cio *IO, args []string) error {
	err := f.FlagSet.Parse(args)
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
