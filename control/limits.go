package control

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Limits bound what one client can make the server hold (docs/reliability.md,
// "Control socket"). The zero value of a field means its default.
type Limits struct {
	// MaxConns is the number of connections served at once (default 32);
	// a connection beyond it gets one RuleBusy reply and is closed.
	MaxConns int
	// MaxRequest is the largest request line, newline included (default
	// MaxRequest); a longer one gets RuleTooLarge and the connection is
	// closed.
	MaxRequest int
	// ReadTimeout bounds the time from a request's first byte to its
	// newline (default 10 s): a client that stops mid-request is dropped.
	ReadTimeout time.Duration
	// IdleTimeout closes a connection that sends nothing between requests
	// (default 2 min).
	IdleTimeout time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxConns    = 32
	DefaultReadTimeout = 10 * time.Second
	DefaultIdleTimeout = 2 * time.Minute
	// MaxRequest is the default bound on a request line. Requests carry
	// profiles and PINs, a few kilobytes; responses may be up to MaxMessage.
	MaxRequest = 64 << 10
)

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = DefaultMaxConns
	}
	if l.MaxRequest <= 0 {
		l.MaxRequest = MaxRequest
	}
	l.MaxRequest = min(l.MaxRequest, MaxMessage)
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	return l
}

// WithLimits sets the server's limits.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// RequireToken makes a TCP listener answer only requests carrying token in
// their "token" member (compared in constant time); any other request gets
// RuleUnauthorized and the connection is closed. Unix sockets are guarded
// by their mode 0600 and need no token.
func RequireToken(token string) Option { return func(o *options) { o.token = token } }

// Rules of the limits and the token.
const (
	RuleBusy         = "control.busy"         // too many connections: retry later
	RuleUnauthorized = "control.unauthorized" // missing or wrong token on a TCP control address
)

// TokenEnv is the environment variable a client reads the control token
// from when the daemon's state directory is elsewhere.
const TokenEnv = "MYNAHIL_CONTROL_TOKEN"

// TokenFile is the token's file in a daemon's state directory.
func TokenFile(stateDir string) string { return filepath.Join(stateDir, "control.token") }

// WriteToken writes a new random token to TokenFile(stateDir), mode 0600,
// replacing any earlier one, and returns it. The daemon calls it at every
// start, so a token read from an old run stops working.
func WriteToken(stateDir string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("creating control token: %w", err)
	}
	tok := hex.EncodeToString(b)
	path := TokenFile(stateDir)
	// CreateTemp makes the file 0600 before anything is written to it.
	tmp, err := os.CreateTemp(stateDir, ".control.token.tmp-*")
	if err != nil {
		return "", fmt.Errorf("writing control token %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	_, err = tmp.WriteString(tok + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("writing control token %s: %w", path, err)
	}
	return tok, nil
}

// ReadToken returns the control token for a daemon: $MYNAHIL_CONTROL_TOKEN
// when set, else the token file of stateDir. A missing file yields "" and
// no error (a unix socket needs no token).
func ReadToken(stateDir string) (string, error) {
	if t := os.Getenv(TokenEnv); t != "" {
		return strings.TrimSpace(t), nil
	}
	if stateDir == "" {
		return "", nil
	}
	b, err := os.ReadFile(TokenFile(stateDir))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading control token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// DialOption configures Dial.
type DialOption func(*Client)

// WithToken sends token with every request (RequireToken).
func WithToken(token string) DialOption { return func(c *Client) { c.token = token } }

// WithStateToken sends the token that ReadToken finds for stateDir, if any.
func WithStateToken(stateDir string) DialOption {
	return func(c *Client) {
		if c.token != "" {
			return
		}
		tok, err := ReadToken(stateDir)
		if err != nil {
			c.optErr = err
			return
		}
		c.token = tok
	}
}

// tokenOK compares a request's token in constant time.
func tokenOK(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// refuseBusy answers a connection beyond MaxConns and closes it, without
// reading from it.
func (s *Server) refuseBusy(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	b, _ := marshalLine(response{Error: Errorf(RuleBusy, "too many control connections (at most %d): retry later", s.limits.MaxConns)})
	_, _ = c.Write(b)
	_ = c.Close()
}

// connState tracks whether a connection has completed a request: until it
// has, a newer connection may evict it when the server is full, so a flood
// of silent or half-sent connections cannot lock real clients out.
type connState struct {
	opened time.Time
	state  atomic.Int32 // statePending, stateActive, stateEvicted
}

const (
	statePending int32 = iota
	stateActive
	stateEvicted
)

func (st *connState) pending() bool { return st.state.Load() == statePending }

// activate marks a complete request; false when the connection was evicted.
func (st *connState) activate() bool {
	return st.state.CompareAndSwap(statePending, stateActive) || st.state.Load() == stateActive
}

// evictPending closes the oldest connection that has not completed a
// request, with a RuleBusy notice, to make room; callers hold s.mu. It
// reports whether one was evicted.
func (s *Server) evictPending() bool {
	var oldest net.Conn
	var ost *connState
	for c, st := range s.conns {
		if st.pending() && (ost == nil || st.opened.Before(ost.opened)) {
			oldest, ost = c, st
		}
	}
	if ost == nil || !ost.state.CompareAndSwap(statePending, stateEvicted) {
		return false
	}
	delete(s.conns, oldest)
	s.log.Info("dropping control connection", "reason", "evicted: server full and no request completed")
	go s.refuseBusy(oldest)
	return true
}
