// Command mynahil runs the simulated My Number Card, its issuing office, and the
// conformance and scenario tooling around it. Each subcommand lives in its own
// file and registers itself in commands; the logic lives in the packages.
package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
)

// command is one subcommand: a one-line summary for the overview and a run
// function that receives the arguments after the subcommand's name.
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

func usage() {
	fmt.Fprintf(os.Stderr, "mynahil: a simulated My Number Card (JPKI) and its test harness\n\nUsage: mynahil <command> [flags]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'mynahil <command> -h' for the flags of one command.\n")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		if len(os.Args) < 2 {
			os.Exit(2)
		}
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "mynahil: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		var r *reported
		if !errors.As(err, &r) {
			fmt.Fprintf(os.Stderr, "mynahil %s: %v\n", os.Args[1], err)
		}
		os.Exit(exitCode(err))
	}
}
