package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/mynahil/mynahil/harness/pcsc"
)

func init() {
	register("readers", "list PC/SC readers with card state and ATR", runReaders)
}

// readerJSON is one reader in `mynahil readers -json`.
type readerJSON struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	State string `json:"state"`
	ATR   string `json:"atr,omitempty"`
}

func runReaders(args []string) error {
	fs := flag.NewFlagSet("readers", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: mynahil readers [-json]\n\n"+
			"Lists the readers pcscd knows, with card state and ATR. The index and\n"+
			"the name (or a unique part of it) select a reader in MYNAHIL_READER.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c, err := pcsc.Establish()
	if err != nil {
		if errors.Is(err, pcsc.ErrNoService) {
			return fmt.Errorf("%w (start it, or run under scripts/with-pcscd)", err)
		}
		return err
	}
	defer c.Close()
	rs, err := c.Readers()
	if err != nil {
		return err
	}
	return printReaders(os.Stdout, rs, *asJSON)
}

func printReaders(w io.Writer, rs []pcsc.ReaderInfo, asJSON bool) error {
	if asJSON {
		out := make([]readerJSON, len(rs))
		for i, r := range rs {
			out[i] = readerJSON{Index: r.Index, Name: r.Name, State: r.StateString(), ATR: r.ATRHex()}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(rs) == 0 {
		_, err := fmt.Fprintln(w, "no readers")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tREADER\tSTATE\tATR")
	for _, r := range rs {
		atr := r.ATRHex()
		if atr == "" {
			atr = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Index, r.Name, r.StateString(), atr)
	}
	return tw.Flush()
}
