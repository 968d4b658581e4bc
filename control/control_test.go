package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type ruleErr struct{ rule string }

func (e ruleErr) Error() string { return "card is locked" }
func (e ruleErr) Rule() string  { return e.rule }

// start serves a fresh server on addr with a few test methods and returns a
// connected client.
func start(t *testing.T, addr string, opts ...Option) (*Server, *Client) {
	t.Helper()
	srv, err := Listen(addr, opts...)
	if err != nil {
		t.Fatalf("Listen(%q): %v", addr, err)
	}
	srv.Handle("echo", func(_ context.Context, p json.RawMessage) (any, error) {
		var v struct {
			Text string `json:"text"`
			N    int    `json:"n"`
		}
		if err := Decode(p, &v); err != nil {
			return nil, err
		}
		return map[string]any{"text": strings.ToUpper(v.Text), "n": v.N + 1}, nil
	})
	srv.Handle("fail.rule", func(context.Context, json.RawMessage) (any, error) {
		return nil, fmt.Errorf("inserting card: %w", ruleErr{"lifecycle.locked"})
	})
	srv.Handle("fail.control", func(context.Context, json.RawMessage) (any, error) {
		return nil, fmt.Errorf("removing card: %w", Errorf("sim.unknown-card", "no card %q", "c9"))
	})
	srv.Handle("fail.plain", func(context.Context, json.RawMessage) (any, error) {
		return nil, errors.New("disk on fire")
	})
	srv.Handle("panic", func(context.Context, json.RawMessage) (any, error) {
		panic("boom with secret 1234")
	})
	srv.Handle("unencodable", func(context.Context, json.RawMessage) (any, error) {
		return func() {}, nil
	})
	srv.Handle("block", func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
	})
	c, err := Dial(srv.Addr())
	if err != nil {
		t.Fatalf("Dial(%q): %v", srv.Addr(), err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func sockAddr(t *testing.T) string {
	// t.TempDir paths can exceed the 107-byte sun_path limit.
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return DefaultAddr(dir)
}

func TestRoundTrip(t *testing.T) {
	for name, addr := range map[string]string{"unix": sockAddr(t), "tcp4": "tcp:127.0.0.1:0", "tcp6": "tcp:[::1]:0"} {
		t.Run(name, func(t *testing.T) {
			if name == "tcp6" {
				if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6 loopback here: %v", err)
				} else {
					ln.Close()
				}
			}
			_, c := start(t, addr)
			ctx := context.Background()
			for i := range 3 {
				var got struct {
					Text string `json:"text"`
					N    int    `json:"n"`
				}
				if err := c.Call(ctx, "echo", map[string]any{"text": "abc", "n": i}, &got); err != nil {
					t.Fatalf("Call echo: %v", err)
				}
				if got.Text != "ABC" || got.N != i+1 {
					t.Fatalf("echo %d = %+v, want {ABC %d}", i, got, i+1)
				}
			}
			var methods []string
			if err := c.Call(ctx, "control.methods", nil, &methods); err != nil {
				t.Fatalf("Call control.methods: %v", err)
			}
			want := []string{"block", "control.methods", "echo", "fail.control", "fail.plain", "fail.rule", "panic", "unencodable"}
			if d := cmp.Diff(want, methods); d != "" {
				t.Errorf("control.methods (-want +got):\n%s", d)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	_, c := start(t, sockAddr(t))
	ctx := context.Background()
	for _, tc := range []struct {
		method string
		params any
		want   Error
	}{
		{"fail.rule", nil, Error{"inserting card: card is locked", "lifecycle.locked"}},
		{"fail.control", nil, Error{`removing card: no card "c9"`, "sim.unknown-card"}},
		{"fail.plain", nil, Error{"disk on fire", ""}},
		{"nope", nil, Error{`calling "nope": unknown method (control.methods lists them)`, RuleUnknownMethod}},
		{"panic", nil, Error{`calling "panic": internal error in handler`, RuleInternal}},
		{"echo", map[string]any{"txet": "typo"}, Error{`decoding params: json: unknown field "txet"`, RuleBadParams}},
		{"echo", []int{1}, Error{"decoding params: json: cannot unmarshal array into Go value of type struct { Text string \"json:\\\"text\\\"\"; N int \"json:\\\"n\\\"\" }", RuleBadParams}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			err := c.Call(ctx, tc.method, tc.params, nil)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Call %s: error %v (%T), want *control.Error", tc.method, err, err)
			}
			if tc.method == "echo" && strings.HasPrefix(tc.want.Message, "decoding params: json: cannot") {
				// The exact wording of encoding/json's type error is not ours.
				if ce.Rule != tc.want.Rule || !strings.HasPrefix(ce.Message, "decoding params:") {
					t.Fatalf("got %+v, want rule %s", ce, tc.want.Rule)
				}
				return
			}
			if d := cmp.Diff(tc.want, *ce); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
	if err := c.Call(ctx, "unencodable", nil, nil); err == nil || !strings.Contains(err.Error(), "encoding result") {
		t.Errorf("unencodable result: err = %v, want encoding error", err)
	}
	// The connection survives all of the above.
	if err := c.Call(ctx, "echo", nil, nil); err != nil {
		t.Errorf("echo after errors: %v", err)
	}
}

// rawLines sends lines on a raw connection and returns the replies.
func rawLines(t *testing.T, addr string, lines ...string) []response {
	t.Helper()
	network, address, _ := parseAddr(addr, false)
	conn, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	var out []response
	for _, l := range lines {
		if _, err := conn.Write([]byte(l)); err != nil {
			t.Fatalf("writing: %v", err)
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		b, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading reply to %.40q: %v", l, err)
		}
		var resp response
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("reply %q is not JSON: %v", b, err)
		}
		out = append(out, resp)
	}
	return out
}

// TestMalformedRequests: a malformed first line is answered and ends the
// connection (it never becomes a client); after a valid first request, a
// malformed one is answered and the connection goes on.
func TestMalformedRequests(t *testing.T) {
	srv, _ := start(t, sockAddr(t))
	for _, tc := range []struct {
		line string
		id   uint64
	}{
		{"{not json\n", 0},
		{"[1,2]\n", 0},
		{`{"id":3}` + "\n", 3},
		{`{"id":4,"method":"echo","extra":1}` + "\n", 4},
		{`{"id":5,"method":"echo"} {"id":6}` + "\n", 5},
	} {
		replies, closed := rawExchange(t, srv.Addr(), tc.line, `{"id":9,"method":"echo"}`+"\n")
		if len(replies) != 1 || replies[0].Error == nil || replies[0].Error.Rule != RuleBadRequest || replies[0].ID != tc.id || replies[0].Error.Message == "" {
			t.Errorf("first line %.30q: replies %+v, want one with rule %s and id %d", tc.line, replies, RuleBadRequest, tc.id)
		}
		if !closed {
			t.Errorf("first line %.30q: the connection stayed open", tc.line)
		}
	}
	replies, closed := rawExchange(t, srv.Addr(), "\n", `{"id":1,"method":"echo"}`+"\n", "{not json\n", `{"id":7,"method":"echo","params":{"text":"ok"}}`+"\n")
	if len(replies) != 3 || closed || replies[0].Error != nil || replies[1].Error == nil || replies[1].Error.Rule != RuleBadRequest ||
		replies[2].ID != 7 || !strings.Contains(string(replies[2].Result), "OK") {
		t.Errorf("garbage after a valid request: replies %+v, closed %v; want it answered and the next request served", replies, closed)
	}
}

// rawExchange writes lines on a raw connection, one at a time, reading a
// reply to each non-blank one, and reports whether the server closed the
// connection.
func rawExchange(t *testing.T, addr string, lines ...string) (replies []response, closed bool) {
	t.Helper()
	network, address, _ := parseAddr(addr, false)
	conn, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	for _, l := range lines {
		if _, err := conn.Write([]byte(l)); err != nil {
			return replies, true
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		b, err := r.ReadBytes('\n')
		if err != nil {
			return replies, !isTimeout(err)
		}
		var resp response
		if err := json.Unmarshal(b, &resp); err != nil {
			t.Fatalf("reply %q is not JSON: %v", b, err)
		}
		replies = append(replies, resp)
	}
	return replies, false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestOversizeRequest(t *testing.T) {
	srv, c := start(t, sockAddr(t))
	big := `{"id":1,"method":"echo","params":{"text":"` + strings.Repeat("a", MaxRequest) + `"}}` + "\n"
	replies := rawLines(t, srv.Addr(), big)
	if replies[0].Error == nil || replies[0].Error.Rule != RuleTooLarge {
		t.Fatalf("oversize reply = %+v, want rule %s", replies[0], RuleTooLarge)
	}
	// The client refuses to send one at all, and the server is still fine.
	err := c.Call(context.Background(), "echo", map[string]string{"text": strings.Repeat("a", MaxMessage)}, nil)
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("client oversize: err = %v", err)
	}
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Errorf("echo after oversize: %v", err)
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"tcp::7777", "tcp:0.0.0.0:0", "tcp:[::]:0", "tcp:192.0.2.1:0", "tcp:example.com:0", "tcp:127.0.0.1", "udp:127.0.0.1:0", "/tmp/x.sock", "unix:", "unix:/" + strings.Repeat("a", 120)} {
		if srv, err := Listen(addr); err == nil {
			srv.Close()
			t.Errorf("Listen(%q) succeeded, want error", addr)
		} else if !strings.Contains(err.Error(), addr) {
			t.Errorf("Listen(%q) error %q does not name the address", addr, err)
		}
	}
	// With the explicit option a wildcard address is accepted.
	srv, err := Listen("tcp:0.0.0.0:0", AllowNonLoopback())
	if err != nil {
		t.Fatalf("Listen with AllowNonLoopback: %v", err)
	}
	srv.Close()
}

func TestUnixSocketFile(t *testing.T) {
	addr := sockAddr(t)
	path := strings.TrimPrefix(addr, "unix:")
	// A stale socket file (nobody listening) is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	srv, _ := start(t, addr)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want socket with 0600", fi.Mode())
	}
	// A live one is not taken over.
	if s2, err := Listen(addr); err == nil {
		s2.Close()
		t.Fatalf("second Listen on a live socket succeeded")
	}
	srv.Close()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file after Close: %v, want removed", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Errorf("leftover files: %v", entries)
	}
}

func TestServeTwice(t *testing.T) {
	srv, c := start(t, sockAddr(t))
	// A reply proves the first Serve is running.
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Serve(ctx); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Serve: %v", err)
	}
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Errorf("first Serve disturbed by the second: %v", err)
	}
}

func TestCallContext(t *testing.T) {
	srv, c := start(t, sockAddr(t))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	startT := time.Now()
	err := c.Call(ctx, "block", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked call: err = %v, want deadline exceeded", err)
	}
	if el := time.Since(startT); el > 2*time.Second {
		t.Errorf("blocked call took %v", el)
	}
	// The client re-dials and works again.
	if err := c.Call(context.Background(), "echo", nil, nil); err != nil {
		t.Errorf("echo after cancelled call: %v", err)
	}
	// Closing the server ends blocked handlers and in-flight calls.
	errc := make(chan error, 1)
	go func() { errc <- c.Call(context.Background(), "block", nil, nil) }()
	time.Sleep(50 * time.Millisecond)
	srv.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Errorf("call in flight at Close: nil error")
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("call in flight at Close did not return")
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := Dial("unix:/nonexistent/dir/control.sock"); err == nil || !strings.Contains(err.Error(), "is 'mynahil sim' running?") {
		t.Errorf("Dial to missing socket: %v", err)
	}
	if _, err := Dial("bogus"); err == nil {
		t.Errorf("Dial(bogus) succeeded")
	}
}

func TestDefaultAddr(t *testing.T) {
	if got, want := DefaultAddr("/var/lib/mynahil"), "unix:/var/lib/mynahil/control.sock"; got != want {
		t.Errorf("DefaultAddr = %q, want %q", got, want)
	}
}

// FuzzDispatch feeds arbitrary request lines through the decoder and
// dispatcher: no panics, and every reply is a JSON response that fits.
func FuzzDispatch(f *testing.F) {
	for _, seed := range []string{
		`{"id":1,"method":"echo","params":{"text":"a","n":2}}`,
		`{"id":1,"method":"panic"}`,
		`{"id":18446744073709551615,"method":"echo","params":null}`,
		`{"id":-1,"method":"echo"}`,
		`{"method":"echo","params":"\u0000"}`,
		`[]`, `null`, `"x"`, `{`, `{"id":1,"method":"echo","params":{"n":1e400}}`,
	} {
		f.Add([]byte(seed))
	}
	srv, err := Listen("tcp:127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	srv.Handle("echo", func(_ context.Context, p json.RawMessage) (any, error) {
		var v struct {
			Text string `json:"text"`
			N    int    `json:"n"`
		}
		return v, Decode(p, &v)
	})
	srv.Handle("panic", func(context.Context, json.RawMessage) (any, error) { panic("x") })
	f.Fuzz(func(t *testing.T, line []byte) {
		resp := srv.dispatch(context.Background(), line)
		b, err := json.Marshal(resp)
		if err != nil {
			t.Fatalf("reply not encodable: %v", err)
		}
		var back response
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("reply does not decode: %v", err)
		}
		if resp.Error == nil && resp.Result == nil {
			t.Fatalf("reply with neither result nor error for %q", line)
		}
		if resp.Error != nil && resp.Error.Message == "" {
			t.Fatalf("error reply without message for %q", line)
		}
	})
}

// FuzzReadLine checks the line splitter against the limit on arbitrary input.
func FuzzReadLine(f *testing.F) {
	f.Add([]byte("a\nb\n"), 4)
	f.Add([]byte("aaaaaaaa"), 3)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if limit < 1 || limit > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(strings.NewReader(string(data)), 16)
		var lines []string
		for {
			line, err := readLine(r, limit)
			if errors.Is(err, errTooLong) {
				return
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("readLine: %v", err)
			}
			if len(line) > limit || strings.Contains(string(line), "\n") {
				t.Fatalf("line %q breaks limit %d or holds a newline", line, limit)
			}
			lines = append(lines, string(line))
		}
		// Without an over-long line, the lines are exactly the input.
		if got, want := strings.Join(lines, "\n"), strings.TrimSuffix(string(data), "\n"); got != want {
			t.Fatalf("lines %q do not reassemble %q", lines, data)
		}
	})
}
