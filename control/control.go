// Package control is the local control channel of the simulator daemon: JSON
// requests and responses, one per line, over a unix socket (the default) or a
// loopback TCP port.
//
// Wire format (one JSON object per line, each at most MaxMessage bytes):
//
//	request:  {"id": 7, "method": "sim.insert", "params": {"card": "c1"}}
//	response: {"id": 7, "result": {...}}
//	       or {"id": 7, "error": {"message": "inserting card: no card \"c9\"", "rule": "sim.unknown-card"}}
//
// A connection may carry any number of requests; the server answers them in
// order. Addresses are written "unix:/path/to/control.sock" or
// "tcp:127.0.0.1:7777". TCP is refused for anything but a loopback address
// unless AllowNonLoopback is given, and with RequireToken a TCP listener
// answers only requests carrying the token ("token" member; the daemon
// writes a new one to control.token in its state directory at each start,
// clients read it with WithStateToken or from $MYNAHIL_CONTROL_TOKEN). The
// unix socket is created with mode 0600 and needs no token. Limits bound
// connections, request size and read and idle time (docs/reliability.md).
package control

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
)

// MaxMessage is the largest request or response line, newline included.
const MaxMessage = 1 << 20

// Rules carried by errors that the control layer itself produces. Handlers use
// their own rule names (for example the lifecycle rules of
// docs/lifecycle-rules.md).
const (
	RuleBadRequest    = "control.bad-request"    // not a JSON request object
	RuleTooLarge      = "control.too-large"      // request longer than MaxMessage
	RuleUnknownMethod = "control.unknown-method" // no handler for the method
	RuleBadParams     = "control.bad-params"     // params do not fit the method
	RuleInternal      = "control.internal"       // handler panicked or result not encodable
)

// Error is an error as it travels over the control channel: a human message
// and, optionally, a machine-readable rule name. Client.Call returns remote
// failures as *Error, so callers can switch on Rule with errors.As.
type Error struct {
	Message string `json:"message"`
	Rule    string `json:"rule,omitempty"`
}

// Error returns the message alone; the rule is for programs (errors.As).
func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given rule and formatted message; handlers
// may return it directly.
func Errorf(rule, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Rule: rule}
}

// toError converts a handler error to its wire form. The rule comes from the
// first error in the chain that is an *Error or has a Rule() string method.
func toError(err error) *Error {
	out := &Error{Message: err.Error()}
	var ce *Error
	if errors.As(err, &ce) {
		out.Rule = ce.Rule
		return out
	}
	var ruler interface{ Rule() string }
	if errors.As(err, &ruler) {
		out.Rule = ruler.Rule()
	}
	return out
}

type request struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	Token  string          `json:"token,omitempty"` // RequireToken
}

func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}

type response struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// Decode unmarshals handler params into v, rejecting unknown fields so that a
// misspelt option is an error rather than silently ignored. Absent or null
// params leave v untouched. Errors carry RuleBadParams.
func Decode(params json.RawMessage, v any) error {
	if len(params) == 0 || string(params) == "null" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(params)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Errorf(RuleBadParams, "decoding params: %v", err)
	}
	if dec.More() {
		return Errorf(RuleBadParams, "decoding params: trailing data after JSON value")
	}
	return nil
}

// DefaultAddr is the control address of a daemon whose state lives in stateDir.
func DefaultAddr(stateDir string) string {
	return "unix:" + filepath.Join(stateDir, "control.sock")
}

// parseAddr splits "unix:PATH" / "tcp:HOST:PORT" into a network and address,
// checking the TCP host is loopback unless allowRemote is set.
func parseAddr(addr string, allowRemote bool) (network, address string, err error) {
	network, address, ok := strings.Cut(addr, ":")
	if !ok || address == "" {
		return "", "", fmt.Errorf("parsing control address %q: want unix:/path/control.sock or tcp:127.0.0.1:PORT", addr)
	}
	switch network {
	case "unix":
		// sun_path is 108 bytes on Linux, including the terminating NUL.
		if len(address) > 107 {
			return "", "", fmt.Errorf("parsing control address %q: unix socket path longer than 107 bytes", addr)
		}
		return "unix", address, nil
	case "tcp":
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return "", "", fmt.Errorf("parsing control address %q: %w", addr, err)
		}
		if allowRemote {
			return "tcp", address, nil
		}
		if host == "localhost" {
			return "tcp", address, nil
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.IsLoopback() {
			return "", "", fmt.Errorf("parsing control address %q: refusing non-loopback TCP host %q (the control channel is unauthenticated; use 127.0.0.1 or ::1)", addr, host)
		}
		return "tcp", address, nil
	default:
		return "", "", fmt.Errorf("parsing control address %q: unknown network %q (want unix or tcp)", addr, network)
	}
}
