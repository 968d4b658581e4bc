package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
)

// officePrinters print an operation's result as text; operations not listed
// return a card report (officePrintReport), which status can also write out
// as DER files.
var officePrinters = map[string]func(w io.Writer, raw json.RawMessage, outDir string) error{
	"cards":        printCards,
	"inquiries":    printInquiries,
	"endpoints":    printEndpoints,
	"proxy-file":   printProxyFile,
	"proxy-answer": func(w io.Writer, _ json.RawMessage, _ string) error { _, err := fmt.Fprintln(w, "done"); return err },
	"time":         printTime,
	"smartphone":   printSmartphone,
}

func officePrint(w io.Writer, op string, raw json.RawMessage, outDir string) error {
	if p, ok := officePrinters[op]; ok {
		return p(w, raw, outDir)
	}
	var r office.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	officePrintReport(w, r)
	if op != "status" || outDir == "" {
		return nil
	}
	for _, c := range r.Certificates {
		if len(c.DER) == 0 {
			continue
		}
		p := filepath.Join(outDir, fmt.Sprintf("%s-%s.der", c.Device, c.Kind))
		if err := os.WriteFile(p, c.DER, 0o644); err != nil {
			return fmt.Errorf("writing certificate: %w", err)
		}
		fmt.Fprintf(w, "wrote %s (serial %d, %s)\n", p, c.Serial, c.State)
	}
	return nil
}

func printCards(w io.Writer, raw json.RawMessage, _ string) error {
	var list []office.CardSummary
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	tw := cli.Table(w)
	fmt.Fprintln(tw, "CARD\tSTATUS\tHOLDER")
	for _, c := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Status, c.Name)
	}
	return tw.Flush()
}

func printInquiries(w io.Writer, raw json.RawMessage, _ string) error {
	var list []office.Inquiry
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	tw := cli.Table(w)
	fmt.Fprintln(tw, "INQUIRY\tCARD\tOPERATION\tKIND\tFILED")
	for _, q := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.CardID, q.Operation, q.Kind, q.FiledAt.Format(time.DateOnly))
	}
	return tw.Flush()
}

func printEndpoints(w io.Writer, raw json.RawMessage, _ string) error {
	var e office.Endpoints
	if err := json.Unmarshal(raw, &e); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	_, err := fmt.Fprintf(w, "auth CRL   %s\nsign CRL   %s\nauth OCSP  %s\nsign OCSP  %s\nauth root  %s\nsign root  %s\n",
		e.CRLAuth, e.CRLSign, e.OCSPAuth, e.OCSPSign, e.CAAuth, e.CASign)
	return err
}

func printProxyFile(w io.Writer, raw json.RawMessage, _ string) error {
	var q office.Inquiry
	if err := json.Unmarshal(raw, &q); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	_, err := fmt.Fprintf(w, "%s filed: the inquiry/answer form goes to the holder by post; complete from tomorrow with\n  mynahil office proxy-answer --inquiry %s\n", q.ID, q.ID)
	return err
}

func printTime(w io.Writer, raw json.RawMessage, _ string) error {
	var t office.TimeResult
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	kind := "wall clock"
	if t.Virtual {
		kind = "virtual clock"
	}
	_, err := fmt.Fprintf(w, "%s (%s)\n", t.Now.In(jst).Format("2006-01-02 15:04:05 MST"), kind)
	return err
}

func printSmartphone(w io.Writer, raw json.RawMessage, outDir string) error {
	var s office.Smartphone
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	if outDir == "" {
		_, err := fmt.Fprintf(w, "smartphone certificates issued (%d and %d bytes); --out DIR writes them\n", len(s.Sign), len(s.Auth))
		return err
	}
	for name, der := range map[string][]byte{"smartphone-sign.der": s.Sign, "smartphone-auth.der": s.Auth} {
		if err := os.WriteFile(filepath.Join(outDir, name), der, 0o644); err != nil {
			return fmt.Errorf("writing smartphone certificate: %w", err)
		}
		fmt.Fprintf(w, "wrote %s\n", filepath.Join(outDir, name))
	}
	return nil
}

func officePrintReport(w io.Writer, r office.Report) {
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(jst).Format(time.DateOnly)
	}
	fmt.Fprintf(w, "card %s (%s) of %s, born %s, %s\n", r.ID, r.Status, r.Holder.Name, day(r.Holder.BirthDate.Time), r.Holder.Address)
	fmt.Fprintf(w, "issued %s, card valid to %s; as of %s\n", day(r.IssueDate), day(r.CardExpiry), r.At.In(jst).Format("2006-01-02 15:04 MST"))
	tw := cli.Table(w)
	fmt.Fprintln(tw, "CERTIFICATE\tSERIAL\tSTATE\tVALID TO\tON CHIP")
	for _, c := range r.Certificates {
		state := c.State
		if c.Reason != "" {
			state += " (" + c.Reason + ", " + day(c.RevokedAt) + ")"
		}
		serial, chip := "-", "-"
		if c.Serial != 0 {
			serial = fmt.Sprint(c.Serial)
		}
		if c.Device == authority.OnCard {
			chip = map[bool]string{true: "yes", false: "no"}[c.OnChip]
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", c.Device, c.Kind, serial, state, day(c.NotAfter), chip)
	}
	tw.Flush()
	fmt.Fprintf(w, "PIN tries left: auth %d/3, sign %d/5\n", r.AuthTriesLeft, r.SignTriesLeft)
	if len(r.History) > 0 {
		fmt.Fprintln(w, "history:")
		for _, e := range r.History {
			fmt.Fprintf(w, "  %s  %s\n", day(e.At), e.What)
		}
	}
}

var jst = time.FixedZone("JST", 9*60*60)
