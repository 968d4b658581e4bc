package pcscdenv

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/mynahil/mynahil/vpcd"
)

// EnvSlots tells test processes how many vpcd slots the pcscd they use
// serves (scripts/with-pcscd --slots sets it for its command); Slots reads
// it.
const EnvSlots = "MYNAHIL_VPCD_SLOTS"

// EnvPID is the pid of the pcscd that scripts/with-pcscd runs for its
// command (it sets it): StartPCSCD then only waits for that pcscd's
// readers, and never starts another nor clears its files.
const EnvPID = "MYNAHIL_PCSCD_PID"

// providedPCSCD reports the pcscd of $MYNAHIL_PCSCD_PID, and an error
// when that process is not a live pcscd.
func providedPCSCD() (pid int, ok bool, err error) {
	v := os.Getenv(EnvPID)
	if v == "" {
		return 0, false, nil
	}
	pid, err = strconv.Atoi(v)
	if err != nil || pid <= 0 {
		return 0, false, fmt.Errorf("%s=%q: not a process ID", EnvPID, v)
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "pcscd" {
		return pid, false, fmt.Errorf("the pcscd of scripts/with-pcscd (%s=%d) is gone: %w", EnvPID, pid, ErrNotReady)
	}
	return pid, true, nil
}

// DriverPath is Debian's vpcd driver (package vsmartcard-vpcd).
var DriverPath = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"

// Slots returns how many vpcd slots the run's pcscd serves: $MYNAHIL_VPCD_SLOTS
// when set (1 to vpcd.MaxSlots), else Debian's two.
func Slots() (int, error) {
	s := os.Getenv(EnvSlots)
	if s == "" {
		return vpcd.SlotsPerEntry, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > vpcd.MaxSlots {
		return 0, fmt.Errorf("%s=%q: want a number of vpcd slots from 1 to %d", EnvSlots, s, vpcd.MaxSlots)
	}
	return n, nil
}

// defaultSlots is how many slots StartPCSCD serves without WithSlots:
// $MYNAHIL_VPCD_SLOTS when set; under ginkgo -p two per process (one
// reader entry each, harness/target.ProcessSlot), at most vpcd.MaxSlots;
// else 0, Debian's own config.
func defaultSlots() (int, error) {
	if os.Getenv(EnvSlots) != "" {
		return Slots()
	}
	if sc, _ := ginkgo.GinkgoConfiguration(); sc.ParallelTotal > 1 {
		return min(vpcd.MaxSlots, vpcd.SlotsPerEntry*sc.ParallelTotal), nil
	}
	return 0, nil
}

// writeSlotConf writes a reader.conf for n slots into a new temporary
// directory, with one copy of the vpcd driver per entry (vpcd.ReaderConf
// says why), and returns the directory.
func writeSlotConf(n int) (dir string, err error) {
	if n < 1 || n > vpcd.MaxSlots {
		return "", fmt.Errorf("vpcd slots: %d, want 1 to %d", n, vpcd.MaxSlots)
	}
	dir, err = os.MkdirTemp("", "mynahil-vpcd-")
	if err != nil {
		return "", fmt.Errorf("writing the vpcd reader config: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	lib := func(k int) string { return filepath.Join(dir, fmt.Sprintf("libifdvpcd-%d.so", k)) }
	for k := range vpcd.Entries(n) {
		if err := copyFile(DriverPath, lib(k)); err != nil {
			return "", fmt.Errorf("copying the vpcd driver (apt-get install vsmartcard-vpcd): %w", err)
		}
	}
	conf := filepath.Join(dir, "reader.conf")
	if err := os.WriteFile(conf, []byte(vpcd.ReaderConf(n, lib)), 0o644); err != nil {
		return "", fmt.Errorf("writing the vpcd reader config: %w", err)
	}
	return dir, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}
