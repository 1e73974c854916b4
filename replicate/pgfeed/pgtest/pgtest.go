// Package pgtest starts a throwaway PostgreSQL server for tests: initdb
// and pg_ctl from the Debian packages (.ci/install-deps installs them) in
// a temporary folder, listening on a free port of 127.0.0.1 only. As root
// (initdb refuses root) the server runs as the postgres user, or nobody.
package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is one PostgreSQL cluster.
type Server struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	cred *syscall.Credential // nil: as the current user
}

// bindir finds the newest installed server's programs.
func bindir() string {
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(ms, func(i, j int) bool { return version(ms[i]) < version(ms[j]) })
	if len(ms) > 0 {
		return filepath.Dir(ms[len(ms)-1])
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func version(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// Start starts a new cluster; it is stopped and removed when the test
// ends. Without PostgreSQL the test is skipped, or fails when CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := bindir()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("PostgreSQL server programs (initdb, pg_ctl) not found: run .ci/install-deps")
		}
		tb.Skip("PostgreSQL server not installed (apt-get install postgresql)")
	}
	dir, err := os.MkdirTemp("", "gridbox-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{tb: tb, bin: bin, dir: dir, port: freePort(tb)}
	tb.Cleanup(func() {
		s.run("pg_ctl", "-D", s.data(), "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		s.cred = unprivileged(tb)
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			tb.Fatal(err)
		}
	}
	if out, err := s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "--no-locale", "-E", "UTF8", "--no-sync"); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nmax_connections = 50\n", s.port)
	f, err := os.OpenFile(filepath.Join(s.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	s.Start()
	return s
}

// unprivileged is the user the server runs as when the tests run as root.
func unprivileged(tb testing.TB) *syscall.Credential {
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	tb.Fatal("running as root and neither a postgres nor a nobody user exists to run PostgreSQL as")
	return nil
}

func freePort(tb testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, prog), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(cmd.Env, "HOME="+s.dir)
	}
	return cmd.CombinedOutput()
}

// URL is the connection URL of the cluster's postgres database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Start starts the (stopped) server and waits until it accepts connections.
func (s *Server) Start() {
	s.tb.Helper()
	if out, err := s.run("pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		s.tb.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server: mode "immediate" is a crash (no checkpoint, the
// WAL is replayed at the next start), "fast" a clean shutdown. It may be
// called from any goroutine.
func (s *Server) Stop(mode string) error {
	if out, err := s.run("pg_ctl", "-D", s.data(), "-m", mode, "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	return nil
}

// Log is the server's log, for a failing test's message.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "log"))
	return strings.TrimSpace(string(b))
}

// CPU is the CPU time (user and system) the server's processes have used:
// the postmaster's, and those of its children still running and already
// reaped (the children's cumulative times). A figure that other work on a
// shared machine changes less than the wall clock.
func (s *Server) CPU() time.Duration {
	b, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	if err != nil {
		return -1
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	total := procCPU(pid, true)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil || child == pid {
			continue
		}
		if f := procStat(child); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += procCPU(child, false)
		}
	}
	return total
}

// procStat is /proc/PID/stat after the command's ")": state, ppid, ….
func procStat(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
}

func procCPU(pid int, children bool) time.Duration {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	var ticks int64
	fields := []int{11, 12} // utime, stime
	if children {
		fields = append(fields, 13, 14) // cutime, cstime
	}
	for _, i := range fields {
		n, _ := strconv.ParseInt(f[i], 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
