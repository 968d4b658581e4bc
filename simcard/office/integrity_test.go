package office_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mynahil/mynahil/simcard"
	"github.com/mynahil/mynahil/simcard/clock"
	"github.com/mynahil/mynahil/simcard/keypool"
	"github.com/mynahil/mynahil/simcard/office"
	"github.com/mynahil/mynahil/simcard/profile"
)

// openDir opens (or creates) the office in dir as the daemon does, with the
// card-info applets and their keys.
func openDir(t testing.TB, dir string) (*office.Office, error) {
	return openDirWith(t, dir, nil)
}

// openDirWith is openDir with keys from keys (nil: the shared pools).
func openDirWith(t testing.TB, dir string, keys keypool.Source) (*office.Office, error) {
	t.Helper()
	clk := clock.NewVirtual(issueDay.Add(10 * time.Hour))
	is, err := simcard.NewIssuer(clk, keys)
	if err != nil {
		t.Fatal(err)
	}
	return office.Open(dir, clk, is) // NewIssuer adds the card-info applets
}

// snapshot reads every file of a state directory.
func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".sock") {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stateWithCards is a state directory holding n issued cards.
func stateWithCards(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	o, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	for range n {
		if _, err := o.IssueCard(profile.Default()); err != nil {
			t.Fatal(err)
		}
	}
	o.Close()
	return dir
}

// expectDamaged checks that Open refused naming the file (and field) and
// saying what to do, and that nothing in the directory changed.
func expectDamaged(t *testing.T, dir, file, field string) {
	t.Helper()
	before := snapshot(t, dir)
	o, err := openDir(t, dir)
	if err == nil {
		o.Close()
		t.Fatalf("Open succeeded; want a refusal naming %s", file)
	}
	var de *office.DamagedError
	if !errors.As(err, &de) {
		t.Fatalf("Open: %v; want a *office.DamagedError", err)
	}
	if filepath.Base(de.File) != file || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), "start afresh") {
		t.Errorf("Open: %v\nwant the file %s, the field %q and the remedy named", err, file, field)
	}
	after := snapshot(t, dir)
	for p, b := range before {
		if !bytes.Equal(after[p], b) {
			t.Errorf("%s changed by the refused Open", p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			t.Errorf("%s created by the refused Open", p)
		}
	}
}

// TestOpenRefusesMissingRegistryOrAuthority: losing office.json,
// authority.json or the card-info keys while cards exist must never lead
// to a new card over the old one or a new authority (issue: a lost
// office.json made the daemon issue card-1 again).
func TestOpenRefusesMissingRegistryOrAuthority(t *testing.T) {
	for _, tc := range []struct {
		name, remove, file string
	}{
		{"registry lost", "office.json", "office.json"},
		{"registry and authority lost", "office.json authority.json", "office.json"},
		{"authority lost", "authority.json", "authority.json"},
		{"card-info keys lost", "applet-keys-0.json", "applet-keys-0.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stateWithCards(t, 1)
			for _, f := range strings.Fields(tc.remove) {
				if err := os.Remove(filepath.Join(dir, f)); err != nil {
					t.Fatal(err)
				}
			}
			expectDamaged(t, dir, tc.file, "missing")
		})
	}
	t.Run("authority without registry or cards", func(t *testing.T) {
		dir := stateWithCards(t, 0)
		os.Remove(filepath.Join(dir, "office.json"))
		expectDamaged(t, dir, "office.json", "authority")
	})
}

// TestNeverIssuesOverACardFile: a registry restored from a backup older
// than the newest card still opens, but the office refuses to write a new
// card over the card file it no longer lists.
func TestNeverIssuesOverACardFile(t *testing.T) {
	dir := stateWithCards(t, 1)
	old, err := os.ReadFile(filepath.Join(dir, "office.json"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.IssueCard(profile.Default()); err != nil {
		t.Fatal(err)
	}
	o.Close()
	card2 := filepath.Join(dir, "cards", "card-2.json")
	want, err := os.ReadFile(card2)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "office.json"), old, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err = openDir(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	_, err = o.IssueCard(profile.Default())
	var de *office.DamagedError
	if !errors.As(err, &de) || filepath.Base(de.File) != "card-2.json" {
		t.Errorf("IssueCard over card-2.json: %v; want a refusal naming card-2.json", err)
	}
	if got, _ := os.ReadFile(card2); !bytes.Equal(got, want) {
		t.Error("card-2.json was overwritten")
	}
}

// editJSON rewrites one JSON state file through fn.
func editJSON(t *testing.T, path string, fn func(m map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// jpkiPIN returns the JSON object of a PIN of the JPKI DF (file ID id).
func jpkiPIN(m map[string]any, id float64) map[string]any {
	for _, d := range m["dfs"].([]any) {
		if d.(map[string]any)["name"] != "JPKI-AP" {
			continue
		}
		for _, f := range d.(map[string]any)["files"].([]any) {
			if f.(map[string]any)["id"] == id {
				return f.(map[string]any)["pin"].(map[string]any)
			}
		}
	}
	panic("no JPKI PIN file")
}

// TestLoadValidatesEveryStateFile: values the card could never hold are
// refused at start-up, naming the file and the field (issue: a card file
// with 15 tries left of 3 answered 63CF).
func TestLoadValidatesEveryStateFile(t *testing.T) {
	const authPIN = 0x18
	for _, tc := range []struct {
		name, file, field string
		edit              func(m map[string]any)
	}{
		{"more tries left than the maximum", "cards/card-1.json", "pin.left",
			func(m map[string]any) { jpkiPIN(m, authPIN)["left"] = 15 }},
		{"negative tries left", "cards/card-1.json", "pin.left",
			func(m map[string]any) { jpkiPIN(m, authPIN)["left"] = -1 }},
		{"maximum beyond 63Cx", "cards/card-1.json", "pin.max",
			func(m map[string]any) { p := jpkiPIN(m, authPIN); p["max"], p["left"] = 16, 16 }},
		{"PIN hash of the wrong size", "cards/card-1.json", "pin.hash",
			func(m map[string]any) { jpkiPIN(m, authPIN)["hash"] = "AAAA" }},
		{"PIN format unknown", "cards/card-1.json", "format.charset",
			func(m map[string]any) { jpkiPIN(m, authPIN)["format"].(map[string]any)["charset"] = "emoji" }},
		{"ATR not an ATR", "cards/card-1.json", "atr",
			func(m map[string]any) { m["atr"] = "AA==" }},
		{"card version", "cards/card-1.json", "version",
			func(m map[string]any) { m["version"] = 2 }},
		{"registry counter behind its cards", "office.json", "next_id",
			func(m map[string]any) { m["next_id"] = 0 }},
		{"card status unknown", "office.json", "status",
			func(m map[string]any) { m["cards"].([]any)[0].(map[string]any)["status"] = "resting" }},
		{"card valid for 50 years", "office.json", "expiry",
			func(m map[string]any) { m["cards"].([]any)[0].(map[string]any)["expiry"] = "2076-04-01T00:00:00+09:00" }},
		{"authority serial counter negative", "authority.json", "serial",
			func(m map[string]any) { m["serial"] = -1 }},
		{"certificate status unknown", "authority.json", "status",
			func(m map[string]any) { m["records"].([]any)[0].(map[string]any)["status"] = "maybe" }},
		{"certificate reason unknown", "authority.json", "reason",
			func(m map[string]any) { m["records"].([]any)[0].(map[string]any)["reason"] = 7 }},
		{"certificate of another serial", "authority.json", "der",
			func(m map[string]any) {
				r := m["records"].([]any)
				r[0].(map[string]any)["der"] = r[1].(map[string]any)["der"]
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := stateWithCards(t, 1)
			editJSON(t, filepath.Join(dir, tc.file), tc.edit)
			expectDamaged(t, dir, filepath.Base(tc.file), tc.field)
		})
	}
}

// TestLoadRefusesHugeStateFile: a state file beyond any real size is
// refused without reading it whole.
func TestLoadRefusesHugeStateFile(t *testing.T) {
	dir := stateWithCards(t, 1)
	f, err := os.OpenFile(filepath.Join(dir, "cards", "card-1.json"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(65<<20 + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	expectDamaged(t, dir, "card-1.json", "larger than")
}
