package print

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"gridbox/appliance"
)

// JobState is where a print job stands.
type JobState string

const (
	JobQueued   JobState = "queued"   // waiting in CUPS (maybe for a stopped printer)
	JobPrinting JobState = "printing" // being sent to the printer
	JobDone     JobState = "done"     // CUPS finished it
	JobFailed   JobState = "failed"   // CUPS did not take it; Retry sends it again
)

// Job is one document sent (or to be sent) to the printer. Its PDF is kept
// in the spool directory until Remove, so a failed job can be retried.
type Job struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Queue    string    `json:"queue"`
	CUPSID   string    `json:"cups_id,omitempty"` // e.g. "PDF-12"; empty until CUPS accepts it
	Options  []string  `json:"options,omitempty"` // lp options, e.g. media=A4, kept for a retry
	State    JobState  `json:"state"`
	Reason   string    `json:"reason,omitempty"` // plain Chinese, for people
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// ErrNoPrinter is returned when no queue is configured: the caller offers
// the PDF for download instead.
var ErrNoPrinter = errors.New("print: no printer configured")

// ErrNoJob is returned for an unknown job id.
var ErrNoJob = errors.New("print: no such job")

// Reasons shown to people, in one place.
const (
	msgOffline     = "打印机已停用/离线："
	msgOfflineNone = "打印机已停用/离线，请检查打印机后在打印服务中启用"
	msgRejecting   = "打印机拒绝接收任务："
	msgNoQueue     = "打印机不存在："
	msgNoScheduler = "打印服务（CUPS）未运行，请重启设备或联系管理员"
	msgUnreachable = "无法连接打印机，请检查电源、纸张和连线："
	msgPrinterSays = "打印机提示："
	msgLost        = "打印服务中找不到此任务，可重新打印"
	msgFailed      = "打印失败："
)

// Spooler sends PDFs to CUPS queues with lp and follows them with lpstat.
// It keeps each job's PDF and state in a directory, so jobs survive a
// restart and nothing is lost when printing fails.
type Spooler struct {
	queue string // the default queue
	dir   string
	mu    sync.Mutex
}

// NewSpooler returns a spooler whose default CUPS queue is queue, keeping
// jobs in dir (created if missing). An empty queue means no default
// printer: Submit returns ErrNoPrinter, but jobs already in dir can still
// be listed and read, and SubmitTo prints to a queue named.
func NewSpooler(queue, dir string) (*Spooler, error) {
	if err := ValidQueue(queue); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("print: spool dir: %w", err)
	}
	return &Spooler{queue: queue, dir: dir}, nil
}

// ValidQueue checks a CUPS queue name as lp takes it.
func ValidQueue(queue string) error {
	if !appliance.ValidQueue(queue) {
		return fmt.Errorf("print: invalid queue name %q", queue)
	}
	return nil
}

// Queue is the default CUPS queue name, empty when there is none.
func (s *Spooler) Queue() string { return s.queue }

// Submit keeps the PDF and sends it to the default printer; see SubmitTo.
func (s *Spooler) Submit(ctx context.Context, title string, pdf []byte) (Job, error) {
	return s.SubmitTo(ctx, "", title, pdf, nil)
}

// SubmitTo keeps the PDF and sends it to queue (empty: the default) with
// the lp options given (e.g. Media.Options). A job CUPS refuses is
// returned with State JobFailed and a Reason, not as an error; errors are
// for the spool directory. title names the document kind for CUPS's job
// list; keep personal data out of it (CUPS logs it).
func (s *Spooler) SubmitTo(ctx context.Context, queue, title string, pdf []byte, options []string) (Job, error) {
	if queue == "" {
		queue = s.queue
	}
	if queue == "" {
		return Job{}, ErrNoPrinter
	}
	if err := ValidQueue(queue); err != nil {
		return Job{}, err
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return Job{}, errors.New("print: not a PDF")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	j := Job{ID: newJobID(now), Title: Printable(title), Queue: queue, Options: options, State: JobQueued, Created: now, Updated: now}
	if err := writeFileAtomic(s.pdfPath(j.ID), pdf); err != nil {
		return Job{}, fmt.Errorf("print: keep job pdf: %w", err)
	}
	s.send(ctx, &j)
	if err := s.save(&j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Retry sends a failed job's kept PDF again, to its queue with its
// options.
func (s *Spooler) Retry(ctx context.Context, id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.load(id)
	if err != nil {
		return Job{}, err
	}
	if j.State != JobFailed {
		return j, fmt.Errorf("print: job %s is %s, only failed jobs are retried", id, j.State)
	}
	if j.Queue == "" {
		j.Queue = s.queue
	}
	if j.Queue == "" {
		return Job{}, ErrNoPrinter
	}
	s.send(ctx, &j)
	if err := s.save(&j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// send runs lp for the job and records the outcome in j.
func (s *Spooler) send(ctx context.Context, j *Job) {
	j.Attempts++
	j.Updated = time.Now().UTC()
	args := []string{"-d", j.Queue, "-t", j.Title}
	for _, o := range j.Options {
		args = append(args, "-o", o)
	}
	out, errOut, err := run(ctx, "lp", append(args, "--", s.pdfPath(j.ID))...)
	if err != nil {
		j.State, j.CUPSID = JobFailed, ""
		j.Reason = lpFailure(ctx, j.Queue, errOut+out, err)
		return
	}
	// "request id is PDF-12 (1 file(s))"
	f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(out), "request id is "))
	if len(f) == 0 {
		j.State, j.Reason = JobFailed, msgFailed+"lp 未返回任务号"
		return
	}
	j.CUPSID, j.State, j.Reason = f[0], JobQueued, ""
}

func lpFailure(ctx context.Context, queue, msg string, err error) string {
	// With the scheduler down lp says the queue does not exist: ask first.
	if !schedulerRunning(ctx) {
		return msgNoScheduler
	}
	switch {
	case strings.Contains(msg, "not accepting"):
		reason := "请在打印服务中恢复接收"
		if a, _, err := run(ctx, "lpstat", "-a", queue); err == nil {
			if r := indentedLine(a); r != "" {
				reason = r
			}
		}
		return msgRejecting + reason
	case strings.Contains(msg, "does not exist"), strings.Contains(msg, "Unknown destination"),
		strings.Contains(msg, "Invalid destination"):
		return msgNoQueue + queue
	}
	m := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(msg), "lp:"))
	if m == "" {
		m = err.Error()
	}
	return msgFailed + m
}

// Jobs returns all kept jobs, newest first, with the state of unfinished
// ones refreshed from CUPS.
func (s *Spooler) Jobs(ctx context.Context) ([]Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("print: spool dir: %w", err)
	}
	var jobs []Job
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		j, err := s.load(id)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	if err := s.refresh(ctx, jobs); err != nil {
		return nil, err
	}
	sort.Slice(jobs, func(a, b int) bool {
		if !jobs[a].Created.Equal(jobs[b].Created) {
			return jobs[a].Created.After(jobs[b].Created)
		}
		return jobs[a].ID > jobs[b].ID
	})
	return jobs, nil
}

// Job returns one job with its state refreshed from CUPS.
func (s *Spooler) Job(ctx context.Context, id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.load(id)
	if err != nil {
		return Job{}, err
	}
	jobs := []Job{j}
	if err := s.refresh(ctx, jobs); err != nil {
		return Job{}, err
	}
	return jobs[0], nil
}

// PDF returns a job's kept PDF, e.g. to download it instead.
func (s *Spooler) PDF(id string) ([]byte, error) {
	if !validID(id) {
		return nil, ErrNoJob
	}
	b, err := os.ReadFile(s.pdfPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoJob
	}
	return b, err
}

// Remove cancels a job still waiting in CUPS and deletes its files.
func (s *Spooler) Remove(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.load(id)
	if err != nil {
		return err
	}
	if j.CUPSID != "" && (j.State == JobQueued || j.State == JobPrinting) {
		run(ctx, "cancel", j.CUPSID) // best effort: it may have finished meanwhile
	}
	for _, p := range []string{s.jsonPath(id), s.pdfPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("print: remove job: %w", err)
		}
	}
	return nil
}

// Prune removes the files of jobs done before t and reports how many. Jobs
// not done are kept whatever their age: nothing unprinted is lost.
func (s *Spooler) Prune(ctx context.Context, before time.Time) (int, error) {
	jobs, err := s.Jobs(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range jobs {
		if j.State == JobDone && j.Updated.Before(before) {
			if err := s.Remove(ctx, j.ID); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// PrinterStatus is the state of a queue, for a status line in the UI.
type PrinterStatus struct {
	Ready  bool
	Reason string // plain Chinese when not ready
}

// Printer reports whether the default queue is enabled and accepting jobs.
func (s *Spooler) Printer(ctx context.Context) PrinterStatus { return s.PrinterOf(ctx, s.queue) }

// PrinterOf reports whether queue is enabled and accepting jobs.
func (s *Spooler) PrinterOf(ctx context.Context, queue string) PrinterStatus {
	if queue == "" {
		return PrinterStatus{Reason: "未配置打印机，请下载PDF后打印"}
	}
	st := queueStateOf(ctx, queue)
	if st.err != "" {
		return PrinterStatus{Reason: st.err}
	}
	if st.disabled {
		return PrinterStatus{Reason: offline(st.message)}
	}
	if !st.accepting {
		return PrinterStatus{Reason: msgRejecting + or(st.rejectReason, "请在打印服务中恢复接收")}
	}
	return PrinterStatus{Ready: true}
}

type queueState struct {
	err          string // set when the queue cannot be read at all
	disabled     bool
	accepting    bool
	printing     string // CUPS id of the job being printed
	message      string // printer-state-message
	rejectReason string
	pending      map[string]bool
	completed    map[string]bool
}

// queueStateOf reads a queue with lpstat; lpstat -r is needed because
// lpstat exits 0 even when the scheduler is down.
func queueStateOf(ctx context.Context, queue string) queueState {
	if !schedulerRunning(ctx) {
		return queueState{err: msgNoScheduler}
	}
	st := queueState{pending: map[string]bool{}, completed: map[string]bool{}}
	p, errOut, err := run(ctx, "lpstat", "-p", queue)
	if err != nil {
		if strings.Contains(errOut, "Invalid destination") || strings.Contains(errOut, "does not exist") {
			return queueState{err: msgNoQueue + queue}
		}
		return queueState{err: msgFailed + strings.TrimSpace(errOut)}
	}
	// "printer PDF disabled since … -\n\treason" or
	// "printer PDF now printing PDF-12.  enabled since …\n\tmessage"
	first, _, _ := strings.Cut(p, "\n")
	st.disabled = strings.Contains(first, " disabled ")
	if _, after, ok := strings.Cut(first, " now printing "); ok {
		st.printing = strings.TrimSuffix(strings.Fields(after)[0], ".")
	}
	st.message = indentedLine(p)
	if a, _, err := run(ctx, "lpstat", "-a", queue); err == nil {
		st.accepting = !strings.Contains(a, "not accepting")
		if !st.accepting {
			st.rejectReason = indentedLine(a)
		}
	}
	// Pending first, then completed: a job that finishes between the two
	// calls is then seen as completed, not lost.
	for _, q := range []struct {
		which string
		set   map[string]bool
	}{{"not-completed", st.pending}, {"completed", st.completed}} {
		which, set := q.which, q.set
		out, errOut, err := run(ctx, "lpstat", "-W", which, "-o", queue)
		if err != nil {
			return queueState{err: msgFailed + strings.TrimSpace(errOut)}
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, "\t") {
				set[f[0]] = true
			}
		}
	}
	return st
}

// refresh updates unfinished jobs from CUPS and saves those that changed.
func (s *Spooler) refresh(ctx context.Context, jobs []Job) error {
	states := map[string]*queueState{} // each queue read once
	for i := range jobs {
		j := &jobs[i]
		if j.State != JobQueued && j.State != JobPrinting || j.CUPSID == "" || j.Queue == "" {
			continue
		}
		st := states[j.Queue]
		if st == nil {
			q := queueStateOf(ctx, j.Queue)
			st = &q
			states[j.Queue] = st
		}
		old := *j
		switch {
		case st.err != "":
			j.Reason = st.err
		case st.completed[j.CUPSID]:
			j.State, j.Reason = JobDone, ""
		case st.pending[j.CUPSID] && st.printing == j.CUPSID:
			j.State, j.Reason = JobPrinting, ""
			if st.message != "" {
				j.Reason = printerSays(st.message)
			}
		case st.pending[j.CUPSID]:
			j.State, j.Reason = JobQueued, ""
			if st.disabled {
				j.Reason = offline(st.message)
			}
		default:
			j.State, j.Reason = JobFailed, msgLost
		}
		if j.State != old.State || j.Reason != old.Reason {
			j.Updated = time.Now().UTC()
			if err := s.save(j); err != nil {
				return err
			}
		}
	}
	return nil
}

func offline(message string) string {
	if message == "" || message == "Paused" {
		return msgOfflineNone
	}
	return msgOffline + message
}

func printerSays(message string) string {
	if strings.Contains(message, "may not exist or is unavailable") || strings.Contains(message, "Unable to connect") {
		return msgUnreachable + message
	}
	return msgPrinterSays + message
}

// indentedLine returns the first tab-indented line of lpstat output: the
// reason or printer message.
func indentedLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "\t") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

func schedulerRunning(ctx context.Context) bool {
	out, _, _ := run(ctx, "lpstat", "-r")
	return strings.Contains(out, "scheduler is running")
}

// run runs a CUPS client with C messages, which are parsed.
func run(ctx context.Context, name string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func newJobID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return now.Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

func (s *Spooler) pdfPath(id string) string  { return filepath.Join(s.dir, id+".pdf") }
func (s *Spooler) jsonPath(id string) string { return filepath.Join(s.dir, id+".json") }

func (s *Spooler) load(id string) (Job, error) {
	if !validID(id) {
		return Job{}, ErrNoJob
	}
	b, err := os.ReadFile(s.jsonPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return Job{}, ErrNoJob
	}
	if err != nil {
		return Job{}, fmt.Errorf("print: read job: %w", err)
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return Job{}, fmt.Errorf("print: read job %s: %w", id, err)
	}
	return j, nil
}

func (s *Spooler) save(j *Job) error {
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.jsonPath(j.ID), b); err != nil {
		return fmt.Errorf("print: save job: %w", err)
	}
	return nil
}

// writeFileAtomic writes via a synced temporary file and a rename, so a
// power cut leaves the old file or the new one, never half of one.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
