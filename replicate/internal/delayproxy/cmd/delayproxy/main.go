// Command delayproxy runs a delaying proxy (package delayproxy) until it
// is interrupted, e.g. inside a network namespace for the slow-link
// benchmark:
//
//	delayproxy -listen 10.77.0.2:7947 -to 10.77.0.2:7946 -delay 150ms
//	delayproxy -echo 10.77.0.2:7946   # a TCP echo, to time a round trip
//
// It prints one line once it listens.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
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
	echo := flag.String("echo", "", "serve a TCP echo at host:port instead of a proxy")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	p, err := delayproxy.Start(delayproxy.Config{Listen: *listen, Target: *to, Delay: *delay, Handshake: *handshake})
	if err != nil {
		fail(err)
	}
	fmt.Printf("delayproxy: %s → %s, %s each way\n", p.Addr(), *to, *delay)
	<-ctx.Done()
	p.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "delayproxy:", err)
	os.Exit(1)
}
