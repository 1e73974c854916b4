package delayproxy_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbox/replicate/internal/delayproxy"
)

func mustStart(t *testing.T, target string, delay time.Duration, handshake bool) *delayproxy.Proxy {
	t.Helper()
	p, err := delayproxy.Start(delayproxy.Config{Listen: "127.0.0.1:0", Target: target, Delay: delay, Handshake: handshake})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// mustListen is a TCP target whose connections are handled by serve.
func mustListen(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func echo(c net.Conn) { io.Copy(c, c) }

func dial(t *testing.T, p *delayproxy.Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c.(*net.TCPConn)
}

func TestTCPBytesIntactAndInOrder(t *testing.T) {
	t.Parallel()
	p := mustStart(t, mustListen(t, echo), 30*time.Millisecond, false)
	c := dial(t, p)
	data := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{1}).Read(data)
	go func() {
		for b := data; len(b) > 0; {
			n := min(len(b), 1+len(b)%50000) // writes of uneven sizes
			if _, err := c.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(data) || !bytes.Equal(got, data) {
		t.Fatalf("echoed %d bytes, want the %d sent, identical", len(got), len(data))
	}
}

func TestTCPDelay(t *testing.T) {
	t.Parallel()
	const delay = 100 * time.Millisecond
	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		p := mustStart(t, mustListen(t, echo), delay, false)
		c := dial(t, p)
		b := make([]byte, 1)
		for i := range 3 {
			start := time.Now()
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(c, b); err != nil {
				t.Fatal(err)
			}
			if rtt := time.Since(start); rtt < 2*delay || b[0] != byte(i) {
				t.Fatalf("round trip %d: %s, byte %d; want at least %s, byte %d", i, rtt, b[0], 2*delay, i)
			}
		}
	})
	t.Run("Pipelined", func(t *testing.T) {
		t.Parallel()
		// Bytes written while earlier ones wait are not queued behind
		// their delays: the last of ten arrives about one delay after it
		// was written, not ten.
		arrived := make(chan time.Time, 10)
		p := mustStart(t, mustListen(t, func(c net.Conn) {
			b := make([]byte, 10)
			for {
				n, err := c.Read(b)
				for range n {
					arrived <- time.Now()
				}
				if err != nil {
					return
				}
			}
		}), delay, false)
		c := dial(t, p)
		var sent []time.Time
		for i := range 10 {
			sent = append(sent, time.Now())
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		for i := range 10 {
			select {
			case at := <-arrived:
				d := at.Sub(sent[i])
				if d < delay {
					t.Fatalf("byte %d arrived after %s, want at least %s", i, d, delay)
				}
				if i == 9 && d > 4*delay {
					t.Fatalf("last byte arrived after %s: bytes wait behind each other's delays", d)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("byte %d never arrived", i)
			}
		}
	})
	t.Run("Handshake", func(t *testing.T) {
		t.Parallel()
		// The first bytes of a connection arrive as over a real link:
		// SYN, SYN-ACK, then the data, three one-way delays.
		arrived := make(chan time.Time, 1)
		p := mustStart(t, mustListen(t, func(c net.Conn) {
			b := make([]byte, 1)
			if _, err := c.Read(b); err == nil {
				arrived <- time.Now()
			}
			echo(c)
		}), delay/2, true)
		start := time.Now()
		c := dial(t, p)
		if _, err := c.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-arrived:
			if d := at.Sub(start); d < 3*delay/2 {
				t.Fatalf("first byte arrived %s after dialling, want at least %s", d, 3*delay/2)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("first byte never arrived")
		}
		// Later round trips are two delays.
		start = time.Now()
		b := make([]byte, 1)
		c.Write([]byte("y"))
		if _, err := io.ReadFull(c, b); err != nil || b[0] != 'y' {
			t.Fatalf("echo: %q, %v", b, err)
		}
		if rtt := time.Since(start); rtt < delay || rtt > 3*delay {
			t.Fatalf("round trip after the handshake %s, want about %s", rtt, delay)
		}
	})
}

func TestTCPClose(t *testing.T) {
	t.Parallel()
	const delay = 20 * time.Millisecond
	t.Run("ClientCloses", func(t *testing.T) {
		t.Parallel()
		got := make(chan string, 1)
		p := mustStart(t, mustListen(t, func(c net.Conn) {
			b, err := io.ReadAll(c)
			if err != nil {
				b = append(b, "|"+err.Error()...)
			}
			got <- string(b)
		}), delay, false)
		c := dial(t, p)
		c.Write([]byte("bye"))
		c.Close()
		select {
		case s := <-got:
			if s != "bye" {
				t.Fatalf("target read %q, want bye then the end", s)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the target never saw the client close")
		}
	})
	t.Run("TargetCloses", func(t *testing.T) {
		t.Parallel()
		p := mustStart(t, mustListen(t, func(c net.Conn) { c.Write([]byte("bye")) }), delay, false)
		b, err := io.ReadAll(dial(t, p))
		if err != nil || string(b) != "bye" {
			t.Fatalf("client read %q, %v; want bye then the end", b, err)
		}
	})
	t.Run("TargetResets", func(t *testing.T) {
		t.Parallel()
		p := mustStart(t, mustListen(t, func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0) // close sends a reset
		}), delay, false)
		b, err := io.ReadAll(dial(t, p))
		if len(b) != 0 || isTimeout(err) {
			t.Fatalf("client read %q, %v; want its connection closed", b, err)
		}
	})
	t.Run("HalfClose", func(t *testing.T) {
		t.Parallel()
		// A request ended by a half-close still gets its answer.
		p := mustStart(t, mustListen(t, func(c net.Conn) {
			b, _ := io.ReadAll(c)
			c.Write(append([]byte("re: "), b...))
		}), delay, false)
		c := dial(t, p)
		c.Write([]byte("ping"))
		c.CloseWrite()
		b, err := io.ReadAll(c)
		if err != nil || string(b) != "re: ping" {
			t.Fatalf("client read %q, %v; want %q", b, err, "re: ping")
		}
	})
	t.Run("TargetDown", func(t *testing.T) {
		t.Parallel()
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		p := mustStart(t, addr, delay, false)
		b, err := io.ReadAll(dial(t, p))
		if len(b) != 0 || isTimeout(err) {
			t.Fatalf("client read %q, %v; want its connection closed", b, err)
		}
	})
	t.Run("ProxyCloses", func(t *testing.T) {
		t.Parallel()
		p := mustStart(t, mustListen(t, echo), delay, false)
		c := dial(t, p)
		c.Write([]byte("x"))
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(b); err == nil || isTimeout(err) {
			t.Fatalf("read after the proxy closed: %v, want the connection closed", err)
		}
		if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
			t.Fatal("the closed proxy still accepts connections")
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestUDP(t *testing.T) {
	t.Parallel()
	const delay = 50 * time.Millisecond
	target, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	p := mustStart(t, target.LocalAddr().String(), delay, true)
	// The proxy takes UDP at the same address as TCP.
	c, err := net.Dial("udp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	const n = 50
	var mu sync.Mutex
	sent := make([]time.Time, n)
	want := make([][]byte, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range n {
		b := make([]byte, 8+r.IntN(1400))
		binary.BigEndian.PutUint64(b, uint64(i))
		for j := 8; j < len(b); j++ {
			b[j] = byte(r.IntN(256))
		}
		want[i] = b
	}
	go func() {
		for i := range n {
			mu.Lock()
			sent[i] = time.Now()
			mu.Unlock()
			c.Write(want[i])
			time.Sleep(2 * time.Millisecond)
		}
	}()
	buf := make([]byte, 2000)
	target.SetReadDeadline(time.Now().Add(3 * time.Second))
	for i := range n {
		m, _, err := target.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		at := time.Now()
		if !bytes.Equal(buf[:m], want[i]) {
			t.Fatalf("datagram %d: got %d bytes (number %d), want %d bytes, identical, in order",
				i, m, binary.BigEndian.Uint64(buf), len(want[i]))
		}
		mu.Lock()
		d := at.Sub(sent[i])
		mu.Unlock()
		if d < delay {
			t.Fatalf("datagram %d arrived after %s, want at least %s", i, d, delay)
		}
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(b)
	}), nil))
	target := mustListen(t, func(c net.Conn) { io.ReadAll(c); c.Write([]byte("hello")) })
	p, err := delayproxy.Start(delayproxy.Config{Listen: "127.0.0.1:0", Target: target, Delay: 10 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := dial(t, p)
	c.Write([]byte("hi"))
	c.CloseWrite()
	if b, err := io.ReadAll(c); err != nil || string(b) != "hello" {
		t.Fatalf("read %q, %v", b, err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		s := buf.String()
		mu.Unlock()
		if strings.Contains(s, "fwd_bytes=2 ") && strings.Contains(s, "back_bytes=5 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want one connection with 2 bytes forward and 5 back", s)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
