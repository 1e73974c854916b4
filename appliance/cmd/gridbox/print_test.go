package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (CI=true)", name)
		}
		t.Skipf("%s is not installed (with CI=true this fails)", name)
	}
}

// session is a logged-in browser-like client of a running node.
type session struct {
	t    *testing.T
	base string
	c    *http.Client
}

func login(t *testing.T, base, user, password string) *session {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &session{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	s.get("/login")
	resp := s.post("/login", url.Values{"username": {user}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %d", user, resp.StatusCode)
	}
	return s
}

func (s *session) csrf() string {
	u, _ := url.Parse(s.base)
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "gb_csrf" {
			return c.Value
		}
	}
	return ""
}

func (s *session) get(path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (s *session) post(path string, form url.Values) *http.Response {
	s.t.Helper()
	form.Set("_csrf", s.csrf())
	resp, err := s.c.PostForm(s.base+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// demoWithPrinter makes the demo village with a cups-pdf queue of its own
// as its printer (other tests may stop theirs meanwhile) and returns the
// data folder and the queue. A missing CUPS fails under CI=true and skips
// otherwise.
func demoWithPrinter(t *testing.T) (data, queue string) {
	t.Helper()
	requireTool(t, "lp")
	requireTool(t, "lpstat")
	requireTool(t, "lpadmin")
	if out, _ := exec.Command("lpstat", "-r").Output(); !strings.Contains(string(out), "scheduler is running") {
		if os.Getenv("CI") == "true" {
			t.Fatal("cupsd is not running (CI=true: .ci/install-deps starts it)")
		}
		t.Skip("cupsd is not running (with CI=true this fails)")
	}
	queue = fmt.Sprintf("gridbox_e2e_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	if out, err := exec.Command("lpadmin", "-p", queue, "-v", "cups-pdf:/", "-E", "-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd").CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot make a cups-pdf queue (CI=true): %v %s", err, out)
		}
		t.Skipf("cannot make a cups-pdf queue (with CI=true this fails): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("lpadmin", "-x", queue).Run() })
	data = filepath.Join(t.TempDir(), "demo")
	if out, code := gridbox(t, "demo", "--data", data); code != 0 {
		t.Fatal(out)
	}
	editConfig(t, data, "[print]\n  printer = \"\"", "[print]\n  printer = \""+queue+"\"")
	return data, queue
}

// TestPrintNoticeBoard makes the notice board of the demo village as a PDF
// (read back with pdftotext) and prints it on a real cups-pdf queue; with the
// queue disabled the print page says the printer is offline and the job waits.
func TestPrintNoticeBoard(t *testing.T) {
	requireTool(t, "pdftotext")
	requireTool(t, "cupsenable")
	data, queue := demoWithPrinter(t)
	n := startNode(t, data, freePort(t))
	s := login(t, n.url, "lead", "demo1234")

	resp, page := s.get("/staff/print")
	if resp.StatusCode != 200 || !strings.Contains(page, "便民服务公开栏") || !regexp.MustCompile(`(?s)<td>`+queue+`</td>.*已就绪`).MatchString(page) {
		t.Fatalf("print page: %d %s", resp.StatusCode, page)
	}
	resp, pdf := s.get("/staff/print/pdf?kind=notice&span=week&paper=a4")
	if resp.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("notice pdf: %d", resp.StatusCode)
	}
	f := filepath.Join(t.TempDir(), "notice.pdf")
	os.WriteFile(f, []byte(pdf), 0o600)
	text, err := exec.Command("pdftotext", "-layout", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"杏花村便民服务公开栏", "值班表", "第一村民组", "低保申请"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("notice board lacks %q", want)
		}
	}
	// Bad input names the field.
	if resp, body := s.get("/staff/print/pdf?kind=notice&from=2026-13-40"); resp.StatusCode != 400 || !strings.Contains(body, "日期格式") {
		t.Fatalf("bad date: %d", resp.StatusCode)
	}

	// Offline printer: the job waits and the page says so.
	if out, err := exec.Command("cupsdisable", "-r", "缺纸", queue).CombinedOutput(); err != nil {
		t.Fatalf("cupsdisable: %v %s", err, out)
	}
	defer exec.Command("cupsenable", queue).Run()
	if resp := s.post("/staff/print", url.Values{"kind": {"notice"}, "span": {"week"}, "paper": {"a4"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("print: %d", resp.StatusCode)
	}
	_, page = s.get("/staff/print")
	if !strings.Contains(page, "不能打印：打印机已停用/离线") || !strings.Contains(page, "排队中") {
		t.Fatalf("offline printer not shown: %s", page)
	}
	exec.Command("cupsenable", queue).Run()
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, page = s.get("/staff/print")
		if strings.Contains(page, "已打印") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not printed after enabling the queue: %s", page)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
