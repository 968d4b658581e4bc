// Command shard splits the scenario suites into shards for several CI hosts
// and merges their reports back (docs/suites.md, "Sharding across CI
// hosts"):
//
//	ginkgo --dry-run --json-report=plan.json SUITES...       # the specs, on every host
//	go run ./scenarios/framework/shard plan -shard 1/2 plan.json   # this host's ginkgo filters
//	go run ./scenarios/framework/shard merge -plan plan.json -json all.json -junit all.xml SHARD.json...
//
// plan assigns every top-level container of every suite (with all its
// specs, so that Ordered containers stay whole) to one shard, balancing
// spec counts, and prints the --focus-file filters of one shard, one a
// line. The assignment depends only on the specs, so every host computes
// the same plan from its own checkout.
//
// merge joins the shards' Ginkgo JSON reports into one JSON and one JUnit
// report and checks that every spec of the plan ran in exactly one shard
// and none failed. It prints one summary line per suite. Exit codes: 0 all
// present once and passed, 1 a spec missing, duplicated or failed, 2 usage.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2/types"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: shard plan -shard I/N PLAN.json | shard merge -plan PLAN.json [-json OUT] [-junit OUT] SHARD.json...")
		return 2
	}
	var err error
	switch args[0] {
	case "plan":
		err = planCmd(args[1:], stdout)
	case "merge":
		err = mergeCmd(args[1:], stdout)
	default:
		err = usageError{fmt.Errorf("unknown command %q (have plan, merge)", args[0])}
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "shard: %v\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "shard: %v\n", err)
	return 1
}

type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

func planCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("shard plan", flag.ContinueOnError)
	which := fs.String("shard", "", "`I/N`: shard I of N (1-based)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		return usageError{errors.New("plan needs -shard I/N and one dry-run report")}
	}
	i, n, err := parseShard(*which)
	if err != nil {
		return usageError{err}
	}
	reports, err := readReports(fs.Arg(0))
	if err != nil {
		return err
	}
	filters := Plan(reports, n)[i-1]
	if len(filters) == 0 {
		// No filter would run every spec: this shard has none.
		filters = []string{noSpecs}
	}
	for _, f := range filters {
		fmt.Fprintln(stdout, "--focus-file="+f)
	}
	return nil
}

func parseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("-shard %q: want I/N with 1 ≤ I ≤ N", s)
	}
	return i, n, nil
}

func readReports(path string) ([]types.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var r []types.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("decoding report %s: %w", path, err)
	}
	return r, nil
}

// noSpecs is the filter of a shard without specs: it matches no file.
const noSpecs = "^no spec is in this shard$"

// group is one top-level container (or top-level spec) and its specs.
type group struct {
	file  string // path from the scenarios/ directory on, as a regexp
	line  int
	specs int
}

// relPath cuts an absolute path to the part from "scenarios/" on, so that
// plans agree between checkouts in different directories.
func relPath(p string) string {
	if i := strings.LastIndex(p, "/scenarios/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// topLocation is where a spec's outermost node is.
func topLocation(s types.SpecReport) types.CodeLocation {
	if len(s.ContainerHierarchyLocations) > 0 {
		return s.ContainerHierarchyLocations[0]
	}
	return s.LeafNodeLocation
}

// Plan splits the specs (It nodes) of reports into n shards by top-level
// container, the biggest group first into the shard with the fewest specs
// (ties: the lower shard), and returns each shard's --focus-file filters,
// one per file ("path:line,line").
func Plan(reports []types.Report, n int) [][]string {
	byKey := map[string]*group{}
	for _, r := range reports {
		for _, s := range r.SpecReports {
			if s.LeafNodeType != types.NodeTypeIt {
				continue
			}
			loc := topLocation(s)
			g := &group{file: relPath(loc.FileName), line: loc.LineNumber}
			key := g.file + ":" + strconv.Itoa(g.line)
			if byKey[key] == nil {
				byKey[key] = g
			}
			byKey[key].specs++
		}
	}
	groups := make([]*group, 0, len(byKey))
	for _, g := range byKey {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(a, b int) bool {
		ga, gb := groups[a], groups[b]
		if ga.specs != gb.specs {
			return ga.specs > gb.specs
		}
		if ga.file != gb.file {
			return ga.file < gb.file
		}
		return ga.line < gb.line
	})
	load := make([]int, n)
	lines := make([]map[string][]int, n)
	for i := range lines {
		lines[i] = map[string][]int{}
	}
	for _, g := range groups {
		i := slices.Index(load, slices.Min(load))
		load[i] += g.specs
		lines[i][g.file] = append(lines[i][g.file], g.line)
	}
	out := make([][]string, n)
	for i, files := range lines {
		for file, ls := range files {
			sort.Ints(ls)
			strs := make([]string, len(ls))
			for j, l := range ls {
				strs[j] = strconv.Itoa(l)
			}
			out[i] = append(out[i], regexp.QuoteMeta(file)+"$:"+strings.Join(strs, ","))
		}
		sort.Strings(out[i])
	}
	return out
}
