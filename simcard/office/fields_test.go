package office_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// edit is one change to a decoded JSON state file.
type edit func(m map[string]any)

// jpkiDF returns the JSON object of the card's JPKI DF.
func jpkiDF(m map[string]any) map[string]any {
	for _, d := range m["dfs"].([]any) {
		if d.(map[string]any)["name"] == "JPKI-AP" {
			return d.(map[string]any)
		}
	}
	panic("no JPKI DF")
}

// jpkiFile returns the JSON object of a file of the JPKI DF.
func jpkiFile(m map[string]any, id float64) map[string]any {
	for _, f := range jpkiDF(m)["files"].([]any) {
		if f.(map[string]any)["id"] == id {
			return f.(map[string]any)
		}
	}
	panic("no such file")
}

func b64(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }

func repeated(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// Files of the JPKI DF (docs/card.md §3.1).
const (
	efAuthCert = 0x0A
	efAuthKey  = 0x17
	efAuthPIN  = 0x18
)

func rsa1024(t *testing.T) string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
}

// TestEveryCardFieldIsChecked: each check of a card file refuses the value
// it guards, naming the field, at start-up (issue 23: with the PIN-salt
// check dropped, an empty or overlong salt loaded; every check is tested
// here, not only the first).
func TestEveryCardFieldIsChecked(t *testing.T) {
	base := stateWithCards(t, 1)
	key1024 := rsa1024(t)
	pin := func(m map[string]any) map[string]any { return jpkiFile(m, efAuthPIN)["pin"].(map[string]any) }
	files := func(m map[string]any) []any { return jpkiDF(m)["files"].([]any) }
	for _, tc := range []struct {
		name, field string
		edit        edit
	}{
		{"not JSON", "decoding card state", nil},
		{"version", "version 2", func(m map[string]any) { m["version"] = 2 }},
		{"ATR", "atr", func(m map[string]any) { m["atr"] = "AA==" }},
		{"17 applets", "dfs: 17 application DFs", func(m map[string]any) { m["dfs"] = repeated(jpkiDF(m), 17) }},
		{"applet null", "dfs[1]: null", func(m map[string]any) { m["dfs"].([]any)[1] = nil }},
		{"AID empty", "aid: 0 bytes", func(m map[string]any) { jpkiDF(m)["aid"] = "" }},
		{"AID of 17 bytes", "aid: 17 bytes", func(m map[string]any) { jpkiDF(m)["aid"] = b64(17) }},
		{"two applets of one AID", "two applications with AID", func(m map[string]any) {
			m["dfs"].([]any)[1].(map[string]any)["aid"] = jpkiDF(m)["aid"]
		}},
		{"65 files", "files: 65, at most 64", func(m map[string]any) {
			df := jpkiDF(m)
			var more []any
			for i := range 65 {
				more = append(more, map[string]any{"id": 0x100 + i, "kind": 1, "read": map[string]any{}})
			}
			df["files"] = more
		}},
		{"file null", "files[0]: null", func(m map[string]any) { files(m)[0] = nil }},
		{"file identifier twice", "identifier used twice", func(m map[string]any) { files(m)[1].(map[string]any)["id"] = files(m)[0].(map[string]any)["id"] }},
		{"reserved file identifier", "3F00 is reserved", func(m map[string]any) { files(m)[0].(map[string]any)["id"] = 0x3F00 }},
		{"EF beyond READ BINARY", "data: 65536 bytes", func(m map[string]any) { jpkiFile(m, efAuthCert)["data"] = b64(65536) }},
		{"255 records", "records: 255", func(m map[string]any) { jpkiFile(m, efAuthCert)["records"] = repeated("AA==", 255) }},
		{"record beyond READ RECORD", "records[0]: 65536 bytes", func(m map[string]any) { jpkiFile(m, efAuthCert)["records"] = []any{b64(65536)} }},
		{"access naming no PIN", "read: any_of: 000A is not a PIN file", func(m map[string]any) {
			jpkiFile(m, efAuthCert)["read"] = map[string]any{"any_of": []any{efAuthCert}}
		}},
		{"access never and a PIN", "never together with any_of", func(m map[string]any) {
			jpkiFile(m, efAuthCert)["read"] = map[string]any{"never": true, "any_of": []any{efAuthPIN}}
		}},
		{"EF holding a PIN", "holds a PIN or key", func(m map[string]any) { jpkiFile(m, efAuthCert)["pin"] = pin(m) }},
		{"PIN file without its PIN", "pin: missing", func(m map[string]any) { delete(jpkiFile(m, efAuthPIN), "pin") }},
		{"no tries at all", "pin.max: 0", func(m map[string]any) { pin(m)["max"], pin(m)["left"] = 0, 0 }},
		{"maximum beyond 63Cx", "pin.max: 16", func(m map[string]any) { pin(m)["max"], pin(m)["left"] = 16, 16 }},
		{"more tries left than the maximum", "pin.left: 15", func(m map[string]any) { pin(m)["left"] = 15 }},
		{"negative tries left", "pin.left: -1", func(m map[string]any) { pin(m)["left"] = -1 }},
		{"PIN salt empty", "pin.salt: 0 bytes", func(m map[string]any) { pin(m)["salt"] = "" }},
		{"PIN salt overlong", "pin.salt: 65 bytes", func(m map[string]any) { pin(m)["salt"] = b64(65) }},
		{"PIN hash of the wrong size", "pin.hash: 3 bytes", func(m map[string]any) { pin(m)["hash"] = "AAAA" }},
		{"PIN format of length 0", "pin.format: length 0", func(m map[string]any) { pin(m)["format"].(map[string]any)["min"] = 0 }},
		{"PIN format shorter than its minimum", "pin.format: length 4–3", func(m map[string]any) { pin(m)["format"].(map[string]any)["max"] = 3 }},
		{"PIN format beyond 255", "pin.format: length 4–256", func(m map[string]any) { pin(m)["format"].(map[string]any)["max"] = 256 }},
		{"PIN character set unknown", "pin.format.charset", func(m map[string]any) { pin(m)["format"].(map[string]any)["charset"] = "emoji" }},
		{"key file without its key", "key: missing", func(m map[string]any) { delete(jpkiFile(m, efAuthKey), "key") }},
		{"key not PKCS#1", "key.pkcs1", func(m map[string]any) { jpkiFile(m, efAuthKey)["key"].(map[string]any)["pkcs1"] = "AAAA" }},
		{"key of RSA-1024", "key.pkcs1: RSA-1024", func(m map[string]any) { jpkiFile(m, efAuthKey)["key"].(map[string]any)["pkcs1"] = key1024 }},
		{"key usable after no PIN", "key.use: any_of: 000A", func(m map[string]any) {
			jpkiFile(m, efAuthKey)["key"].(map[string]any)["use"] = map[string]any{"any_of": []any{efAuthCert}}
		}},
		{"file kind unknown", "kind: 9", func(m map[string]any) { jpkiFile(m, efAuthCert)["kind"] = 9 }},
		{"default key not a key", "default_key: 000A", func(m map[string]any) { jpkiDF(m)["default_key"] = efAuthCert }},
		{"MF file naming a PIN", "mf_files: file", func(m map[string]any) {
			m["mf_files"] = []any{map[string]any{"id": 0x2F01, "kind": 1, "read": map[string]any{"any_of": []any{efAuthPIN}}}}
		}},
		{"65 data objects", "data_objects: 65 objects", func(m map[string]any) {
			objs := map[string]any{}
			for i := range 65 {
				objs[strconv.Itoa(0x100+i)] = "AA=="
			}
			m["data_objects"] = objs
		}},
		{"data object beyond GET DATA", "data_objects[0066]: 65536 bytes", func(m map[string]any) {
			m["data_objects"].(map[string]any)["102"] = b64(65536)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyOf(t, base)
			path := filepath.Join(dir, "cards", "card-1.json")
			if tc.edit == nil {
				if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				editJSON(t, path, tc.edit)
			}
			expectDamaged(t, dir, "card-1.json", tc.field)
		})
	}
}

// TestEveryRegistryFieldIsChecked: each check of office.json refuses the
// value it guards, naming the field (issue 23: with the duplicate-card
// check dropped, a card registered twice loaded).
func TestEveryRegistryFieldIsChecked(t *testing.T) {
	base := stateWithCards(t, 1)
	card := func(m map[string]any) map[string]any { return m["cards"].([]any)[0].(map[string]any) }
	inquiry := map[string]any{"id": "inquiry-1", "card": "card-1", "operation": "reset-pin", "kind": "auth", "filed_at": "2026-04-01T10:00:00+09:00"}
	with := func(field string, v any) map[string]any {
		q := map[string]any{}
		for k, x := range inquiry {
			q[k] = x
		}
		q[field] = v
		return q
	}
	for _, tc := range []struct {
		name, field string
		edit        edit
	}{
		{"not JSON", "decoding office state", nil},
		{"an unknown member", `unknown field "extra"`, func(m map[string]any) { m["extra"] = 1 }},
		{"version", "version: 2", func(m map[string]any) { m["version"] = 2 }},
		{"counter behind its cards", "next_id: 0", func(m map[string]any) { m["next_id"] = 0 }},
		{"inquiry counter behind its inquiries", "next_inquiry: 0", func(m map[string]any) { m["inquiries"] = []any{inquiry} }},
		{"card null", "cards[0]: null", func(m map[string]any) { m["cards"].([]any)[0] = nil }},
		{"card ID not card-N", `cards[0].id: "../x"`, func(m map[string]any) { card(m)["id"] = "../x" }},
		{"card ID beyond the counter", "card-2 beyond next_id 1", func(m map[string]any) { card(m)["id"] = "card-2" }},
		{"card registered twice", "cards[1].id: card-1 registered twice", func(m map[string]any) {
			m["cards"] = append(m["cards"].([]any), card(m))
			m["next_id"] = 2
		}},
		{"status unknown", "status: \"resting\"", func(m map[string]any) { card(m)["status"] = "resting" }},
		{"never issued", "expiry", func(m map[string]any) { delete(card(m), "issued_at") }},
		{"expired before issuance", "expiry: 2025", func(m map[string]any) { card(m)["expiry"] = "2025-04-01T00:00:00+09:00" }},
		{"valid for 50 years", "expiry: 2076", func(m map[string]any) { card(m)["expiry"] = "2076-04-01T00:00:00+09:00" }},
		{"auth serial negative", "auth: serial -1", func(m map[string]any) { card(m)["auth"] = -1 }},
		{"sign serial negative", "sign: serial -1", func(m map[string]any) { card(m)["sign"] = -1 }},
		{"smartphone auth serial negative", "phone_auth: serial -1", func(m map[string]any) { card(m)["phone_auth"] = -1 }},
		{"smartphone sign serial negative", "phone_sign: serial -1", func(m map[string]any) { card(m)["phone_sign"] = -1 }},
		{"inquiry null", "inquiries[0]: null", func(m map[string]any) { m["inquiries"], m["next_inquiry"] = []any{nil}, 1 }},
		{"inquiry for no card", `inquiries[0].card: "card-9"`, func(m map[string]any) { m["inquiries"], m["next_inquiry"] = []any{with("card", "card-9")}, 1 }},
		{"inquiry operation unknown", `inquiries[0].operation: "renew"`, func(m map[string]any) {
			m["inquiries"], m["next_inquiry"] = []any{with("operation", "renew")}, 1
		}},
		{"inquiry kind unknown", `inquiries[0].kind: "both"`, func(m map[string]any) { m["inquiries"], m["next_inquiry"] = []any{with("kind", "both")}, 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyOf(t, base)
			path := filepath.Join(dir, "office.json")
			if tc.edit == nil {
				if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				editJSON(t, path, tc.edit)
			}
			expectDamaged(t, dir, "office.json", tc.field)
		})
	}
}

// TestEveryAuthorityFieldIsChecked: each check of authority.json refuses
// the value it guards, naming the field.
func TestEveryAuthorityFieldIsChecked(t *testing.T) {
	base := stateWithCards(t, 1)
	rec := func(m map[string]any) map[string]any { return m["records"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		name, field string
		edit        edit
	}{
		{"not JSON", "decoding authority state", nil},
		{"version", "version 2", func(m map[string]any) { m["version"] = 2 }},
		{"serial counter negative", "serial: -1", func(m map[string]any) { m["serial"] = -1 }},
		{"record null", "records[0]: null", func(m map[string]any) { m["records"].([]any)[0] = nil }},
		{"record serial 0", "serial: 0, want 1–2", func(m map[string]any) { rec(m)["serial"] = 0 }},
		{"record beyond the counter", "serial: 3, want 1–2", func(m map[string]any) { rec(m)["serial"] = 3 }},
		{"record serial twice", "serial 2 recorded twice", func(m map[string]any) {
			rec(m)["serial"] = 2
			rec(m)["der"] = m["records"].([]any)[1].(map[string]any)["der"]
		}},
		{"kind unknown", `kind: "both"`, func(m map[string]any) { rec(m)["kind"] = "both" }},
		{"device unknown", `device: "watch"`, func(m map[string]any) { rec(m)["device"] = "watch" }},
		{"status unknown", `status: "maybe"`, func(m map[string]any) { rec(m)["status"] = "maybe" }},
		{"reason unknown", "reason: 7", func(m map[string]any) { rec(m)["reason"] = 7 }},
		{"revoked at no time", "revoked_at: missing", func(m map[string]any) { rec(m)["status"] = "revoked" }},
		{"a reason without a revocation", "revoked_at/reason", func(m map[string]any) { rec(m)["reason"] = 1 }},
		{"valid to before from", "not_after", func(m map[string]any) { rec(m)["not_after"] = "2020-01-01T00:00:00Z" }},
		{"certificate not DER", "der:", func(m map[string]any) { rec(m)["der"] = "AAAA" }},
		{"certificate of another serial", "der: certificate serial 2, record says 1", func(m map[string]any) {
			rec(m)["der"] = m["records"].([]any)[1].(map[string]any)["der"]
		}},
		{"CRL of an unknown kind", `crls: unknown kind "both"`, func(m map[string]any) { m["crls"] = map[string]any{"both": map[string]any{"number": 1}} }},
		{"CRL number negative", "crls.auth.number: -1", func(m map[string]any) { m["crls"] = map[string]any{"auth": map[string]any{"number": -1}} }},
		{"root certificate not DER", "auth root: parsing certificate", func(m map[string]any) { m["auth_ca"].(map[string]any)["cert"] = "AAAA" }},
		{"root key not PKCS#1", "sign root: parsing key", func(m map[string]any) { m["sign_ca"].(map[string]any)["key"] = "AAAA" }},
		{"root key of another root", "auth root: key does not match", func(m map[string]any) {
			m["auth_ca"].(map[string]any)["key"] = m["sign_ca"].(map[string]any)["key"]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyOf(t, base)
			path := filepath.Join(dir, "authority.json")
			if tc.edit == nil {
				if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
					t.Fatal(err)
				}
			} else {
				editJSON(t, path, tc.edit)
			}
			expectDamaged(t, dir, "authority.json", tc.field)
		})
	}
}

// TestDamagedIntentIsRefused: an intent record that cannot be completed
// (only a hand can damage it: the journal writes it in one crash-safe
// write) stops the start, naming it; nothing is written.
func TestDamagedIntentIsRefused(t *testing.T) {
	base := stateWithCards(t, 1)
	for _, tc := range []struct{ name, content, field string }{
		{"not JSON", "{", "damaged intent record"},
		{"no files", `{"files":[]}`, "files: none"},
		{"a file outside the directory", `{"files":[{"name":"../office.json","data":"e30="}]}`, `files[0].name: "../office.json"`},
		{"an absolute path", `{"files":[{"name":"/etc/passwd","data":""}]}`, `files[0].name: "/etc/passwd"`},
		{"itself", `{"files":[{"name":"intent.json","data":""}]}`, `files[0].name: "intent.json"`},
		{"a hidden file", `{"files":[{"name":"cards/.x","data":""}]}`, `files[0].name: "cards/.x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyOf(t, base)
			if err := os.WriteFile(filepath.Join(dir, "intent.json"), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			expectDamaged(t, dir, "intent.json", tc.field)
		})
	}
}

// copyOf copies a state directory for one case.
func copyOf(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "s")
	if err := os.CopyFS(out, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return out
}
