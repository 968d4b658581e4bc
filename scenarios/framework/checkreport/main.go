// Command checkreport checks Ginkgo JSON reports of the scenario suites:
// every spec of the named suites ran and passed (make suites runs it on the
// vpcd and pcsc reports for the lifecycle and card-info suites).
//
//	go run ./scenarios/framework/checkreport -suites lifecycle,cardinfo REPORT.json...
//	go run ./scenarios/framework/checkreport -timelines TIMELINE.json...
//
// With -timelines the arguments are timelines (framework.Timeline, one per
// target) that must tell the same story.
//
// Exit codes: 0 every spec passed, 1 a spec failed or was skipped or a
// suite is missing, 2 usage error.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/mynahil/mynahil/scenarios/framework"
)

func main() {
	suites := flag.String("suites", "lifecycle,cardinfo,cardinfoclient", "comma-separated suites (last path element) that must pass whole")
	flag.Usage = func() {
		fmt.Fprintln(os.Stdout, "usage: checkreport [-suites a,b] REPORT.json... | checkreport -timelines TIMELINE.json...")
		flag.PrintDefaults()
	}
	timelines := flag.Bool("timelines", false, "the arguments are timelines that must tell the same story")
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *timelines {
		if err := framework.SameStory(flag.Args()...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("%s tell the same story\n", strings.Join(flag.Args(), ", "))
		return
	}
	failed := false
	for _, path := range flag.Args() {
		if err := framework.CheckReport(path, strings.Split(*suites, ",")...); err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		fmt.Printf("%s: every spec of %s passed\n", path, *suites)
	}
	if failed {
		os.Exit(1)
	}
}
