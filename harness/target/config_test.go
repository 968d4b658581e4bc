package target

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/pcscdenv"
)

func TestFromEnv(t *testing.T) {
	const fp = "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
	colons := strings.ToUpper(strings.Join(splitPairs(strings.ToLower(fp)), ":"))
	for _, tc := range []struct {
		name  string
		env   map[string]string
		want  Config // compared field by field below
		err   error
		check func(t *testing.T, c Config)
	}{
		{name: "default is sim", env: nil, want: Config{Kind: Sim, Prompt: true}},
		{name: "vpcd", env: map[string]string{EnvTarget: "vpcd"}, want: Config{Kind: VPCD, Prompt: true}},
		{name: "kind is case-insensitive", env: map[string]string{EnvTarget: "PCSC", EnvSlot: "0"}, want: Config{Kind: PCSC, Prompt: true}},
		{name: "a reader implies pcsc and physical", env: map[string]string{EnvReader: "SCR 3310"},
			want: Config{Kind: PCSC, Reader: "SCR 3310", Physical: true, Prompt: true}},
		{name: "physical without reader", env: map[string]string{EnvTarget: "pcsc", EnvPhysical: "1"}, err: ErrConfig},
		{name: "reader with sim target", env: map[string]string{EnvTarget: "sim", EnvReader: "0"}, err: ErrConfig},
		{name: "unknown target", env: map[string]string{EnvTarget: "usb"}, err: ErrConfig},
		{name: "bad boolean", env: map[string]string{EnvAllowDestructive: "yes please"}, err: ErrConfig},
		{name: "fingerprint with colons is normalised", env: map[string]string{EnvReader: "0", EnvFingerprint: colons, EnvAllowDestructive: "true"},
			want: Config{Kind: PCSC, Reader: "0", Physical: true, AllowDestructive: true, Fingerprint: strings.ToLower(fp), Prompt: true}},
		{name: "short fingerprint", env: map[string]string{EnvFingerprint: "abcd"}, err: ErrConfig},
		{name: "non-hex fingerprint", env: map[string]string{EnvFingerprint: strings.Repeat("zz", 32)}, err: ErrConfig},
		{name: "no prompt", env: map[string]string{EnvNoPrompt: "1"}, want: Config{Kind: Sim}},
		{name: "no prompt in CI", env: map[string]string{"CI": "true"}, want: Config{Kind: Sim}},
		{name: "slot", env: map[string]string{EnvTarget: "pcsc", EnvSlot: "1"}, want: Config{Kind: PCSC, Slot: 1, Prompt: true}},
		{name: "slot out of range", env: map[string]string{EnvTarget: "pcsc", EnvSlot: "2"}, err: ErrConfig},
		{name: "slot in a pcscd with more slots", env: map[string]string{EnvTarget: "pcsc", EnvSlot: "15", pcscdenv.EnvSlots: "16"}, want: Config{Kind: PCSC, Slot: 15, Prompt: true}},
		{name: "slot beyond a pcscd with more slots", env: map[string]string{EnvTarget: "pcsc", EnvSlot: "4", pcscdenv.EnvSlots: "4"}, err: ErrConfig},
		{name: "slot count out of range", env: map[string]string{EnvTarget: "pcsc", EnvSlot: "0", pcscdenv.EnvSlots: "17"}, err: ErrConfig},
		{name: "slot not a number", env: map[string]string{EnvSlot: "one"}, err: ErrConfig},
		{name: "PINs from the environment, never printed", env: map[string]string{EnvReader: "0", EnvAuthPIN: "4321", EnvSignPIN: "SECRET99"},
			check: func(t *testing.T, c Config) {
				if c.AuthPIN != "4321" || c.SignPIN != "SECRET99" {
					t.Error("PINs not read from the environment")
				}
				if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "4321") || strings.Contains(s, "SECRET99") {
					t.Errorf("a PIN shows when the config is printed: %s", s)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{EnvTarget, EnvReader, EnvPhysical, EnvAllowDestructive, EnvFingerprint, EnvAuthPIN, EnvSignPIN, EnvSlot, EnvNoPrompt, "CI", pcscdenv.EnvSlots} {
				t.Setenv(k, "")
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c, err := FromEnv()
			if !errors.Is(err, tc.err) {
				t.Fatalf("FromEnv() error = %v, want %v", err, tc.err)
			}
			if err != nil {
				if strings.Contains(err.Error(), "4321") {
					t.Errorf("error shows a PIN: %v", err)
				}
				return
			}
			if tc.check != nil {
				tc.check(t, c)
				return
			}
			if _, set := tc.env[EnvSlot]; !set {
				// The default slot is the Ginkgo process's (ginkgo -p runs
				// this test in every process).
				tc.want.Slot = 2 * (ginkgo.GinkgoParallelProcess() - 1)
			}
			got := fmt.Sprintf("%s|%s|%v|%v|%s|%v|%d", c.Kind, c.Reader, c.Physical, c.AllowDestructive, c.Fingerprint, c.Prompt, c.Slot)
			want := fmt.Sprintf("%s|%s|%v|%v|%s|%v|%d", tc.want.Kind, tc.want.Reader, tc.want.Physical, tc.want.AllowDestructive, tc.want.Fingerprint, tc.want.Prompt, tc.want.Slot)
			if got != want {
				t.Errorf("FromEnv() = %s, want %s", got, want)
			}
		})
	}
}

func splitPairs(s string) []string {
	out := make([]string, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		out = append(out, s[i:i+2])
	}
	return out
}

// TestDestructiveOptInFromEnv builds the configuration from the environment
// as a run does (FromEnv, then the target's facts with the card's own
// fingerprint) and asks the guard about a destructive spec: only
// MYNAHIL_ALLOW_DESTRUCTIVE=1 together with a MYNAHIL_CARD_FINGERPRINT
// naming the card in the reader opts in (issue 23.7). A fingerprint alone
// is not an opt-in.
func TestDestructiveOptInFromEnv(t *testing.T) {
	const card = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	const other = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	destructive := []string{"destructive", "needs-auth-pin"}
	for _, tc := range []struct {
		name   string
		env    map[string]string
		run    bool
		reason string
	}{
		{"neither", nil, false, EnvAllowDestructive},
		{"fingerprint only", map[string]string{EnvFingerprint: card}, false, EnvAllowDestructive},
		{"fingerprint only, opt-in set to 0", map[string]string{EnvFingerprint: card, EnvAllowDestructive: "0"}, false, EnvAllowDestructive},
		{"opt-in only", map[string]string{EnvAllowDestructive: "1"}, false, "must name the card"},
		{"both, matching", map[string]string{EnvAllowDestructive: "1", EnvFingerprint: card}, true, ""},
		{"both, matching, fingerprint in capitals with colons", map[string]string{EnvAllowDestructive: "true",
			EnvFingerprint: strings.ToUpper(strings.Join(splitPairs(card), ":"))}, true, ""},
		{"both, another card's fingerprint", map[string]string{EnvAllowDestructive: "1", EnvFingerprint: other}, false, "is not the one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{EnvTarget, EnvReader, EnvPhysical, EnvAllowDestructive, EnvFingerprint, EnvAuthPIN, EnvSignPIN, EnvSlot, EnvNoPrompt, EnvCardInfoPIN, EnvOperator, "CI"} {
				t.Setenv(k, "")
			}
			t.Setenv(EnvReader, "Some Reader 00 00")
			t.Setenv(EnvAuthPIN, "1234")
			t.Setenv(EnvNoPrompt, "1")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := FromEnv()
			if err != nil {
				t.Fatal(err)
			}
			tgt := &Target{cfg: cfg, fingerprint: card, pins: PINs{Auth: cfg.AuthPIN}}
			f := tgt.Facts()
			// The destructive pass comes from the run's --label-filter;
			// this test is about the opt-in, so it is that pass.
			f.DestructivePass = true
			d := Decide(destructive, f)
			if d.Run != tc.run {
				t.Fatalf("destructive spec run = %v (%s), want %v", d.Run, d.Reason, tc.run)
			}
			if !tc.run && !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("reason %q does not name %q", d.Reason, tc.reason)
			}
		})
	}
}
