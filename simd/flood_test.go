package simd

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
)

// TestControlFloodDaemon replays the flood that took the sim from 20 MB to
// 526 MB (300 half-sent 1 MiB requests, 2,000 idle connections) against the
// daemon's own control socket: it must stay under 100 MB RSS and keep
// answering sim.status.
func TestControlFloodDaemon(t *testing.T) {
	state := shortTempDir(t)
	d, err := Open(Config{StateDir: state, VPCD: "127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	address := strings.TrimPrefix(d.ControlAddr(), "unix:")

	half := append([]byte(`{"id":1,"method":"sim.status","params":{"x":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range 2300 {
		c, err := net.Dial("unix", address)
		if err != nil {
			t.Fatalf("dialling for the flood: %v", err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		if i < 300 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = c.SetWriteDeadline(time.Now().Add(3 * time.Second))
				_, _ = c.Write(half)
			}()
		}
	}
	cl, err := control.Dial(d.ControlAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer ccancel()
	var st Status
	if err := cl.Call(cctx, "sim.status", nil, &st); err != nil || st.Cards != 1 {
		t.Errorf("sim.status during the flood: %+v, %v", st, err)
	}
	wg.Wait()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatalf("reading RSS: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.Atoi(f[1])
			t.Logf("RSS under the flood: %d MiB (daemon and flood clients in one process)", kb>>10)
			if kb > 100<<10 {
				t.Errorf("RSS %d MiB under the flood, want under 100 MiB", kb>>10)
			}
		}
	}
}
