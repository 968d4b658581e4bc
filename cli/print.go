package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// PrintJSON writes v indented, with a final newline.
func PrintJSON(w io.Writer, v any) error {
	if raw, ok := v.(json.RawMessage); ok {
		var x any
		if err := json.Unmarshal(raw, &x); err != nil {
			return fmt.Errorf("decoding result: %w", err)
		}
		v = x
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding result: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// Table returns the tab writer every table of the CLI uses; Flush it.
func Table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0) }

// ATR formats an ATR as pcsc_scan does: upper-case hex bytes separated by
// spaces, "3B E0 00 FF 81 31 FE 45 14"; "-" when there is none.
func ATR(atr []byte) string {
	if len(atr) == 0 {
		return "-"
	}
	return fmt.Sprintf("% X", atr)
}

// YesNo prints a bool for a table.
func YesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
