// Package delayproxy adds latency to a link for the slow-link benchmark:
// this machine's kernel has no netem, so a proxy in front of a node holds
// every TCP chunk and UDP datagram for a one-way delay before passing it on.
//
// TCP connections are relayed both ways, each chunk held for Delay, in
// order, without blocking the reads behind it (the proxy adds latency, not
// a window limit); an end of stream is passed on as a half-close, also
// delayed; with Handshake a new connection's first bytes also wait the
// round trip its handshake would have cost. UDP datagrams are sent on to
// the target from one socket after Delay; nothing comes back through the
// proxy. That suits memberlist, which answers a ping at the address the
// ping names (the sender's advertised address, i.e. the sender's own
// proxy), not at the datagram's source.
//
// Loss and rate limits belong to the link in front of the proxy (tbf and
// nftables in the benchmark); the proxy's own leg to the target is local.
// TCP's own round trip is therefore short, between the sender and the
// proxy: it repairs loss faster than it would over a real long link.
package delayproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"
)

// Config says where a proxy listens, where it relays to and how long each
// byte is held.
type Config struct {
	Listen string        // host:port, TCP and UDP; port 0 picks one free for both
	Target string        // host:port
	Delay  time.Duration // one way

	// Handshake also holds a new connection's first bytes one round trip
	// (2×Delay): over a real link the client's connect takes that long,
	// here the proxy accepts at once. Without it a message on a fresh
	// connection arrives a round trip too early.
	Handshake bool

	// Log, if set, gets one line per connection when it ends: bytes each
	// way, and when the first and the last arrived, from the accept.
	Log *slog.Logger
}

// Proxy relays one address to a target with a delay. Close stops it.
type Proxy struct {
	cfg Config
	ln  net.Listener
	udp net.PacketConn
	out net.Conn // UDP to the target

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Start listens on cfg.Listen and relays until Close.
func Start(cfg Config) (*Proxy, error) {
	if cfg.Delay < 0 {
		return nil, errors.New("delayproxy: negative delay")
	}
	ln, udp, err := listenBoth(cfg.Listen)
	if err != nil {
		return nil, err
	}
	out, err := net.Dial("udp", cfg.Target)
	if err != nil {
		ln.Close()
		udp.Close()
		return nil, fmt.Errorf("delayproxy: target %s: %w", cfg.Target, err)
	}
	p := &Proxy{cfg: cfg, ln: ln, udp: udp, out: out, conns: map[net.Conn]struct{}{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(2)
	go p.acceptLoop()
	go p.udpLoop()
	return p, nil
}

// listenBoth opens TCP and UDP on the same port (memberlist advertises one
// port for both); with port 0 it tries a few free TCP ports.
func listenBoth(addr string) (net.Listener, net.PacketConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("delayproxy: listen address: %w", err)
	}
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("delayproxy: %w", err)
		}
		p := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		udp, err := net.ListenPacket("udp", net.JoinHostPort(host, p))
		if err == nil {
			return ln, udp, nil
		}
		ln.Close()
		if port != "0" || try == 10 {
			return nil, nil, fmt.Errorf("delayproxy: %w", err)
		}
	}
}

// Addr is the address the proxy listens at (TCP and UDP).
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening and closes every relayed connection.
func (p *Proxy) Close() error {
	if p.ctx.Err() != nil {
		return nil
	}
	p.cancel()
	err := p.ln.Close()
	p.udp.Close()
	p.out.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// sleepUntil waits for t; false if the proxy closed meanwhile.
func (p *Proxy) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-p.ctx.Done():
		return false
	}
}

func (p *Proxy) track(c net.Conn, on bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !on {
		delete(p.conns, c)
		return true
	}
	if p.ctx.Err() != nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		p.wg.Add(1)
		go p.relay(c)
	}
}

// relay joins a client to a new connection to the target, both ways.
func (p *Proxy) relay(c net.Conn) {
	defer p.wg.Done()
	start := time.Now()
	if !p.track(c, true) {
		c.Close()
		return
	}
	defer p.track(c, false)
	defer c.Close()
	d := net.Dialer{Timeout: 10 * time.Second}
	t, err := d.DialContext(p.ctx, "tcp", p.cfg.Target)
	if err != nil {
		return // the client sees its connection closed
	}
	if !p.track(t, true) {
		t.Close()
		return
	}
	defer p.track(t, false)
	defer t.Close()
	var notBefore time.Time
	if p.cfg.Handshake {
		notBefore = start.Add(2 * p.cfg.Delay)
	}
	abort := func() { c.Close(); t.Close() }
	var fwd, back flow
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); fwd = p.pipe(c, t, notBefore, abort) }()
	go func() { defer wg.Done(); back = p.pipe(t, c, time.Time{}, abort) }()
	wg.Wait()
	if p.cfg.Log != nil {
		since := func(t time.Time) time.Duration {
			if t.IsZero() {
				return 0
			}
			return t.Sub(start).Round(time.Millisecond)
		}
		p.cfg.Log.Info("connection", "from", c.RemoteAddr().String(), "at", start.Format("15:04:05.000"),
			"fwd_bytes", fwd.n, "fwd_first", since(fwd.first), "fwd_end", since(fwd.end),
			"back_bytes", back.n, "back_first", since(back.first), "back_end", since(back.end))
	}
}

// flow is what one direction of a connection carried, and when it was read.
type flow struct {
	n          int64
	first, end time.Time
}

// chunk is bytes read at one time; eof marks the end of the stream.
type chunk struct {
	b   []byte
	at  time.Time // when to pass it on
	eof bool
}

// pipe copies src to dst, each chunk held until Delay after it was read
// (and not before notBefore+Delay). Reading goes on while earlier chunks
// wait, so the delay adds latency without limiting throughput. A clean end
// of src becomes a half-close of dst; an error ends both connections.
func (p *Proxy) pipe(src, dst net.Conn, notBefore time.Time, abort func()) (f flow) {
	q := make(chan chunk, 256)
	go func() {
		defer close(q)
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			now := time.Now()
			if n > 0 && f.n == 0 {
				f.first = now
			}
			f.n += int64(n)
			if err != nil {
				f.end = now
			}
			if now.Before(notBefore) {
				now = notBefore
			}
			if n > 0 {
				q <- chunk{b: append([]byte(nil), buf[:n]...), at: now.Add(p.cfg.Delay)}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					q <- chunk{at: now.Add(p.cfg.Delay), eof: true}
				} else {
					abort()
				}
				return
			}
		}
	}()
	for c := range q {
		if !p.sleepUntil(c.at) {
			abort()
			continue // drain: the reader ends once src is closed
		}
		if c.eof {
			if cw, ok := dst.(interface{ CloseWrite() error }); ok && cw.CloseWrite() == nil {
				continue
			}
			abort()
			continue
		}
		if _, err := dst.Write(c.b); err != nil {
			abort()
		}
	}
	return f
}

// datagram is one UDP packet waiting for its time.
type datagram struct {
	b  []byte
	at time.Time
}

// udpLoop reads datagrams and sends each on to the target after Delay.
// When more wait than the queue holds, new ones are dropped, as a router
// would.
func (p *Proxy) udpLoop() {
	defer p.wg.Done()
	q := make(chan datagram, 1024)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for d := range q {
			if !p.sleepUntil(d.at) {
				continue
			}
			p.out.Write(d.b) // a target not listening (yet) loses the datagram
		}
	}()
	defer close(q)
	buf := make([]byte, 64<<10)
	for {
		n, _, err := p.udp.ReadFrom(buf)
		if err != nil {
			if p.ctx.Err() != nil {
				return
			}
			time.Sleep(time.Millisecond)
			continue
		}
		select {
		case q <- datagram{b: append([]byte(nil), buf[:n]...), at: time.Now().Add(p.cfg.Delay)}:
		default:
		}
	}
}
