package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simapi"
)

// officePrint prints an operation's result as text; a card report of
// status, and smartphone certificates, can also be written out as DER
// files into outDir.
func officePrint(w io.Writer, op string, res any, outDir string) error {
	switch r := res.(type) {
	case simapi.Report:
		officePrintReport(w, r)
		if op == "status" && outDir != "" {
			return writeCertificates(w, r, outDir)
		}
		return nil
	case []simapi.CardSummary:
		tw := cli.Table(w)
		fmt.Fprintln(tw, "CARD\tSTATUS\tHOLDER")
		for _, c := range r {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Status, c.Name)
		}
		return tw.Flush()
	case []simapi.Inquiry:
		tw := cli.Table(w)
		fmt.Fprintln(tw, "INQUIRY\tCARD\tOPERATION\tKIND\tFILED")
		for _, q := range r {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.CardID, q.Operation, q.Kind, q.FiledAt.Format(time.DateOnly))
		}
		return tw.Flush()
	case simapi.Endpoints:
		_, err := fmt.Fprintf(w, "auth CRL   %s\nsign CRL   %s\nauth OCSP  %s\nsign OCSP  %s\nauth root  %s\nsign root  %s\n",
			r.CRLAuth, r.CRLSign, r.OCSPAuth, r.OCSPSign, r.CAAuth, r.CASign)
		return err
	case simapi.Inquiry:
		_, err := fmt.Fprintf(w, "%s filed: the inquiry/answer form goes to the holder by post; complete from tomorrow with\n  mynahil office proxy-answer --inquiry %s\n", r.ID, r.ID)
		return err
	case simapi.TimeResult:
		kind := "wall clock"
		if r.Virtual {
			kind = "virtual clock"
		}
		_, err := fmt.Fprintf(w, "%s (%s)\n", r.Now.In(jst).Format("2006-01-02 15:04:05 MST"), kind)
		return err
	case simapi.Smartphone:
		return printSmartphone(w, r, outDir)
	}
	return fmt.Errorf("printing a result of type %T", res)
}

func writeCertificates(w io.Writer, r simapi.Report, outDir string) error {
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

func printSmartphone(w io.Writer, s simapi.Smartphone, outDir string) error {
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

func officePrintReport(w io.Writer, r simapi.Report) {
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.In(jst).Format(time.DateOnly)
	}
	fmt.Fprintf(w, "card %s (%s) of %s, born %s, %s\n", r.ID, r.Status, r.Holder.Name, r.Holder.BirthDate, r.Holder.Address)
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
		if c.Device == simapi.OnCard {
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
