// Command physicalcard runs the scenario suites against a physical test
// card, as 'make physical-card READER="…"' does (docs/physical-cards.md,
// "Quick start"): only the suites and specs that can run on a physical card
// (labels physical-safe and destructive, never sim-only; package
// harness/speclabel), in two passes — everything but the destructive specs,
// then, only when that passed, the destructive ones — with JUnit and JSON
// reports per pass, an HTML page of both (no APDU traces, so none of the
// holder's personal data), and, last, the line saying which state the run
// left the card in.
//
//	go run ./scenarios/framework/physicalcard [-reports DIR] [-ginkgo CMD] [PACKAGE...]
//
// MYNAHIL_READER names the reader; the PINs and opt-ins come from the
// environment as for the suites (docs/physical-cards.md).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/runsummary"
	"github.com/mynahil/mynahil/harness/speclabel"
	"github.com/mynahil/mynahil/harness/target"
)

// Label filters of the two passes: a physical card runs physical-safe and
// destructive specs only, the destructive ones in a pass of their own
// (harness/target.Decide).
var (
	filterSafe        = fmt.Sprintf("%s && !%s && !%s", speclabel.PhysicalSafe, speclabel.Destructive, speclabel.SimOnly)
	filterDestructive = fmt.Sprintf("%s && !%s", speclabel.Destructive, speclabel.SimOnly)
)

func main() { os.Exit(run()) }

func run() int {
	reports := flag.String("reports", "reports", "directory for the reports")
	ginkgo := flag.String("ginkgo", "go tool ginkgo", "the ginkgo command")
	flag.Parse()
	reader := os.Getenv(target.EnvReader)
	if reader == "" {
		fmt.Fprintln(os.Stderr, `physical-card: name your reader: make physical-card READER="…" (bin/mynahil readers lists them)`)
		return 2
	}
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		var err error
		if pkgs, err = physicalSuites("."); err != nil {
			fmt.Fprintln(os.Stderr, "physical-card:", err)
			return 3
		}
	}
	dir, err := filepath.Abs(*reports) // ginkgo runs each suite in its package's directory
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "physical-card:", err)
		return 3
	}
	code, jsons := passes(*ginkgo, dir, pkgs)
	if err := writeHTML(filepath.Join(dir, "physical-card.html"), reader, jsons); err != nil {
		fmt.Fprintln(os.Stderr, "physical-card: writing the HTML report:", err)
		code = 1
	}
	fmt.Printf("physical-card: reports in %s: physical-card-N.xml (JUnit), physical-card-N.json, physical-card.html\n", dir)
	fmt.Println(cardStateLine(reader, jsons))
	return code
}

// passes runs the two passes and returns the exit code (0 when every pass
// that ran passed) and the JSON reports written.
func passes(ginkgo, dir string, pkgs []string) (int, []string) {
	var jsons []string
	for i, filter := range []string{filterSafe, filterDestructive} {
		if i == 1 && os.Getenv(target.EnvAllowDestructive) != "1" {
			fmt.Printf("physical-card: the destructive pass does not run: %s=1 and %s opt in (docs/physical-cards.md)\n",
				target.EnvAllowDestructive, target.EnvFingerprint)
			break
		}
		name := fmt.Sprintf("physical-card-%d", i+1)
		fmt.Printf("physical-card: pass %d, --label-filter='%s' %s\n", i+1, filter, strings.Join(pkgs, " "))
		args := append(strings.Fields(ginkgo), "--keep-going", "--label-filter="+filter, "--output-dir="+dir,
			"--junit-report="+name+".xml", "--json-report="+name+".json")
		cmd := exec.Command(args[0], append(args[1:], pkgs...)...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		err := cmd.Run()
		if _, statErr := os.Stat(filepath.Join(dir, name+".json")); statErr == nil {
			jsons = append(jsons, filepath.Join(dir, name+".json"))
		}
		if err != nil {
			if i == 0 {
				fmt.Println("physical-card: the first pass failed, so the destructive pass does not run")
			}
			return 1, jsons
		}
	}
	return 0, jsons
}

// physicalSuites lists the suites under root/scenarios that hold a spec
// labelled physical-safe or destructive: the only ones with anything to
// run on a physical card.
func physicalSuites(root string) ([]string, error) {
	suites, err := filepath.Glob(filepath.Join(root, "scenarios", "*", "*_suite_test.go"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range suites {
		dir := filepath.Dir(s)
		tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
		for _, f := range tests {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			if strings.Contains(string(b), "speclabel.PhysicalSafe") || strings.Contains(string(b), "speclabel.Destructive") {
				rel, _ := filepath.Rel(root, dir)
				out = append(out, "./"+filepath.ToSlash(rel))
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no suite under scenarios/ has a physical-safe or destructive spec")
	}
	return out, nil
}

// readReports reads Ginkgo JSON reports.
func readReports(paths []string) ([]types.Report, error) {
	var all []types.Report
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rs []types.Report
		if err := json.Unmarshal(b, &rs); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		all = append(all, rs...)
	}
	return all, nil
}

// cardStateLine is the run's last line: the state the last suite read from
// the card at its end (runsummary.EntryCardState).
func cardStateLine(reader string, jsons []string) string {
	rs, err := readReports(jsons)
	if err != nil {
		return fmt.Sprintf("mynahil: the state of the card in %q is unknown: %v", reader, err)
	}
	if state := lastCardState(rs); state != "" {
		return fmt.Sprintf("mynahil: the card in %q is left with %s", reader, state)
	}
	return fmt.Sprintf("mynahil: the state of the card in %q is unknown: no suite read it (did any spec run on it?)", reader)
}

// lastCardState is the last card-state entry of the reports, "" if none.
func lastCardState(rs []types.Report) string {
	state := ""
	for _, r := range rs {
		for _, s := range r.SpecReports {
			for _, e := range s.ReportEntries {
				if e.Name == runsummary.EntryCardState {
					state = e.StringRepresentation()
				}
			}
		}
	}
	return state
}
