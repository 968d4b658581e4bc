package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mynahil/mynahil/cli"
	"github.com/mynahil/mynahil/simapi"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
	"github.com/mynahil/mynahil/simd"
)

const officeHelp = `The municipal office of a running 'mynahil sim' (docs/lifecycle-rules.md):
certificates, PINs, changes of facts, loss, renewal, on the sim's virtual
clock. Every operation goes through the sim's control socket (--state or
--control, as for 'mynahil sim list'). A refusal names the rule that refused
it and exits 1.

PINs are never taken from the command line: they come from
$MYNAHIL_AUTH_PIN or $MYNAHIL_SIGN_PIN (by the certificate kind), else from
the terminal without echo (twice), else one line of standard input.`

// officeOpts are every operation's flag values; each operation defines the
// flags it uses.
type officeOpts struct {
	sim                                      simFlags
	asJSON                                   *bool
	card, kind, profile, out, inquiry, proxy string
	name, address, birth, sex, former        string
	setTime, advance                         string
	newPINs                                  bool
	set                                      map[string]bool // flags given on the command line
}

// officeOp is one operation: its flags, and what it does through the
// client (reading PINs as needed), returning the result to print.
type officeOp struct {
	name, args, summary string
	flags               func(fs *cli.FlagSet, o *officeOpts)
	do                  func(ctx context.Context, o *officeOpts, cio officeIO, c *simapi.Client) (any, error)
}

func cardFlag(fs *cli.FlagSet, o *officeOpts) {
	fs.StringVar(&o.card, "card", "", "card `ID` (see 'mynahil office cards'), required")
}

func kindFlags(fs *cli.FlagSet, o *officeOpts) {
	cardFlag(fs, o)
	fs.StringVar(&o.kind, "kind", "", "certificate `KIND`: auth or sign, required")
}

func outFlags(fs *cli.FlagSet, o *officeOpts) {
	cardFlag(fs, o)
	fs.StringVar(&o.out, "out", "", "write the certificates as DER files into `DIR`")
}

// cardOp is an operation that takes --card only.
func cardOp(name, summary string, fn func(*simapi.Client, context.Context, simapi.CardParams) (simapi.Report, error)) officeOp {
	return officeOp{name: name, args: "--card ID", summary: summary, flags: cardFlag,
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return fn(c, ctx, simapi.CardParams{Card: o.card})
		}}
}

var officeOps = []officeOp{
	{name: "cards", summary: "list the registry",
		do: func(ctx context.Context, _ *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Cards(ctx)
		}},
	{name: "status", args: "--card ID [--out DIR]", summary: "certificates, their state, PIN tries, history", flags: outFlags,
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Report(ctx, simapi.CardParams{Card: o.card})
		}},
	{name: "issue-card", args: "[--profile FILE]", summary: "issue a new card (PINs come from the profile)",
		flags: func(fs *cli.FlagSet, o *officeOpts) {
			fs.StringVar(&o.profile, "profile", "", "card profile `FILE` (JSON); default: the built-in profile")
		},
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			p := simapi.IssueParams{}
			if o.profile != "" {
				b, err := os.ReadFile(o.profile)
				if err != nil {
					return nil, cli.WithCode(cli.ExitUsage, fmt.Errorf("reading profile: %w", err))
				}
				if _, err := profile.Parse(b); err != nil {
					return nil, cli.WithCode(cli.ExitUsage, err)
				}
				p.Profile = b
			}
			return c.IssueCard(ctx, p)
		}},
	{name: "issue-cert", args: "--card ID --kind auth|sign", summary: "issue a certificate later (PIN from the environment or a prompt)", flags: kindFlags,
		do: pinOp((*simapi.Client).IssueCertificate)},
	{name: "reset-pin", args: "--card ID --kind auth|sign", summary: "re-set / unlock a PIN (PIN from the environment or a prompt)", flags: kindFlags,
		do: pinOp((*simapi.Client).ResetPIN)},
	{name: "change-facts", args: "--card ID [--name N] [--address A] [--birth-date D] [--sex S] [--former-surname S]",
		summary: "change the holder's facts; revokes the signing certificate", flags: factFlags, do: changeFacts},
	{name: "revoke", args: "--card ID --kind auth|sign", summary: "the holder gives a certificate up", flags: kindFlags,
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Revoke(ctx, simapi.CertParams{Card: o.card, Kind: simapi.Kind(o.kind)})
		}},
	cardOp("report-loss", "both certificates revoked (keyCompromise)", (*simapi.Client).ReportLoss),
	cardOp("card-found", "a lost card found: active again, its certificates stay revoked (issue new ones)", (*simapi.Client).CardFound),
	cardOp("death", "both certificates revoked, card dead", (*simapi.Client).Death),
	cardOp("move-abroad", "both certificates revoked, card dead", (*simapi.Client).MoveAbroad),
	cardOp("invalidate", "both certificates revoked, card dead", (*simapi.Client).Invalidate),
	{name: "renew", args: "--card ID [--new-pins]", summary: "renewal (from 3 months before expiry)",
		flags: func(fs *cli.FlagSet, o *officeOpts) {
			cardFlag(fs, o)
			fs.BoolVar(&o.newPINs, "new-pins", false, "set new PINs (asked for both; empty keeps the old one)")
		},
		do: func(ctx context.Context, o *officeOpts, cio officeIO, c *simapi.Client) (any, error) {
			p := simapi.RenewParams{Card: o.card}
			if o.newPINs {
				var err error
				if p.AuthPIN, err = cio.readPIN(simapi.Auth, true); err != nil {
					return nil, err
				}
				if p.SignPIN, err = cio.readPIN(simapi.Sign, true); err != nil {
					return nil, err
				}
			}
			return c.Renew(ctx, p)
		}},
	{name: "smartphone", args: "--card ID [--out DIR]", summary: "smartphone certificates", flags: outFlags,
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Smartphone(ctx, simapi.CardParams{Card: o.card})
		}},
	{name: "proxy-file", args: "--card ID --operation issue-certificate|reset-pin --kind auth|sign",
		summary: "a proxy files; prints the inquiry ID",
		flags: func(fs *cli.FlagSet, o *officeOpts) {
			kindFlags(fs, o)
			fs.StringVar(&o.proxy, "operation", "", "`OP`: issue-certificate or reset-pin")
		},
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.ProxyFile(ctx, simapi.ProxyParams{Card: o.card, Operation: simapi.ProxyOperation(o.proxy), Kind: simapi.Kind(o.kind)})
		}},
	{name: "proxy-answer", args: "--inquiry ID", summary: "complete with the holder's sealed PIN",
		flags: func(fs *cli.FlagSet, o *officeOpts) {
			fs.StringVar(&o.inquiry, "inquiry", "", "inquiry `ID`, required")
		},
		do: proxyAnswer},
	{name: "inquiries", summary: "open proxy applications",
		do: func(ctx context.Context, _ *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Inquiries(ctx)
		}},
	{name: "endpoints", summary: "CRL and OCSP URLs for relying parties",
		do: func(ctx context.Context, _ *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			return c.Endpoints(ctx)
		}},
	{name: "time", args: "[--set DATE] [--advance SPAN]", summary: "show the office's time; move the virtual clock",
		flags: func(fs *cli.FlagSet, o *officeOpts) {
			fs.StringVar(&o.setTime, "set", "", "set the virtual clock to `DATE` (YYYY-MM-DD, JST midnight, or RFC 3339)")
			fs.StringVar(&o.advance, "advance", "", "move the virtual clock by `SPAN` such as 90d, 3m, 1y2m")
		},
		do: func(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
			p := simapi.TimeParams{Set: o.setTime}
			if o.advance != "" {
				var err error
				if p.Years, p.Months, p.Days, err = parseSpan(o.advance); err != nil {
					return nil, cli.WithCode(cli.ExitUsage, err)
				}
			}
			return c.Time(ctx, p)
		}},
}

func init() {
	cmd := &cli.Command{Name: "office", Summary: "the municipal office: certificates, PINs, changes of facts, loss, renewal (needs a running sim)", Help: officeHelp}
	for _, op := range officeOps {
		cmd.Subs = append(cmd.Subs, &cli.Command{Name: op.name, Summary: op.summary, Run: func(c *cli.IO, args []string) error {
			inFD := -1
			if f, ok := c.Stdin.(*os.File); ok {
				inFD = int(f.Fd())
			}
			return op.run(args, officeIO{out: c.Stdout, errOut: c.Stderr, in: bufio.NewReader(c.Stdin), inFD: inFD, json: c.JSON})
		}})
	}
	register(cmd)
}

// officeIO is where the office command reads PINs and writes output.
type officeIO struct {
	out    io.Writer
	in     *bufio.Reader
	inFD   int // -1 when stdin is not a terminal we may switch off echo on
	errOut io.Writer
	json   bool // --json anywhere on the command line
}

// checkTimeFlags refuses a --set or --advance that does not parse as a
// usage error (exit 2), before the sim is asked.
func checkTimeFlags(fs *cli.FlagSet, o *officeOpts) error {
	if o.setTime != "" {
		if _, err := simd.ParseTime(o.setTime); err != nil {
			return fs.Usagef("--set: %v", err)
		}
	}
	if o.advance != "" {
		if _, _, _, err := parseSpan(o.advance); err != nil {
			return fs.Usagef("%v", err)
		}
	}
	return nil
}

// officeMain runs "office OP args..." (tests call it directly).
func officeMain(args []string, cio officeIO) error {
	for _, op := range officeOps {
		if len(args) > 0 && op.name == args[0] {
			return op.run(args[1:], cio)
		}
	}
	return cli.Usagef("unknown office operation %q", args)
}

func (op officeOp) run(args []string, cio officeIO) error {
	fs := cli.NewFlagSet("mynahil office "+op.name, fmt.Sprintf("Usage: mynahil office %s %s [--state DIR | --control ADDR] [--json]\n\n%s: %s.\n\n%s",
		op.name, op.args, op.name, op.summary, officeHelp))
	o := &officeOpts{sim: addSimFlags(fs), asJSON: fs.JSON("print the result as JSON"), set: map[string]bool{}}
	if op.flags != nil {
		op.flags(fs, o)
	}
	if err := fs.Parse(&cli.IO{Stdout: cio.out, JSON: cio.json}, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Not quoted: a stray argument may well be a PIN.
		return fs.Usagef("%d unexpected positional argument(s); PINs are never taken from the command line", fs.NArg())
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if fs.Lookup("card") != nil && o.card == "" {
		return fs.Usagef("--card is required")
	}
	if fs.Lookup("kind") != nil && o.kind != string(simapi.Auth) && o.kind != string(simapi.Sign) {
		return fs.Usagef("--kind must be auth or sign")
	}
	if fs.Lookup("inquiry") != nil && o.inquiry == "" {
		return fs.Usagef("--inquiry is required")
	}
	if err := checkTimeFlags(fs, o); err != nil {
		return err
	}
	if op.name == "change-facts" && len(o.set) == len(setOf(o.set, "card", "state", "control", "json")) {
		return fs.Usagef("give at least one of --name, --address, --birth-date, --sex, --former-surname")
	}
	c, err := o.sim.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := op.do(ctx, o, cio, c)
	var notBack *simapi.NotBackError
	if err != nil && !errors.As(err, &notBack) {
		return callError(err)
	}
	if *o.asJSON {
		err = cli.PrintJSON(cio.out, res)
	} else {
		err = officePrint(cio.out, op.name, res, o.out)
	}
	if err != nil {
		return err
	}
	if notBack != nil {
		// The change is kept and printed; the environment failed.
		fmt.Fprintf(cio.errOut, "mynahil office %s: %v\n", op.name, notBack)
		return cli.Reported(cli.ExitEnv, notBack)
	}
	return nil
}

// setOf returns those of names that are in set.
func setOf(set map[string]bool, names ...string) []string {
	var out []string
	for _, n := range names {
		if set[n] {
			out = append(out, n)
		}
	}
	return out
}

func pinOp(fn func(*simapi.Client, context.Context, simapi.PINParams) (simapi.Report, error)) func(context.Context, *officeOpts, officeIO, *simapi.Client) (any, error) {
	return func(ctx context.Context, o *officeOpts, cio officeIO, c *simapi.Client) (any, error) {
		k := simapi.Kind(o.kind)
		pin, err := cio.readPIN(k, false)
		if err != nil {
			return nil, cli.WithCode(cli.ExitUsage, err)
		}
		return fn(c, ctx, simapi.PINParams{Card: o.card, Kind: k, PIN: pin})
	}
}

func factFlags(fs *cli.FlagSet, o *officeOpts) {
	cardFlag(fs, o)
	fs.StringVar(&o.name, "name", "", "new name (family and given name, full-width space between)")
	fs.StringVar(&o.address, "address", "", "new address")
	fs.StringVar(&o.birth, "birth-date", "", "new date of birth, `YYYY-MM-DD`")
	fs.StringVar(&o.sex, "sex", "", "new sex: male, female or unspecified")
	fs.StringVar(&o.former, "former-surname", "", "former surname (旧姓) to add")
}

func changeFacts(ctx context.Context, o *officeOpts, _ officeIO, c *simapi.Client) (any, error) {
	p := simapi.FactsParams{Card: o.card}
	if o.set["name"] {
		p.Name = &o.name
	}
	if o.set["address"] {
		p.Address = &o.address
	}
	if o.set["former-surname"] {
		p.FormerSurname = &o.former
	}
	if o.set["birth-date"] {
		var d profile.Date
		if err := d.UnmarshalJSON([]byte(`"` + o.birth + `"`)); err != nil {
			return nil, cli.WithCode(cli.ExitUsage, fmt.Errorf("--birth-date: %w", err))
		}
		p.BirthDate = &o.birth
	}
	if o.set["sex"] {
		p.Sex = &o.sex
	}
	return c.ChangeFacts(ctx, p)
}

// proxyAnswer asks the office which PIN kind the inquiry is for, then reads
// that PIN.
func proxyAnswer(ctx context.Context, o *officeOpts, cio officeIO, c *simapi.Client) (any, error) {
	open, err := c.Inquiries(ctx)
	if err != nil {
		return nil, err
	}
	var k simapi.Kind
	for _, q := range open {
		if q.ID == o.inquiry {
			k = q.Kind
		}
	}
	if k == "" {
		return nil, &simapi.RefusedError{RuleName: office.RuleUnknownInquiry, Reason: fmt.Sprintf("no open inquiry %q", o.inquiry)}
	}
	pin, err := cio.readPIN(k, false)
	if err != nil {
		return nil, err
	}
	return c.ProxyAnswer(ctx, simapi.AnswerParams{Inquiry: o.inquiry, PIN: pin})
}
