package simd

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/mynahil/mynahil/control"
)

// FuzzControlHandlers calls the daemon's real control methods (sim.* and
// the office's office.*) with arbitrary params: every call gets a result
// or a refusal, never an internal error (a panicking handler or a result
// that cannot be encoded), and the daemon keeps answering.
func FuzzControlHandlers(f *testing.F) {
	state := shortTempDir(f)
	d, err := Open(Config{StateDir: state, VPCD: "127.0.0.1:1", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	f.Cleanup(func() {
		cancel()
		<-done
	})
	c, err := control.Dial(d.ControlAddr(), control.WithStateToken(state))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { c.Close() })
	var methods []string
	if err := c.Call(context.Background(), "control.methods", nil, &methods); err != nil {
		f.Fatal(err)
	}
	for i, m := range methods {
		var seeds []string
		switch m {
		case "sim.insert", "sim.remove":
			seeds = []string{`{"card":"card-1"}`, `{"slot":0}`, `{"all":true}`, `{"slot":-1,"card":"card-1"}`}
		case "office.issue-card":
			seeds = []string{`{"holder":{"name":"試験　花子","birth_date":"2008-04-01"}}`, `{"issue_date":"2999-01-01"}`}
		default:
			seeds = []string{`{"card":"card-1"}`, `{"card":"card-1","kind":"sign","pin":"ABC123"}`, `null`, `[]`, `"x"`}
		}
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, params []byte) {
		if !json.Valid(params) {
			params, _ = json.Marshal(string(params)) // as a JSON string
		}
		method := methods[int(which)%len(methods)]
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.Call(ctx, method, json.RawMessage(params), nil)
		var ce *control.Error
		if errors.As(err, &ce) && ce.Rule == control.RuleInternal {
			t.Fatalf("%s %s: internal error: %v", method, params, err)
		}
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("%s %s: transport error: %v", method, params, err)
		}
		if err := c.Call(ctx, "sim.status", nil, nil); err != nil {
			t.Fatalf("sim.status after %s %s: %v", method, params, err)
		}
	})
}
