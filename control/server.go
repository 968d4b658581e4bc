package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"
)

// HandlerFunc answers one method. params is the raw "params" member (nil when
// absent); the result is encoded as JSON. An error travels back as *Error,
// with its rule taken from an *Error or a Rule() string method in its chain.
// ctx is cancelled when the server shuts down.
type HandlerFunc func(ctx context.Context, params json.RawMessage) (any, error)

// Option configures Listen.
type Option func(*options)

type options struct {
	allowRemote bool
	logger      *slog.Logger
	limits      Limits
	token       string
}

// AllowNonLoopback lets Listen bind TCP addresses other than loopback. The
// channel is not encrypted, and the token (RequireToken) travels in clear;
// only use it on a network you trust.
func AllowNonLoopback() Option { return func(o *options) { o.allowRemote = true } }

// WithLogger sets where the server logs connection events and handler
// panics. Params and results are never logged: they may hold PINs.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Server serves control requests. Register methods with Handle, then call
// Serve.
type Server struct {
	ln     net.Listener
	addr   string
	log    *slog.Logger
	sock   string      // unix socket path we created, "" for TCP
	sockFI os.FileInfo // to remove only our own socket file on Close
	limits Limits
	token  string // required on TCP listeners; "" when none

	mu       sync.Mutex
	handlers map[string]HandlerFunc
	conns    map[net.Conn]*connState
	closed   bool
	serving  bool

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

// Listen opens a control listener on addr ("unix:/path" or "tcp:host:port").
// A unix socket gets mode 0600; a stale socket file left by a dead daemon is
// replaced, a live one is an error. TCP hosts must be loopback unless
// AllowNonLoopback is given; port 0 picks a free port (see Addr).
func Listen(addr string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	network, address, err := parseAddr(addr, o.allowRemote)
	if err != nil {
		return nil, err
	}
	s := &Server{
		limits:   o.limits.withDefaults(),
		log:      o.logger,
		handlers: map[string]HandlerFunc{},
		conns:    map[net.Conn]*connState{},
		done:     make(chan struct{}),
	}
	if network == "unix" {
		if err := s.listenUnix(address); err != nil {
			return nil, err
		}
	} else {
		ln, err := net.Listen("tcp", address)
		if err != nil {
			return nil, fmt.Errorf("listening on control address %s: %w", addr, err)
		}
		s.ln = ln
		s.addr = "tcp:" + ln.Addr().String()
		s.token = o.token
	}
	s.Handle("control.methods", s.methods)
	return s, nil
}

// listenUnix binds a temporary name, restricts it to 0600 and only then
// renames it into place, so the socket is never reachable with looser
// permissions. What is at path already is replaced only when it is a
// socket nobody answers on (left by a daemon that died): a live socket or
// any other file (a state file named by mistake) is refused.
func (s *Server) listenUnix(path string) error {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return fmt.Errorf("listening on control socket %s: a %s is there, not a socket: refusing to replace it (name a new path)", path, fileKind(fi))
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return fmt.Errorf("listening on control socket %s: another daemon is already serving it", path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("listening on control socket %s: %w", path, err)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	_ = os.Remove(tmp)
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return fmt.Errorf("listening on control socket %s: %w", path, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(tmp, 0o600); err != nil {
		ln.Close()
		os.Remove(tmp)
		return fmt.Errorf("restricting control socket %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		ln.Close()
		os.Remove(tmp)
		return fmt.Errorf("placing control socket %s: %w", path, err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		ln.Close()
		return fmt.Errorf("checking control socket %s: %w", path, err)
	}
	s.ln, s.addr, s.sock, s.sockFI = ln, "unix:"+path, path, fi
	return nil
}

// fileKind names what a non-socket file is, for an error.
func fileKind(fi os.FileInfo) string {
	switch {
	case fi.IsDir():
		return "directory"
	case fi.Mode()&os.ModeSymlink != 0:
		return "symbolic link"
	case fi.Mode().IsRegular():
		return "regular file"
	}
	return "file of mode " + fi.Mode().Type().String()
}

// Addr is the address clients dial, in the same form Listen takes; for
// "tcp:127.0.0.1:0" it carries the port actually chosen.
func (s *Server) Addr() string { return s.addr }

// Handle registers fn for method. Like http.ServeMux it panics on an empty
// method, a nil fn or a duplicate registration: those are programming errors
// found at start-up, not input.
func (s *Server) Handle(method string, fn func(ctx context.Context, params json.RawMessage) (any, error)) {
	if method == "" || fn == nil {
		panic("control: Handle needs a method name and a function")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[method]; dup {
		panic("control: method " + method + " registered twice")
	}
	s.handlers[method] = fn
}

func (s *Server) methods(context.Context, json.RawMessage) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.handlers))
	for n := range s.handlers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Serve accepts connections until ctx is cancelled or Close is called, then
// closes the listener and every connection and waits for running handlers
// to return. It returns nil after a shutdown and the accept error otherwise.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	again := s.serving
	s.serving = true
	s.mu.Unlock()
	if again {
		return errors.New("serving control: Serve called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer func() {
		stop()
		cancel() // handlers see the shutdown before we wait for them
		s.wg.Wait()
	}()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				s.log.Warn("accepting control connection", "err", err)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			s.Close()
			return fmt.Errorf("accepting control connection: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		if len(s.conns) >= s.limits.MaxConns && !s.evictPending() {
			s.mu.Unlock()
			s.log.Warn("refusing control connection: too many open", "max", s.limits.MaxConns)
			s.refuseBusy(c)
			continue
		}
		st := &connState{opened: time.Now()}
		s.conns[c] = st
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(ctx, c, st)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops the server: the listener and every open connection are closed
// and the unix socket file is removed if it is still ours. Safe to call more
// than once and concurrently with Serve.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		s.mu.Lock()
		s.closed = true
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		err = s.ln.Close()
		if s.sock != "" {
			if fi, statErr := os.Lstat(s.sock); statErr == nil && os.SameFile(fi, s.sockFI) {
				os.Remove(s.sock)
			}
		}
	})
	return err
}

func (s *Server) serveConn(ctx context.Context, c net.Conn, st *connState) {
	defer c.Close()
	s.log.Debug("control connection opened", "addr", s.addr)
	defer s.log.Debug("control connection closed", "addr", s.addr)
	r := bufio.NewReaderSize(c, 4<<10)
	w := bufio.NewWriter(c)
	for {
		// Idle between requests, then a bounded time for the request
		// itself: a client that stops mid-request is dropped.
		// A connection that never completed a request gets ReadTimeout, not
		// IdleTimeout, to send its first one.
		idle := s.limits.IdleTimeout
		if st.pending() {
			idle = s.limits.ReadTimeout
		}
		_ = c.SetReadDeadline(time.Now().Add(idle))
		if _, err := r.Peek(1); err != nil {
			s.dropped(err, "idle")
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.limits.ReadTimeout))
		line, err := readLine(r, s.limits.MaxRequest)
		if errors.Is(err, errTooLong) {
			// The rest of the line is unread, so the stream cannot be
			// resynchronised cheaply: answer and hang up.
			s.reply(c, w, response{Error: Errorf(RuleTooLarge, "reading request: longer than %d bytes", s.limits.MaxRequest)})
			return
		}
		if err != nil {
			s.dropped(err, "stalled mid-request")
			return
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if st.pending() {
			// The first request must be one, with the token where one is
			// required: anything else ends the connection before it may
			// count as a client (an unauthenticated connection never
			// holds a slot; evictPending drops it for a newer one).
			if resp, ok := s.admit(line); !ok {
				s.reply(c, w, resp)
				return
			}
			if !st.activate() {
				return // evicted for a newer connection meanwhile
			}
		}
		resp := s.dispatch(ctx, line)
		if !s.reply(c, w, resp) || resp.Error != nil && resp.Error.Rule == RuleUnauthorized {
			return
		}
	}
}

// dropped logs why a connection ends, if it is worth saying.
func (s *Server) dropped(err error, why string) {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Info("dropping control connection", "reason", why)
	case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
		s.log.Debug("reading control request", "err", err)
	}
}

func (s *Server) reply(c net.Conn, w *bufio.Writer, resp response) bool {
	// A client that does not read its replies cannot hold the server.
	_ = c.SetWriteDeadline(time.Now().Add(s.limits.ReadTimeout))
	b, err := json.Marshal(resp)
	if err != nil {
		b, _ = json.Marshal(response{ID: resp.ID, Error: Errorf(RuleInternal, "encoding response: %v", err)})
	}
	if len(b)+1 > MaxMessage {
		b, _ = json.Marshal(response{ID: resp.ID, Error: Errorf(RuleInternal, "encoding response: result longer than %d bytes", MaxMessage)})
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return false
	}
	return w.Flush() == nil
}

// admit checks a connection's first line: a request, with the right token
// on a listener that requires one. It returns the refusal otherwise.
func (s *Server) admit(line []byte) (response, bool) {
	req, err := decodeRequest(line)
	if err != nil {
		return response{ID: req.ID, Error: Errorf(RuleBadRequest, "%v", err)}, false
	}
	if s.token != "" && !tokenOK(s.token, req.Token) {
		return response{ID: req.ID, Error: s.unauthorized(req.Method)}, false
	}
	return response{}, true
}

func (s *Server) unauthorized(method string) *Error {
	return Errorf(RuleUnauthorized, "calling %q: missing or wrong control token (the daemon writes it to control.token in its state directory at each start; or set %s)", method, TokenEnv)
}

// dispatch decodes one request line and runs its handler. It never panics:
// a panicking handler becomes a RuleInternal error reply.
func (s *Server) dispatch(ctx context.Context, line []byte) (resp response) {
	req, err := decodeRequest(line)
	if err != nil {
		return response{ID: req.ID, Error: Errorf(RuleBadRequest, "%v", err)}
	}
	resp.ID = req.ID
	if s.token != "" && !tokenOK(s.token, req.Token) {
		resp.Error = s.unauthorized(req.Method)
		return resp
	}
	s.mu.Lock()
	fn := s.handlers[req.Method]
	s.mu.Unlock()
	if fn == nil {
		resp.Error = Errorf(RuleUnknownMethod, "calling %q: unknown method (control.methods lists them)", req.Method)
		return resp
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("control handler panicked", "method", req.Method, "panic", fmt.Sprint(p))
			resp = response{ID: req.ID, Error: Errorf(RuleInternal, "calling %q: internal error in handler", req.Method)}
		}
	}()
	result, err := fn(ctx, req.Params)
	if err != nil {
		resp.Error = toError(err)
		return resp
	}
	b, err := json.Marshal(result)
	if err != nil {
		resp.Error = Errorf(RuleInternal, "calling %q: encoding result: %v", req.Method, err)
		return resp
	}
	resp.Result = b
	return resp
}

// decodeRequest parses one request line strictly: a single JSON object with
// a non-empty method and no unknown members.
func decodeRequest(line []byte) (request, error) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		// Echo the id if one can be read, so the client can match the reply.
		var idOnly struct{ ID uint64 }
		_ = json.Unmarshal(line, &idOnly)
		return request{ID: idOnly.ID}, fmt.Errorf("decoding request: %v", err)
	}
	if dec.More() {
		return request{ID: req.ID}, errors.New("decoding request: more than one JSON value on the line")
	}
	if req.Method == "" {
		return req, errors.New("decoding request: missing method")
	}
	return req, nil
}

var errTooLong = errors.New("line too long")

// readLine returns the next '\n'-terminated line without the newline, or
// errTooLong once more than limit bytes arrive without one. A final line
// without a newline at EOF is returned as a line.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(line)+len(chunk) > limit {
			return nil, errTooLong
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(line) > 0:
			return line, nil
		default:
			return nil, err
		}
	}
}
