package control

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// rssBytes is the process's resident set size, from /proc/self/status.
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

// TestFloodStaysBoundedAndServing replays the flood that took the daemon
// from 20 MB to 526 MB: 300 connections each sending most of a 1 MiB
// request without its newline, and 2,000 idle connections. The server
// must stay well under 100 MB, hold at most MaxConns connections, and keep
// answering a real client meanwhile.
func TestFloodStaysBoundedAndServing(t *testing.T) {
	srv, c := start(t, sockAddr(t))
	network, address, _ := parseAddr(srv.Addr(), false)
	heap0 := heapInUse()

	half := append([]byte(`{"id":1,"method":"echo","params":{"text":"`), bytes.Repeat([]byte("a"), 1<<20)...)
	var conns []net.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	dial := func() net.Conn {
		conn, err := net.Dial(network, address)
		if err != nil {
			t.Errorf("dialling for the flood: %v", err)
			return nil
		}
		mu.Lock()
		conns = append(conns, conn)
		mu.Unlock()
		return conn
	}
	for range 300 {
		conn := dial()
		if conn == nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = conn.SetWriteDeadline(time.Now().Add(3 * time.Second))
			_, _ = conn.Write(half) // the server may hang up first
		}()
	}
	for range 2000 {
		if dial() == nil {
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var out struct{ Text string }
	if err := c.Call(ctx, "echo", map[string]string{"text": "still here"}, &out); err != nil || out.Text != "STILL HERE" {
		t.Errorf("call during the flood: %q, %v", out.Text, err)
	}
	t.Logf("call during the flood answered in %v", time.Since(start).Round(time.Millisecond))
	wg.Wait()

	srv.mu.Lock()
	open := len(srv.conns)
	srv.mu.Unlock()
	if open > srv.limits.MaxConns {
		t.Errorf("%d connections open, want at most %d", open, srv.limits.MaxConns)
	}
	grown := heapInUse() - heap0
	rss := rssBytes(t)
	t.Logf("under the flood: heap +%d KiB, RSS %d MiB (test process, clients included)", grown>>10, rss>>20)
	if grown > 20<<20 {
		t.Errorf("heap grew by %d MiB under the flood, want under 20 MiB", grown>>20)
	}
	if rss > 100<<20 {
		t.Errorf("RSS %d MiB under the flood, want under 100 MiB", rss>>20)
	}
}

// TestStalledAndIdleConnectionsDropped: a client that stops mid-request is
// dropped after ReadTimeout, one that stays silent after a request after
// IdleTimeout; the server keeps serving others.
func TestStalledAndIdleConnectionsDropped(t *testing.T) {
	srv, c := start(t, sockAddr(t), WithLimits(Limits{ReadTimeout: 400 * time.Millisecond, IdleTimeout: 800 * time.Millisecond}))
	network, address, _ := parseAddr(srv.Addr(), false)
	closedWithin := func(what string, conn net.Conn) {
		t.Helper()
		// Generous: the server's own deadline is well under a second.
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(conn)
		for {
			if _, err := r.ReadBytes('\n'); err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Errorf("%s: still open after 10 s", what)
				}
				return
			}
		}
	}
	stalled, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	if _, err := stalled.Write([]byte(`{"id":1,"method":"ec`)); err != nil {
		t.Fatal(err)
	}
	closedWithin("stalled mid-request", stalled)

	idle, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if _, err := idle.Write([]byte(`{"id":1,"method":"echo"}` + "\n")); err != nil {
		t.Fatal(err)
	}
	closedWithin("idle after a request", idle)

	silent, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	closedWithin("never sent anything", silent)

	// c sat idle through all of this (at least 1.6 s, the sum of the
	// deadlines), so the server dropped it too; the client re-dials.
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Errorf("call after the drops: %v", err)
	}
}

// TestTokenOnTCPOnly: with RequireToken, a TCP listener answers only calls
// carrying the token and hangs up on others; a unix socket needs none.
func TestTokenOnTCPOnly(t *testing.T) {
	t.Setenv(TokenEnv, "")
	tcp, _ := start(t, "tcp:127.0.0.1:0", RequireToken("s3cret"))
	for _, tc := range []struct {
		name string
		opts []DialOption
		rule string
	}{
		{"no token", nil, RuleUnauthorized},
		{"wrong token", []DialOption{WithToken("s3cre")}, RuleUnauthorized},
		{"right token", []DialOption{WithToken("s3cret")}, ""},
	} {
		c, err := Dial(tcp.Addr(), tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		err = c.Call(context.Background(), "echo", nil, nil)
		var ce *Error
		switch {
		case tc.rule == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.rule != "" && (!errors.As(err, &ce) || ce.Rule != tc.rule):
			t.Errorf("%s: %v, want rule %s", tc.name, err, tc.rule)
		}
		c.Close()
	}
	unix, c := start(t, sockAddr(t), RequireToken("s3cret"))
	_ = unix
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Errorf("unix socket without a token: %v", err)
	}
}

// TestTokenFile: WriteToken writes a new 0600 token each time; ReadToken
// prefers $MYNAHIL_CONTROL_TOKEN.
func TestTokenFile(t *testing.T) {
	t.Setenv(TokenEnv, "")
	dir := t.TempDir()
	a, err := WriteToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := WriteToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || len(b) != 64 {
		t.Errorf("tokens %q then %q: want two different 64-hex-digit tokens", a, b)
	}
	fi, err := os.Stat(TokenFile(dir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v; want mode 0600", fi, err)
	}
	if got, err := ReadToken(dir); got != b || err != nil {
		t.Errorf("ReadToken = %q, %v; want %q", got, err, b)
	}
	t.Setenv(TokenEnv, "from-env")
	if got, _ := ReadToken(dir); got != "from-env" {
		t.Errorf("ReadToken with $%s = %q", TokenEnv, got)
	}
}
