package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mynahil/mynahil/control"
	"github.com/mynahil/mynahil/simcard/authority"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
)

func init() {
	register("office", "the municipal office: certificates, PINs, changes of facts, loss, renewal (needs a running sim)", runOffice)
}

const officeHelp = `Usage:
  mynahil office OPERATION [--state DIR | --control ADDR] [--json] [flags]

Every operation is performed by the municipal office of a running
'mynahil sim' (lifecycle-rules.md), through its control socket (default
unix:<state>/control.sock, state = --state, else $MYNAHIL_STATE, else
./mynahil-state). A refusal names the rule that refused it.

Operations:
  cards                                         list the registry
  status       --card ID [--out DIR]            certificates, their state, PIN tries, history;
                                                --out writes the current certificates as DER
  issue-card   [--profile FILE]                 issue a new card (PINs come from the profile)
  issue-cert   --card ID --kind auth|sign       issue a certificate later (PIN: see below)
  reset-pin    --card ID --kind auth|sign       re-set / unlock a PIN (PIN: see below)
  change-facts --card ID [--name N] [--address A] [--birth-date YYYY-MM-DD]
               [--sex male|female|unspecified] [--former-surname S]
                                                revokes the signing certificate
  revoke       --card ID --kind auth|sign       the holder gives a certificate up
  report-loss  --card ID                        both certificates revoked (keyCompromise)
  death        --card ID                        both certificates revoked, card dead
  move-abroad  --card ID                        both certificates revoked, card dead
  invalidate   --card ID                        both certificates revoked, card dead
  renew        --card ID [--new-pins]           renewal (from 3 months before expiry)
  smartphone   --card ID [--out DIR]            smartphone certificates (DER files in DIR)
  proxy-file   --card ID --operation issue-certificate|reset-pin --kind auth|sign
                                                a proxy files; prints the inquiry ID
  proxy-answer --inquiry ID                     complete with the holder's sealed PIN
  inquiries                                     open proxy applications
  endpoints                                     CRL and OCSP URLs for relying parties
  time         [--set DATE] [--advance 1y2m3d]  show the office's time; move it when the sim
                                                runs on a virtual clock

PINs are never taken from the command line. They come from
$MYNAHIL_AUTH_PIN or $MYNAHIL_SIGN_PIN (by the certificate kind), else from
the terminal without echo (twice), else one line of standard input.
renew --new-pins asks for both (empty keeps the old PIN).

Flags:
`

// officeIO is where the office command reads PINs and writes output.
type officeIO struct {
	out    io.Writer
	in     *bufio.Reader
	inFD   int // -1 when stdin is not a terminal we may switch off echo on
	errOut io.Writer
}

func runOffice(args []string) error {
	return officeMain(args, officeIO{out: os.Stdout, errOut: os.Stderr, in: bufio.NewReader(os.Stdin), inFD: int(os.Stdin.Fd())})
}

func officeMain(args []string, cio officeIO) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(cio.errOut, officeHelp)
		if len(args) == 0 {
			return errors.New("missing operation")
		}
		return nil
	}
	op := args[0]
	fs := flag.NewFlagSet("mynahil office "+op, flag.ContinueOnError)
	fs.SetOutput(cio.errOut)
	state := fs.String("state", simd.DefaultStateDir(), "state directory of the running sim")
	ctl := fs.String("control", "", "control address of the running sim (default unix:<state>/control.sock)")
	asJSON := fs.Bool("json", false, "print the raw JSON result")
	cardID := fs.String("card", "", "card `ID` (see 'mynahil office cards')")
	kind := fs.String("kind", "", "certificate `kind`: auth or sign")
	profilePath := fs.String("profile", "", "card profile `FILE` (JSON)")
	name := fs.String("name", "", "new name (family and given name, full-width space between)")
	address := fs.String("address", "", "new address")
	birth := fs.String("birth-date", "", "new date of birth, YYYY-MM-DD")
	sex := fs.String("sex", "", "new sex: male, female or unspecified")
	former := fs.String("former-surname", "", "former surname (旧姓) to add")
	newPINs := fs.Bool("new-pins", false, "renew: set new PINs")
	outDir := fs.String("out", "", "status, smartphone: directory for the DER certificates")
	proxyOp := fs.String("operation", "", "proxy-file: issue-certificate or reset-pin")
	inquiry := fs.String("inquiry", "", "proxy-answer: inquiry `ID`")
	setTime := fs.String("set", "", "time: set the virtual clock to `DATE` (YYYY-MM-DD, JST midnight, or RFC 3339)")
	advance := fs.String("advance", "", "time: move the virtual clock by `SPAN` such as 90d, 3m, 1y2m")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), officeHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		// Not quoted: a stray argument may well be a PIN.
		return fmt.Errorf("%s: %d unexpected positional argument(s); PINs are never taken from the command line (see -h)", op, fs.NArg())
	}
	needCard := func() error {
		if *cardID == "" {
			return fmt.Errorf("%s: --card is required", op)
		}
		return nil
	}
	needKind := func() (authority.Kind, error) {
		if err := needCard(); err != nil {
			return "", err
		}
		if *kind != string(authority.Auth) && *kind != string(authority.Sign) {
			return "", fmt.Errorf("%s: --kind must be auth or sign", op)
		}
		return authority.Kind(*kind), nil
	}

	var method string
	var params any
	switch op {
	case "cards", "inquiries", "endpoints":
		method = "office." + op
	case "status", "report-loss", "death", "move-abroad", "invalidate", "smartphone":
		if err := needCard(); err != nil {
			return err
		}
		method, params = "office."+op, office.CardParams{Card: *cardID}
	case "issue-card":
		method = "office.issue-card"
		p := office.IssueParams{}
		if *profilePath != "" {
			b, err := os.ReadFile(*profilePath)
			if err != nil {
				return fmt.Errorf("reading profile: %w", err)
			}
			if _, err := profile.Parse(b); err != nil {
				return err
			}
			p.Profile = b
		}
		params = p
	case "issue-cert", "reset-pin":
		k, err := needKind()
		if err != nil {
			return err
		}
		pin, err := cio.readPIN(k, false)
		if err != nil {
			return err
		}
		method = map[string]string{"issue-cert": "office.issue-certificate", "reset-pin": "office.reset-pin"}[op]
		params = office.PINParams{Card: *cardID, Kind: k, PIN: pin}
	case "revoke":
		k, err := needKind()
		if err != nil {
			return err
		}
		method, params = "office.revoke", office.CertParams{Card: *cardID, Kind: k}
	case "change-facts":
		if err := needCard(); err != nil {
			return err
		}
		p := office.FactsParams{Card: *cardID}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["name"] {
			p.Name = name
		}
		if set["address"] {
			p.Address = address
		}
		if set["former-surname"] {
			p.FormerSurname = former
		}
		if set["birth-date"] {
			var d profile.Date
			if err := d.UnmarshalJSON([]byte(`"` + *birth + `"`)); err != nil {
				return fmt.Errorf("change-facts: --birth-date: %w", err)
			}
			p.BirthDate = &d
		}
		if set["sex"] {
			s := profile.Sex(*sex)
			p.Sex = &s
		}
		if p.Name == nil && p.Address == nil && p.FormerSurname == nil && p.BirthDate == nil && p.Sex == nil {
			return errors.New("change-facts: give at least one of --name, --address, --birth-date, --sex, --former-surname")
		}
		method, params = "office.change-facts", p
	case "renew":
		if err := needCard(); err != nil {
			return err
		}
		p := office.RenewParams{Card: *cardID}
		if *newPINs {
			var err error
			if p.AuthPIN, err = cio.readPIN(authority.Auth, true); err != nil {
				return err
			}
			if p.SignPIN, err = cio.readPIN(authority.Sign, true); err != nil {
				return err
			}
		}
		method, params = "office.renew", p
	case "proxy-file":
		k, err := needKind()
		if err != nil {
			return err
		}
		method, params = "office.proxy-file", office.ProxyParams{Card: *cardID, Operation: office.ProxyOperation(*proxyOp), Kind: k}
	case "time":
		p := office.TimeParams{Set: *setTime}
		if *advance != "" {
			var err error
			if p.Years, p.Months, p.Days, err = parseSpan(*advance); err != nil {
				return err
			}
		}
		method, params = "office.time", p
	case "proxy-answer":
		if *inquiry == "" {
			return errors.New("proxy-answer: --inquiry is required")
		}
		method = "office.proxy-answer"
	default:
		fs.Usage()
		return fmt.Errorf("unknown operation %q", op)
	}

	addr := *ctl
	if addr == "" {
		addr = control.DefaultAddr(*state)
	}
	c, err := control.Dial(addr, control.WithStateToken(*state))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if op == "proxy-answer" {
		// The PIN's kind is the inquiry's: ask the office which it is.
		var open []office.Inquiry
		if err := c.Call(ctx, "office.inquiries", nil, &open); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		var k authority.Kind
		for _, q := range open {
			if q.ID == *inquiry {
				k = q.Kind
			}
		}
		if k == "" {
			return fmt.Errorf("%s: no open inquiry %q (rule %s)", op, *inquiry, office.RuleUnknownInquiry)
		}
		pin, err := cio.readPIN(k, false)
		if err != nil {
			return err
		}
		params = office.AnswerParams{Inquiry: *inquiry, PIN: pin}
	}

	var raw json.RawMessage
	if err := c.Call(ctx, method, params, &raw); err != nil {
		var ce *control.Error
		if errors.As(err, &ce) && ce.Rule != "" && !strings.Contains(ce.Message, "rule "+ce.Rule) {
			return fmt.Errorf("%s: %s (rule %s)", op, ce.Message, ce.Rule)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if *asJSON {
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		_ = enc.Encode(v)
		_, err := fmt.Fprint(cio.out, buf.String())
		return err
	}
	return officePrint(cio.out, op, raw, *outDir)
}

func officePrint(w io.Writer, op string, raw json.RawMessage, outDir string) error {
	switch op {
	case "cards":
		var list []office.CardSummary
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CARD\tSTATUS\tHOLDER")
		for _, c := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.ID, c.Status, c.Name)
		}
		return tw.Flush()
	case "inquiries":
		var list []office.Inquiry
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "INQUIRY\tCARD\tOPERATION\tKIND\tFILED")
		for _, q := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.CardID, q.Operation, q.Kind, q.FiledAt.Format(time.DateOnly))
		}
		return tw.Flush()
	case "endpoints":
		var e office.Endpoints
		if err := json.Unmarshal(raw, &e); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		fmt.Fprintf(w, "auth CRL   %s\nsign CRL   %s\nauth OCSP  %s\nsign OCSP  %s\nauth root  %s\nsign root  %s\n",
			e.CRLAuth, e.CRLSign, e.OCSPAuth, e.OCSPSign, e.CAAuth, e.CASign)
		return nil
	case "proxy-file":
		var q office.Inquiry
		if err := json.Unmarshal(raw, &q); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		fmt.Fprintf(w, "%s filed: the inquiry/answer form goes to the holder by post; complete from tomorrow with\n  mynahil office proxy-answer --inquiry %s\n", q.ID, q.ID)
		return nil
	case "proxy-answer":
		fmt.Fprintln(w, "done")
		return nil
	case "time":
		var t office.TimeResult
		if err := json.Unmarshal(raw, &t); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		kind := "wall clock"
		if t.Virtual {
			kind = "virtual clock"
		}
		fmt.Fprintf(w, "%s (%s)\n", t.Now.In(jst).Format("2006-01-02 15:04:05 MST"), kind)
		return nil
	case "smartphone":
		var s office.Smartphone
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		if outDir == "" {
			fmt.Fprintf(w, "smartphone certificates issued (%d and %d bytes); --out DIR writes them\n", len(s.Sign), len(s.Auth))
			return nil
		}
		for name, der := range map[string][]byte{"smartphone-sign.der": s.Sign, "smartphone-auth.der": s.Auth} {
			if err := os.WriteFile(filepath.Join(outDir, name), der, 0o644); err != nil {
				return fmt.Errorf("writing smartphone certificate: %w", err)
			}
			fmt.Fprintf(w, "wrote %s\n", filepath.Join(outDir, name))
		}
		return nil
	}
	var r office.Report
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("decoding result: %w", err)
	}
	officePrintReport(w, r)
	if op == "status" && outDir != "" {
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
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
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

// readPIN takes the PIN of a kind from $MYNAHIL_AUTH_PIN / $MYNAHIL_SIGN_PIN,
// else the terminal without echo (asked twice), else a line of stdin. With
// optional, an empty answer means "keep".
func (cio officeIO) readPIN(k authority.Kind, optional bool) (string, error) {
	env := "MYNAHIL_AUTH_PIN"
	label := "authentication PIN (4 digits)"
	if k == authority.Sign {
		env, label = "MYNAHIL_SIGN_PIN", "signing PIN (6–16 of A–Z 0–9)"
	}
	if v, ok := os.LookupEnv(env); ok {
		return v, nil
	}
	if optional {
		label += ", empty keeps the old one"
	}
	if cio.inFD >= 0 {
		if old, err := unix.IoctlGetTermios(cio.inFD, unix.TCGETS); err == nil {
			return cio.promptNoEcho(old, label, optional)
		}
	}
	line, err := cio.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || line == "") {
		return "", fmt.Errorf("reading %s: set $%s or type it on a terminal", label, env)
	}
	pin := strings.TrimRight(line, "\r\n")
	if pin == "" && !optional {
		return "", fmt.Errorf("reading %s: empty", label)
	}
	return pin, nil
}

func (cio officeIO) promptNoEcho(old *unix.Termios, label string, optional bool) (string, error) {
	quiet := *old
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ECHONL
	if err := unix.IoctlSetTermios(cio.inFD, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("switching off echo: %w", err)
	}
	defer unix.IoctlSetTermios(cio.inFD, unix.TCSETS, old)
	read := func(prompt string) (string, error) {
		fmt.Fprint(cio.errOut, prompt)
		line, err := cio.in.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", label, err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	first, err := read("New " + label + ": ")
	if err != nil {
		return "", err
	}
	if first == "" {
		if optional {
			return "", nil
		}
		return "", fmt.Errorf("reading %s: empty", label)
	}
	second, err := read("Again: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", fmt.Errorf("reading %s: the two entries differ", label)
	}
	return first, nil
}

var spanRE = regexp.MustCompile(`^(?:(\d+)y)?(?:(\d+)m)?(?:(\d+)d)?$`)

// parseSpan reads "1y2m3d" (any part optional, at least one present).
func parseSpan(s string) (years, months, days int, err error) {
	m := spanRE.FindStringSubmatch(s)
	if m == nil || s == "" {
		return 0, 0, 0, fmt.Errorf("time: --advance %q: want a span such as 90d, 3m or 1y2m3d", s)
	}
	n := func(v string) int {
		if v == "" {
			return 0
		}
		i, _ := strconv.Atoi(v)
		return i
	}
	return n(m[1]), n(m[2]), n(m[3]), nil
}
