package main_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartToServing measures the time from starting `gridbox serve` on
// the demo village to its first answer on /healthz, and reports the resident
// memory of the idle box a second later (target: < 1 s, < 64 MiB).
func BenchmarkStartToServing(b *testing.B) {
	data := filepath.Join(b.TempDir(), "demo")
	if out, err := exec.Command(binPath, "demo", "--data", data).CombinedOutput(); err != nil {
		b.Fatalf("demo: %v %s", err, out)
	}
	var rssKiB float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		addr := freePortB(b)
		cmd := exec.Command(binPath, "serve", "--data", data, "--listen", addr, "--tls-listen", "127.0.0.1:0")
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Since(start) > 10*time.Second {
				b.Fatal("did not start")
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.StopTimer()
		// Load the kiosk home and the dashboard data once, then idle.
		if resp, err := http.Get("http://" + addr + "/"); err == nil {
			resp.Body.Close()
		}
		time.Sleep(time.Second)
		rssKiB = vmRSS(b, cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(rssKiB/1024, "idle-RSS-MiB")
}

func vmRSS(b *testing.B, pid int) float64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseFloat(f[1], 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

func freePortB(b *testing.B) string {
	ln, err := netListen()
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
