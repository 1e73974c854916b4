// Command delayproxy runs a delaying proxy (package delayproxy) until it
// is interrupted, e.g. inside a network namespace for the slow-link
// benchmark:
//
//	delayproxy -listen 10.77.0.2:7947 -to 10.77.0.2:7946 -delay 150ms
//	delayproxy -echo 10.77.0.2:7946          # a TCP echo at a node's address
//	delayproxy -rtt 10.77.0.2:7947           # time round trips through the proxy to it
//
// It prints one line once it listens.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"gridbox/replicate/internal/delayproxy"
)

func main() {
	listen := flag.String("listen", "", "host:port to listen at (TCP and UDP)")
	to := flag.String("to", "", "host:port to relay to")
	delay := flag.Duration("delay", 150*time.Millisecond, "one-way delay")
	handshake := flag.Bool("handshake", true, "hold a new connection's first bytes one more round trip, as TCP's handshake would")
	logConns := flag.Bool("log", false, "log each connection on stderr when it ends")
	echo := flag.String("echo", "", "serve a TCP echo at host:port instead of a proxy")
	rtt := flag.String("rtt", "", "time round trips of one byte to an echo at host:port, print them and exit")
	count := flag.Int("count", 6, "round trips for -rtt")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *rtt != "" {
		if err := roundTrips(*rtt, *count); err != nil {
			fail(err)
		}
		return
	}
	if *echo != "" {
		ln, err := net.Listen("tcp", *echo)
		if err != nil {
			fail(err)
		}
		fmt.Printf("delayproxy: echo at %s\n", ln.Addr())
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(c, c); c.Close() }()
			}
		}()
		<-ctx.Done()
		ln.Close()
		return
	}
	if *listen == "" || *to == "" {
		flag.Usage()
		os.Exit(2)
	}
	cfg := delayproxy.Config{Listen: *listen, Target: *to, Delay: *delay, Handshake: *handshake}
	if *logConns {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, nil)).With("proxy", *listen)
	}
	p, err := delayproxy.Start(cfg)
	if err != nil {
		fail(err)
	}
	fmt.Printf("delayproxy: %s → %s, %s each way\n", p.Addr(), *to, *delay)
	<-ctx.Done()
	p.Close()
}

// roundTrips prints one line per round trip: the first from dialling (it
// includes the connection's handshake), the others one byte there and back.
func roundTrips(addr string, count int) error {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	b := []byte{0}
	for i := range count {
		if i > 0 {
			start = time.Now()
		}
		b[0] = byte(i)
		if _, err := c.Write(b); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, b); err != nil {
			return err
		}
		if b[0] != byte(i) {
			return fmt.Errorf("round trip %d: echo sent %d back", i, b[0])
		}
		fmt.Println(time.Since(start))
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "delayproxy:", err)
	os.Exit(1)
}
