package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// Client calls methods on a control server. It is safe for concurrent use;
// calls are serialised on one connection, which is re-dialled after a
// transport failure or a cancelled call.
type Client struct {
	network, address string

	token  string // sent with every request (RequireToken)
	optErr error
	used   time.Time // last dial or reply on conn

	mu     sync.Mutex
	conn   net.Conn
	r      *bufio.Reader
	nextID uint64
	closed bool
}

// Dial connects to a control server at addr ("unix:/path" or
// "tcp:host:port"). The loopback restriction of Listen does not apply: the
// client only goes where it is told. A TCP address of a daemon needs its
// token: pass WithStateToken(stateDir) or WithToken; without either, the
// token is taken from $MYNAHIL_CONTROL_TOKEN when set.
func Dial(addr string, opts ...DialOption) (*Client, error) {
	network, address, err := parseAddr(addr, true)
	if err != nil {
		return nil, err
	}
	c := &Client{network: network, address: address}
	for _, o := range append(opts, WithStateToken("")) {
		o(c)
	}
	if c.optErr != nil {
		return nil, c.optErr
	}
	if err := c.dial(context.Background()); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Client) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, c.network, c.address)
	if err != nil {
		return fmt.Errorf("connecting to control %s:%s (is 'mynahil sim' running?): %w", c.network, c.address, err)
	}
	c.conn, c.r, c.used = conn, bufio.NewReaderSize(conn, 64<<10), time.Now()
	return nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

// Call invokes method with params (encoded as JSON; nil sends none) and
// decodes the result into result (nil discards it). A failure reported by
// the server is returned as *Error; anything else is a transport error.
func (c *Client) Call(ctx context.Context, method string, params any, result any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("calling %s: client closed", method)
	}
	c.nextID++
	line, err := c.encode(method, params, c.nextID)
	if err != nil {
		return fmt.Errorf("calling %s: %w", method, err)
	}
	resp, err := c.exchange(ctx, line)
	if err != nil {
		return fmt.Errorf("calling %s: %w", method, err)
	}
	if resp.ID != c.nextID {
		c.conn.Close()
		c.conn = nil
		return fmt.Errorf("calling %s: reply id %d does not match request id %d", method, resp.ID, c.nextID)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if result != nil && len(resp.Result) > 0 {
		if err := json.Unmarshal(resp.Result, result); err != nil {
			return fmt.Errorf("calling %s: decoding result: %w", method, err)
		}
	}
	return nil
}

// encode is the request line of a call, newline included, within the
// server's MaxMessage.
func (c *Client) encode(method string, params any, id uint64) ([]byte, error) {
	req := request{Method: method, ID: id, Token: c.token}
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("encoding params: %w", err)
		}
		req.Params = b
	}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	if len(line)+1 > MaxMessage {
		return nil, fmt.Errorf("request longer than %d bytes", MaxMessage)
	}
	return append(line, '\n'), nil
}

// exchange sends line and reads the reply, dialling as needed. It sends a
// request twice only when it cannot have arrived: on a connection the
// server dropped for idling, or when the server answered busy before
// reading it.
func (c *Client) exchange(ctx context.Context, line []byte) (response, error) {
	for backoff := 20 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		resp, err := c.send(ctx, line)
		if err != nil {
			return response{}, err
		}
		// A busy notice (id 0) means the server closed the connection
		// before reading the request: it did not run, so try again.
		c.used = time.Now()
		if resp.ID != 0 || resp.Error == nil || resp.Error.Rule != RuleBusy {
			return resp, nil
		}
		c.conn.Close()
		c.conn = nil
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return response{}, fmt.Errorf("%w (%w)", resp.Error, ctx.Err())
		case <-t.C:
		}
	}
}

// send makes one round trip, on a new connection when the idle one was
// dropped by the server.
func (c *Client) send(ctx context.Context, line []byte) (response, error) {
	// Only a connection that sat idle can have been dropped by the
	// server's idle limit; one that just carried a request may have
	// delivered it, and sending it twice could repeat an operation.
	reused := c.conn != nil && time.Since(c.used) >= time.Second
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return response{}, err
		}
	}
	resp, err := c.roundTrip(ctx, line)
	if err != nil && reused && ctx.Err() == nil && hungUp(err) {
		// The server drops connections idle for longer than its
		// IdleTimeout without reading from them: the request never
		// arrived, so send it once more on a new connection.
		c.conn.Close()
		if err = c.dial(ctx); err == nil {
			resp, err = c.roundTrip(ctx, line)
		}
	}
	if err != nil {
		// The stream may now hold half a reply: start afresh next time.
		c.conn.Close()
		c.conn = nil
	}
	return resp, err
}

func (c *Client) roundTrip(ctx context.Context, line []byte) (response, error) {
	// Cancellation and deadlines both come through ctx: AfterFunc runs once
	// ctx.Err() is set, so a failed read can report why.
	conn := c.conn
	conn.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(what string, err error) (response, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		// A unix socket's peer address is the name the server bound before
		// renaming it into place; name the address we dialled instead.
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return response{}, fmt.Errorf("%s from %s:%s: %w", what, c.network, c.address, err)
	}
	if _, err := conn.Write(line); err != nil {
		// A server that is full answers with a busy notice and closes;
		// the notice may still be waiting to be read.
		if b, rerr := readLine(c.r, MaxMessage); rerr == nil {
			var resp response
			if json.Unmarshal(b, &resp) == nil && resp.Error != nil && resp.Error.Rule == RuleBusy {
				return resp, nil
			}
		}
		return fail("sending request", err)
	}
	b, err := readLine(c.r, MaxMessage)
	if errors.Is(err, errTooLong) {
		return response{}, fmt.Errorf("reading reply: longer than %d bytes", MaxMessage)
	}
	if err != nil {
		return fail("reading reply", err)
	}
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil {
		return response{}, fmt.Errorf("decoding reply: %w", err)
	}
	return resp, nil
}

// hungUp reports whether err is the peer having closed the connection.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET)
}
