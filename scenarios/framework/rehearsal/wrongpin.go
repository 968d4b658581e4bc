package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/mynahil/mynahil/harness/pcsc"
	"github.com/mynahil/mynahil/harness/pinbudget"
	"github.com/mynahil/mynahil/harness/speclabel"
	"github.com/mynahil/mynahil/harness/target"
)

// wrongPINSuites are the suites of the pass with a mistyped auth PIN: the
// example suite a user copies (examples/client) first, then two scenario
// suites, so that the budget is seen to hold across the processes of one
// ginkgo run (the later ones find the card short of a try and send
// nothing).
var wrongPINSuites = []string{"./examples/client", "./scenarios/physical", "./scenarios/jpki"}

// refused is the reason a QA engineer reads for the mistyped PIN.
const refused = "the auth PIN given was refused; 2 of 3 tries left"

// wrongPINPass runs the suites as a QA engineer who mistyped the auth PIN
// (docs/physical-cards.md, "The PIN budget") and fails unless: the run
// fails, its first and last "mynahil:" lines say why, every spec that needs
// the auth PIN is skipped with the reason, and the card's auth PIN shows
// 2 of 3 tries afterwards (one try spent in the whole run). It then gives
// the card its try back with one right VERIFY, as the engineer would.
func wrongPINPass(o options, env []string, reader, right string) error {
	wrong := []byte(right)
	wrong[len(wrong)-1] = '0' + (wrong[len(wrong)-1]-'0'+1)%10
	// The last value of a variable counts (os/exec): these replace the
	// right PIN and the summary file of the passes that follow.
	env = append(env, target.EnvAuthPIN+"="+string(wrong), "MYNAHIL_SUMMARY_FILE="+filepath.Join(o.reports, "rehearsal-wrong-pin-summary.txt"))
	report := "rehearsal-wrong-pin.json"
	fmt.Printf("rehearsal: pass 0, a mistyped auth PIN, --label-filter=!destructive %s\n", strings.Join(wrongPINSuites, " "))
	args := append(strings.Fields(o.ginkgo)[1:], "--keep-going", "--label-filter=!destructive", "--output-dir="+o.reports, "--json-report="+report)
	cmd := exec.Command(strings.Fields(o.ginkgo)[0], append(args, wrongPINSuites...)...)
	var out bytes.Buffer
	cmd.Env, cmd.Stdout, cmd.Stderr = env, io.MultiWriter(os.Stdout, &out), os.Stderr
	runErr := cmd.Run()
	var problems []string
	if runErr == nil {
		problems = append(problems, "the run passed")
	}
	problems = append(problems, firstAndLast(out.String())...)
	p, err := skippedForTheAuthPIN(filepath.Join(o.reports, report))
	if err != nil {
		return err
	}
	problems = append(problems, p...)
	left, err := authTries(reader, "")
	if err != nil {
		return err
	}
	if left != 2 {
		problems = append(problems, fmt.Sprintf("the card's auth PIN shows %d of 3 tries after the run, want 2 (one try spent)", left))
	}
	if left, err = authTries(reader, right); err != nil || left != 3 {
		problems = append(problems, fmt.Sprintf("giving the card its try back: %d of 3 tries, %v", left, err))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	fmt.Println("rehearsal: the mistyped auth PIN cost the card one try; the run failed and said so first and last; the card has its try back")
	return nil
}

// firstAndLast checks the run's first and last "mynahil:" lines.
func firstAndLast(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "mynahil: ") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return []string{"the run printed no mynahil: line"}
	}
	var p []string
	if first := lines[0]; !strings.Contains(first, "THIS RUN FAILS: "+refused) {
		p = append(p, fmt.Sprintf("the first line does not say %q: %s", refused, first))
	}
	// The last suite finds the card already short of a try: its own
	// pre-flight does not send the PIN, and says the card shows 2 of 3.
	if last := lines[len(lines)-1]; !strings.Contains(last, "THIS RUN FAILED: ") || !strings.Contains(last, "2 of 3 tries left") {
		p = append(p, fmt.Sprintf("the last line does not say the run failed for the auth PIN: %s", last))
	}
	return p
}

// skippedForTheAuthPIN reads the pass's report: every spec that needs the
// auth PIN (and may run on a physical card) was skipped with the budget's
// reason, the first suite's naming the refusal; some other spec passed.
func skippedForTheAuthPIN(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading report: %w", err)
	}
	var reports []types.Report
	if err := json.Unmarshal(b, &reports); err != nil {
		return nil, fmt.Errorf("decoding report %s: %w", path, err)
	}
	var p []string
	skipped, passed, refusedSeen := 0, 0, false
	for _, r := range reports {
		for _, sr := range r.SpecReports {
			labels := sr.Labels()
			if sr.LeafNodeType != types.NodeTypeIt || speclabel.Has(labels, speclabel.SimOnly) || speclabel.Has(labels, speclabel.Destructive) {
				continue
			}
			if sr.State == types.SpecStatePassed {
				passed++
			}
			if !speclabel.Has(labels, speclabel.NeedsAuthPIN) {
				continue
			}
			msg := sr.Failure.Message
			switch {
			case sr.State == types.SpecStateSkipped && strings.HasPrefix(msg, refused+":"):
				skipped++
				refusedSeen = true
			case sr.State == types.SpecStateSkipped && strings.HasPrefix(msg, "the auth PIN was not sent, the card shows 2 of 3 tries left"):
				skipped++
			default:
				p = append(p, fmt.Sprintf("%s: %s: %s, want skipped for the auth PIN (%s)", r.SuiteDescription, sr.FullText(), sr.State, msg))
			}
		}
	}
	if skipped == 0 || !refusedSeen {
		p = append(p, fmt.Sprintf("%d specs skipped for the auth PIN, refusal named: %v", skipped, refusedSeen))
	}
	if passed == 0 {
		p = append(p, "no spec that needs no auth PIN passed")
	}
	return p, nil
}

// authTries asks the card in reader for its auth PIN's tries left; with
// pin, it first sends one VERIFY of it: the right PIN, given back as a
// QA engineer does with their own software ("one right VERIFY restores
// the tries"), since the budget itself never sends a PIN short of tries.
func authTries(reader, pin string) (int, error) {
	card, err := pcsc.Open(reader, pcsc.Shared)
	if err != nil {
		return 0, err
	}
	defer card.Close()
	if err := pinbudget.Select(card, pinbudget.Auth); err != nil {
		return 0, err
	}
	if pin != "" {
		resp, err := card.Transmit(append([]byte{0x00, 0x20, 0x00, 0x80, byte(len(pin))}, pin...))
		if err != nil {
			return 0, err
		}
		if !bytes.HasSuffix(resp, []byte{0x90, 0x00}) {
			return 0, fmt.Errorf("VERIFY of the right auth PIN answered % X", resp)
		}
	}
	return pinbudget.TriesLeft(card)
}
