// Command mynahil runs the simulated My Number Card, its issuing office, and the
// conformance and scenario tooling around it. Each command lives in its own
// file and registers itself with register; the framework (help, exit codes,
// JSON errors) is package cli, the logic lives in the packages
// (docs/cli.md).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/mynahil/mynahil/cli"
)

var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

func app() *cli.App {
	return &cli.App{
		Name:     "mynahil",
		Summary:  "mynahil: a simulated My Number Card (JPKI), its issuing office, and the suites that test readers and clients against it.\nDocumentation: README.md and docs/ in the repository; exit codes in docs/cli.md.",
		Version:  printVersion,
		Commands: commands,
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return app().Run(args, stdin, stdout, stderr)
}

func printVersion(cio *cli.IO) error {
	bi := cli.ReadBuildInfo()
	if cio.JSON {
		return cli.PrintJSON(cio.Stdout, bi)
	}
	_, err := fmt.Fprintf(cio.Stdout, "mynahil %s\n", bi)
	return err
}
