package vpcd

import (
	"fmt"
	"strings"
	"testing"
)

// TestReaderNamesAndConf: slots 0 and 1 keep Debian's names; every entry
// of ReaderConf has a name, ports and driver file of its own, and slot n
// is port DefaultPort+n.
func TestReaderNamesAndConf(t *testing.T) {
	want := map[int]string{0: "Virtual PCD 00 00", 1: "Virtual PCD 00 01", 2: "Virtual PCD 1 00 00", 3: "Virtual PCD 1 00 01", 15: "Virtual PCD 7 00 01"}
	for n, name := range want {
		if got := ReaderName(n); got != name {
			t.Errorf("ReaderName(%d) = %q, want %q", n, got, name)
		}
	}
	seen := map[string]bool{}
	for _, name := range ReaderNames(MaxSlots) {
		if seen[name] {
			t.Errorf("reader name %q given twice", name)
		}
		seen[name] = true
	}
	conf := ReaderConf(5, func(k int) string { return fmt.Sprintf("/lib/vpcd-%d.so", k) })
	entries := strings.Split(strings.TrimSpace(conf), "\n\n")
	if len(entries) != 3 {
		t.Fatalf("5 slots: %d entries, want 3:\n%s", len(entries), conf)
	}
	for k, e := range entries {
		port := DefaultPort + 2*k
		for _, line := range []string{
			fmt.Sprintf("DEVICENAME /dev/null:%d", port),
			fmt.Sprintf("CHANNELID %d", port),
			fmt.Sprintf("LIBPATH /lib/vpcd-%d.so", k),
			fmt.Sprintf("FRIENDLYNAME %q", strings.TrimSuffix(ReaderName(2*k), " 00 00")),
		} {
			if !strings.Contains(e, line+"\n") && !strings.HasSuffix(e, line) {
				t.Errorf("entry %d lacks %q:\n%s", k, line, e)
			}
		}
	}
}
