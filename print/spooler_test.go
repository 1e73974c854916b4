package print_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gridbox/print"
)

// testQueue is this test process's own cups-pdf queue: another branch's
// tests may run on the same scheduler and stop or remove theirs.
var testQueue = "gridbox_test_" + strconv.Itoa(os.Getpid())

// cupsPDFOut is where cups-pdf writes, set in /etc/cups/cups-pdf.conf
// (FINDINGS: the default, $HOME/PDF, depends on the user cups-pdf runs as).
const cupsPDFOut = "/var/spool/cups-pdf/${USER}"

// cupsd is a scheduler this test started; nil when one was running.
type cupsd struct{ cmd *exec.Cmd }

func startCupsd(t *testing.T) *cupsd {
	t.Helper()
	path, _ := exec.LookPath("cupsd")
	c := &cupsd{cmd: exec.Command(path, "-f")}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start cupsd: %v", err)
	}
	waitFor(t, 10*time.Second, "cupsd to start", cupsRunning)
	return c
}

// stop ends cupsd with SIGTERM, so it saves its queues (a killed cupsd
// forgets queues it had not yet written to printers.conf).
func (c *cupsd) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// mustCUPS makes sure a scheduler runs, starting /usr/sbin/cupsd if none
// does, and creates a cups-pdf queue for the test.
func mustCUPS(t *testing.T) (own *cupsd) {
	t.Helper()
	for _, tool := range []string{"cupsd", "lp", "lpstat", "lpadmin", "cupsenable", "cupsdisable", "cupsaccept", "cupsreject"} {
		requireTool(t, tool)
	}
	if _, err := os.Stat("/usr/lib/cups/backend/cups-pdf"); err != nil {
		skipOrFail(t, "cups-pdf backend not installed (printer-driver-cups-pdf)")
	}
	if os.Geteuid() != 0 {
		skipOrFail(t, "the CUPS test configures cups-pdf and queues: it needs root")
	}
	if err := setCupsPDFOut(); err != nil {
		t.Fatal(err)
	}
	if !cupsRunning() {
		own = startCupsd(t)
		t.Cleanup(func() { own.stop() })
	}
	sh(t, "lpadmin", "-p", testQueue, "-v", "cups-pdf:/", "-E", "-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd")
	t.Cleanup(func() { exec.Command("lpadmin", "-x", testQueue).Run() })
	return own
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true)")
	}
	t.Skip(msg + " (with CI=true this fails)")
}

func setCupsPDFOut() error {
	const conf = "/etc/cups/cups-pdf.conf"
	b, err := os.ReadFile(conf)
	if err != nil {
		return err
	}
	re := regexp.MustCompile(`(?m)^#?Out .*$`)
	want := "Out " + cupsPDFOut
	if strings.Contains(string(b), "\n"+want+"\n") {
		return nil
	}
	if !re.Match(b) {
		b = append(b, []byte("\n"+want+"\n")...)
	} else {
		b = re.ReplaceAll(b, []byte(want))
	}
	return os.WriteFile(conf, b, 0o644)
}

func cupsRunning() bool {
	cmd := exec.Command("lpstat", "-r")
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, _ := cmd.Output() // exits 0 even when down: read the text
	return strings.Contains(string(out), "scheduler is running")
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitState(t *testing.T, s *print.Spooler, id string, want print.JobState) print.Job {
	t.Helper()
	var j print.Job
	waitFor(t, 20*time.Second, "job "+id+" to be "+string(want), func() bool {
		var err error
		j, err = s.Job(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return j.State == want
	})
	return j
}

// printedFile finds cups-pdf's output of a job: only the -job_<n>.pdf
// suffix of its name is reliable.
func printedFile(t *testing.T, cupsID string) string {
	t.Helper()
	n := cupsID[strings.LastIndex(cupsID, "-")+1:]
	var found string
	waitFor(t, 10*time.Second, "cups-pdf output of "+cupsID, func() bool {
		m, _ := filepath.Glob("/var/spool/cups-pdf/*/*-job_" + n + ".pdf")
		for _, p := range m {
			// Not a stale file of an earlier run with the same job number.
			if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) < time.Minute {
				found = p
				return true
			}
		}
		return false
	})
	t.Cleanup(func() { os.Remove(found) })
	return found
}

func TestSpoolerCUPS(t *testing.T) {
	own := mustCUPS(t)
	ctx := context.Background()
	dir := t.TempDir()
	s, err := print.NewSpooler(testQueue, dir)
	if err != nil {
		t.Fatal(err)
	}
	receipt := func(token string) []byte {
		return mustRender(t, &print.Receipt{Village: "刘沟村", Code: "LG-20261128-0042", Token: token, Category: "公共事务", DutyPhone: "0371-64551234"})
	}

	t.Run("OK", func(t *testing.T) {
		j, err := s.Submit(ctx, "问题受理回执", receipt("rc-print-ok"))
		if err != nil {
			t.Fatal(err)
		}
		if j.CUPSID == "" || j.State == print.JobFailed {
			t.Fatalf("submitted job = %+v", j)
		}
		j = waitState(t, s, j.ID, print.JobDone)
		// cups-pdf turns fonts into Type 3, so check the printed page by
		// decoding its QR code rather than with pdftotext.
		if got := qrCodes(t, printedFile(t, j.CUPSID), 1); len(got) != 1 || got[0] != "rc-print-ok" {
			t.Fatalf("printed QR codes = %q", got)
		}
	})

	t.Run("Offline", func(t *testing.T) {
		sh(t, "cupsdisable", "-r", "缺纸", testQueue)
		t.Cleanup(func() { exec.Command("cupsenable", testQueue).Run() })
		j, err := s.Submit(ctx, "问题受理回执", receipt("rc-print-offline"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond) // it must stay queued
		j, err = s.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != print.JobQueued || j.Reason != "打印机已停用/离线：缺纸" {
			t.Fatalf("job on a disabled queue = %s %q", j.State, j.Reason)
		}
		if st := s.Printer(ctx); st.Ready || !strings.Contains(st.Reason, "打印机已停用/离线") {
			t.Fatalf("Printer() = %+v", st)
		}
		sh(t, "cupsenable", testQueue)
		j = waitState(t, s, j.ID, print.JobDone)
		if j.Reason != "" {
			t.Fatalf("done job reason = %q", j.Reason)
		}
		if got := qrCodes(t, printedFile(t, j.CUPSID), 1); len(got) != 1 || got[0] != "rc-print-offline" {
			t.Fatalf("printed QR codes = %q", got)
		}
		if st := s.Printer(ctx); !st.Ready {
			t.Fatalf("Printer() after enable = %+v", st)
		}
	})

	t.Run("RejectedThenRetry", func(t *testing.T) {
		sh(t, "cupsreject", "-r", "维护中", testQueue)
		t.Cleanup(func() { exec.Command("cupsaccept", testQueue).Run() })
		j, err := s.Submit(ctx, "问题受理回执", receipt("rc-print-retry"))
		if err != nil {
			t.Fatal(err)
		}
		if j.State != print.JobFailed || j.Reason != "打印机拒绝接收任务：维护中" {
			t.Fatalf("job on a rejecting queue = %s %q", j.State, j.Reason)
		}
		sh(t, "cupsaccept", testQueue)
		j, err = s.Retry(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.Attempts != 2 {
			t.Fatalf("attempts = %d, want 2", j.Attempts)
		}
		j = waitState(t, s, j.ID, print.JobDone)
		if got := qrCodes(t, printedFile(t, j.CUPSID), 1); len(got) != 1 || got[0] != "rc-print-retry" {
			t.Fatalf("printed QR codes = %q", got)
		}
		if _, err := s.Retry(ctx, j.ID); err == nil {
			t.Fatal("Retry of a done job: want error")
		}
	})

	t.Run("SchedulerDownThenRetry", func(t *testing.T) {
		if own == nil {
			t.Skip("cupsd was running before the test (as under CI, which starts it); not stopping it")
		}
		own.stop()
		j, err := s.Submit(ctx, "问题受理回执", receipt("rc-print-down"))
		if err != nil {
			t.Fatal(err)
		}
		if j.State != print.JobFailed || !strings.Contains(j.Reason, "未运行") {
			t.Fatalf("job with cupsd down = %s %q", j.State, j.Reason)
		}
		*own = *startCupsd(t)
		j, err = s.Retry(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		j = waitState(t, s, j.ID, print.JobDone)
		if got := qrCodes(t, printedFile(t, j.CUPSID), 1); len(got) != 1 || got[0] != "rc-print-down" {
			t.Fatalf("printed QR codes = %q", got)
		}
	})

	t.Run("ListAfterRestart", func(t *testing.T) {
		s2, err := print.NewSpooler(testQueue, dir)
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := s2.Jobs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := 4
		if own == nil {
			want = 3
		}
		if len(jobs) != want {
			t.Fatalf("jobs = %d, want %d", len(jobs), want)
		}
		for _, j := range jobs {
			if j.State != print.JobDone {
				t.Errorf("job %s = %s %q", j.ID, j.State, j.Reason)
			}
			if b, err := s2.PDF(j.ID); err != nil || len(b) == 0 {
				t.Errorf("PDF(%s): %v", j.ID, err)
			}
		}
		if err := s2.Remove(ctx, jobs[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.PDF(jobs[0].ID); !errors.Is(err, print.ErrNoJob) {
			t.Fatalf("PDF after Remove: %v", err)
		}
	})

	t.Run("Prune", func(t *testing.T) {
		sh(t, "cupsreject", testQueue)
		kept, err := s.Submit(ctx, "问题受理回执", receipt("rc-kept"))
		sh(t, "cupsaccept", testQueue)
		if err != nil || kept.State != print.JobFailed {
			t.Fatalf("submit to a rejecting queue: %v %+v", err, kept)
		}
		before, _ := s.Jobs(ctx)
		n, err := s.Prune(ctx, time.Now().Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		after, _ := s.Jobs(ctx)
		if n == 0 || len(after) != len(before)-n {
			t.Fatalf("pruned %d of %d, %d left", n, len(before), len(after))
		}
		for _, j := range after {
			if j.State == print.JobDone {
				t.Errorf("done job %s left after Prune", j.ID)
			}
		}
		if _, err := s.PDF(kept.ID); err != nil {
			t.Fatalf("failed job's PDF pruned: %v", err)
		}
	})

	t.Run("UnknownQueue", func(t *testing.T) {
		s, err := print.NewSpooler("gridbox_no_such_queue", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		j, err := s.Submit(ctx, "问题受理回执", receipt("x"))
		if err != nil {
			t.Fatal(err)
		}
		if j.State != print.JobFailed || j.Reason != "打印机不存在：gridbox_no_such_queue" {
			t.Fatalf("job = %s %q", j.State, j.Reason)
		}
	})
}

func TestSpoolerNoPrinter(t *testing.T) {
	s, err := print.NewSpooler("", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), "回执", []byte("%PDF-1.3")); !errors.Is(err, print.ErrNoPrinter) {
		t.Fatalf("Submit without a queue: %v, want ErrNoPrinter", err)
	}
	if st := s.Printer(context.Background()); st.Ready || st.Reason == "" {
		t.Fatalf("Printer() = %+v", st)
	}
	if _, err := s.Job(context.Background(), "../../etc/passwd"); !errors.Is(err, print.ErrNoJob) {
		t.Fatalf("Job(bad id): %v", err)
	}
}

// mustQueue makes another cups-pdf queue for the test (CUPS must run:
// mustCUPS) and removes it at the end.
func mustQueue(t *testing.T, name string) {
	t.Helper()
	sh(t, "lpadmin", "-p", name, "-v", "cups-pdf:/", "-E", "-m", "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd")
	t.Cleanup(func() { exec.Command("lpadmin", "-x", name).Run() })
}

// jobAttrs asks the scheduler for a job's attributes over IPP
// (Get-Job-Attributes on localhost:631): what lp really asked for. Values
// are strings; integers, enums and booleans in decimal.
func jobAttrs(t *testing.T, cupsID string) map[string]string {
	t.Helper()
	n := cupsID[strings.LastIndex(cupsID, "-")+1:]
	var req bytes.Buffer
	req.Write([]byte{2, 0, 0, 0x09, 0, 0, 0, 1, 0x01}) // IPP 2.0, Get-Job-Attributes, request 1, operation attributes
	attr := func(tag byte, name, value string) {
		req.WriteByte(tag)
		req.Write([]byte{byte(len(name) >> 8), byte(len(name))})
		req.WriteString(name)
		req.Write([]byte{byte(len(value) >> 8), byte(len(value))})
		req.WriteString(value)
	}
	attr(0x47, "attributes-charset", "utf-8")
	attr(0x48, "attributes-natural-language", "en")
	attr(0x45, "job-uri", "ipp://localhost/jobs/"+n)
	attr(0x42, "requesting-user-name", "root")
	attr(0x44, "requested-attributes", "all")
	req.WriteByte(0x03)
	resp, err := http.Post("http://localhost:631/jobs/"+n, "application/ipp", &req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) < 8 || b[2] != 0 || b[3] > 1 {
		t.Fatalf("Get-Job-Attributes %s: %v, %d bytes, status % x", cupsID, err, len(b), b[:min(4, len(b))])
	}
	out := map[string]string{}
	name := ""
	for p := 8; p < len(b); {
		tag := b[p]
		p++
		if tag < 0x10 { // a group delimiter
			if tag == 0x03 {
				break
			}
			continue
		}
		if p+2 > len(b) {
			break
		}
		nl := int(b[p])<<8 | int(b[p+1])
		p += 2
		if nl > 0 {
			name = string(b[p : p+nl])
		}
		p += nl
		vl := int(b[p])<<8 | int(b[p+1])
		p += 2
		v := b[p : p+vl]
		p += vl
		if _, seen := out[name]; seen {
			continue // only the first of several values
		}
		switch tag {
		case 0x21, 0x23: // integer, enum
			out[name] = strconv.Itoa(int(int32(uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3]))))
		case 0x22: // boolean
			out[name] = strconv.FormatBool(v[0] != 0)
		default:
			out[name] = string(v)
		}
	}
	return out
}

// pageSizePt is pdfinfo's size of page 1 in points.
func pageSizePt(t *testing.T, file string) (w, h float64) {
	t.Helper()
	out, err := exec.Command("pdfinfo", file).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v: %s", err, out)
	}
	m := regexp.MustCompile(`Page size:\s+([\d.]+) x ([\d.]+) pts`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo: no page size: %s", out)
	}
	w, _ = strconv.ParseFloat(string(m[1]), 64)
	h, _ = strconv.ParseFloat(string(m[2]), 64)
	return w, h
}

// Each job is sent with the paper its document was made for, so it comes
// out at 100 % on that paper: lp's media, orientation and no scaling, as
// CUPS recorded them, and the page size cups-pdf printed.
func TestSpoolerMedia(t *testing.T) {
	mustCUPS(t)
	ctx := context.Background()
	s, err := print.NewSpooler(testQueue, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	notice := noticeOf(9, 5, 7, true, true)
	reg := &print.Register{Village: "刘沟村", From: day(2026, 11, 24)}
	for _, tt := range []struct {
		name             string
		doc              print.Document
		media, landscape string
	}{
		{"NoticeA3", notice, "A3", ""},
		{"RegisterA4Landscape", reg, "A4", "4"},
		{"CardSingle", &print.CardSheet{Cards: []print.Card{sampleCard(0)}, Layout: print.CardSingle}, "Custom.86x54mm", ""},
		{"ReceiptRoll", &print.Receipt{Village: "刘沟村", Code: "K7M2-Q9XD", PIN: "0736", Token: "rc-media"}, "Custom.80x", ""},
		{"ReceiptA5", &print.Receipt{Village: "刘沟村", Code: "K7M2-Q9XD", PIN: "0736", Token: "rc-media", Paper: print.ReceiptA5}, "A5", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf, media, err := print.RenderForPrinter(tt.doc, nil)
			if err != nil {
				t.Fatal(err)
			}
			j, err := s.SubmitTo(ctx, "", "测试", pdf, media.Options())
			if err != nil || j.CUPSID == "" {
				t.Fatalf("submit: %v %+v", err, j)
			}
			a := jobAttrs(t, j.CUPSID)
			if got := a["media"]; !strings.HasPrefix(got, tt.media) {
				t.Errorf("CUPS job media = %q, want %s…", got, tt.media)
			}
			if got := a["print-scaling"]; got != "none" {
				t.Errorf("CUPS job print-scaling = %q, want none", got)
			}
			if got := a["fit-to-page"]; got != "false" {
				t.Errorf("CUPS job fit-to-page = %q, want false", got)
			}
			if got := a["orientation-requested"]; got != tt.landscape {
				t.Errorf("CUPS job orientation-requested = %q, want %q", got, tt.landscape)
			}
			j = waitState(t, s, j.ID, print.JobDone)
			// The page printed is the document's own (a landscape A4 turned
			// onto the sheet): nothing shrunk or grown.
			w, h := pageSizePt(t, printedFile(t, j.CUPSID))
			dw, dh := pageSizePt(t, writeTemp(t, pdf))
			if tt.landscape != "" {
				dw, dh = dh, dw
			}
			if math.Abs(w-dw) > 1.5 || math.Abs(h-dh) > 1.5 {
				t.Errorf("cups-pdf printed a %.0f × %.0f pt page, want the document's %.0f × %.0f", w, h, dw, dh)
			}
		})
	}
}
