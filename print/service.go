package print

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// PrintService makes documents from the node's data and prints them; it is the
// appliance.Printing the web side uses.
type PrintService struct {
	store   *bolt.Store
	cfg     appliance.Config
	spooler *Spooler
	tokens  *appliance.TokenSigner
	loc     *time.Location
}

// A source builds one document kind from the store for a request.
type source struct {
	doc   appliance.PrintDoc
	build func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error)
}

var docSources []source

// addSource registers a document the service can make; call it from init.
func addSource(src source) { docSources = append(docSources, src) }

// NewService returns the printing service of a node; queue may be empty (no
// printer: documents are downloaded), spoolDir keeps jobs for retry.
func NewService(store *bolt.Store, cfg appliance.Config, spoolDir string) (*PrintService, error) {
	if len(cfg.Print.FontDirs) > 0 {
		SetFontDirs(cfg.Print.FontDirs)
	}
	if err := checkPrinters(cfg.Print.Printers); err != nil {
		return nil, err
	}
	sp, err := NewSpooler(cfg.Print.Printer, spoolDir)
	if err != nil {
		return nil, err
	}
	tokens, err := appliance.NewTokenSigner(store.Secret())
	if err != nil {
		return nil, err
	}
	return &PrintService{store: store, cfg: cfg, spooler: sp, tokens: tokens, loc: cfg.Location()}, nil
}

// checkPrinters refuses a [print.printers] key that names no document
// kind, or a paper the kind is not printed on.
func checkPrinters(printers map[string]string) error {
	for key := range printers {
		kind, paper, _ := strings.Cut(key, "-")
		ok := false
		for _, src := range docSources {
			if src.doc.Kind == kind && (paper == "" || slices.Contains(src.doc.Papers, paper)) {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("print.printers: %q is not a document kind, or kind-paper, that the node prints", key)
		}
	}
	return nil
}

// queueFor is the CUPS queue a document kind on a paper goes to: the
// kind-paper's own, the kind's own, else the default.
func (s *PrintService) queueFor(kind, paper string) string {
	if paper == "" {
		for _, src := range docSources {
			if src.doc.Kind == kind && len(src.doc.Papers) > 0 {
				paper = src.doc.Papers[0]
			}
		}
	}
	if q := s.cfg.Print.Printers[kind+"-"+paper]; q != "" && paper != "" {
		return q
	}
	if q := s.cfg.Print.Printers[kind]; q != "" {
		return q
	}
	return s.cfg.Print.Printer
}

// Documents lists what can be printed, in registration order, with the
// queue each prints to.
func (s *PrintService) Documents() []appliance.PrintDoc {
	out := make([]appliance.PrintDoc, len(docSources))
	for i, src := range docSources {
		out[i] = src.doc
		out[i].Queue = s.queueFor(src.doc.Kind, "")
	}
	return out
}

func (s *PrintService) build(ctx context.Context, req appliance.PrintRequest) (Document, string, error) {
	switch {
	case req.Group == "":
	case req.Grid == "" || req.Grid == req.Group:
		req.Grid = req.Group
	default:
		return nil, "", appliance.FieldError("group", "网格和村民小组不一致，请只填一个")
	}
	for _, src := range docSources {
		if src.doc.Kind == req.Kind {
			doc, err := src.build(ctx, s, req)
			return doc, src.doc.Title, err
		}
	}
	return nil, "", appliance.FieldError("kind", "没有这种文档")
}

// Render makes the PDF of a request.
func (s *PrintService) Render(ctx context.Context, req appliance.PrintRequest) (string, []byte, error) {
	doc, title, err := s.build(ctx, req)
	if err != nil {
		return "", nil, err
	}
	pdf, err := RenderBytes(doc, &Options{Created: time.Now()})
	if err != nil {
		return "", nil, fmt.Errorf("render %s: %w", req.Kind, err)
	}
	return fmt.Sprintf("%s-%s.pdf", title, time.Now().In(s.loc).Format("20060102-1504")), pdf, nil
}

// Print renders a request and sends it to the document's printer, with
// the paper it was made for (media, orientation, no scaling), so it comes
// out at 100 %.
func (s *PrintService) Print(ctx context.Context, req appliance.PrintRequest) (appliance.PrintJob, error) {
	queue := s.queueFor(req.Kind, req.Paper)
	if queue == "" {
		return appliance.PrintJob{}, appliance.Errorf(appliance.EINVALID, "本机没有为这种文档设置打印机，请下载 PDF 后打印")
	}
	doc, title, err := s.build(ctx, req)
	if err != nil {
		return appliance.PrintJob{}, err
	}
	pdf, media, err := RenderForPrinter(doc, &Options{Created: time.Now()})
	if err != nil {
		return appliance.PrintJob{}, fmt.Errorf("render %s: %w", req.Kind, err)
	}
	// The job title reaches CUPS's logs: the document kind only, never a name.
	j, err := s.spooler.SubmitTo(ctx, queue, title, pdf, media.Options())
	return jobOf(j), err
}

// Jobs lists print jobs, newest first.
func (s *PrintService) Jobs(ctx context.Context) ([]appliance.PrintJob, error) {
	jobs, err := s.spooler.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]appliance.PrintJob, len(jobs))
	for i, j := range jobs {
		out[i] = jobOf(j)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Retry sends a failed job again.
func (s *PrintService) Retry(ctx context.Context, id string) (appliance.PrintJob, error) {
	j, err := s.spooler.Retry(ctx, id)
	switch {
	case errors.Is(err, ErrNoJob):
		return appliance.PrintJob{}, appliance.Errorf(appliance.ENOTFOUND, "没有这个打印任务")
	case errors.Is(err, ErrNoPrinter):
		return appliance.PrintJob{}, appliance.Errorf(appliance.EINVALID, "本机没有设置打印机")
	case err != nil && j.ID != "":
		return jobOf(j), appliance.Errorf(appliance.ECONFLICT, "只有打印失败的任务可以重新打印")
	}
	return jobOf(j), err
}

// JobPDF returns the kept PDF of a job.
func (s *PrintService) JobPDF(id string) ([]byte, error) {
	b, err := s.spooler.PDF(id)
	if errors.Is(err, ErrNoJob) {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "没有这个打印任务")
	}
	return b, err
}

// Printer reports whether the default printer can print now; Configured
// is set when any printer is.
func (s *PrintService) Printer(ctx context.Context) appliance.PrinterStatus {
	st := s.status(ctx, s.cfg.Print.Printer)
	st.Configured = s.cfg.Print.Printer != "" || len(s.cfg.Print.Printers) > 0
	return st
}

// PrinterFor reports on the printer a document kind on a paper goes to.
func (s *PrintService) PrinterFor(ctx context.Context, kind, paper string) appliance.PrinterStatus {
	return s.status(ctx, s.queueFor(kind, paper))
}

// Printers reports on every configured printer, the default first, each
// with the document kinds it prints.
func (s *PrintService) Printers(ctx context.Context) []appliance.PrinterStatus {
	kinds := map[string][]string{}
	var queues []string
	add := func(q, kind string) {
		if _, ok := kinds[q]; !ok {
			queues = append(queues, q)
		}
		kinds[q] = append(kinds[q], kind)
	}
	if q := s.cfg.Print.Printer; q != "" {
		add(q, "*")
	}
	keys := make([]string, 0, len(s.cfg.Print.Printers))
	for k := range s.cfg.Print.Printers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add(s.cfg.Print.Printers[k], k)
	}
	out := make([]appliance.PrinterStatus, len(queues))
	for i, q := range queues {
		out[i] = s.status(ctx, q)
		out[i].Kinds = kinds[q]
	}
	return out
}

func (s *PrintService) status(ctx context.Context, queue string) appliance.PrinterStatus {
	if queue == "" {
		return appliance.PrinterStatus{Reason: "未配置打印机，请下载PDF后打印"}
	}
	st := s.spooler.PrinterOf(ctx, queue)
	return appliance.PrinterStatus{Configured: true, Queue: queue, Ready: st.Ready, Reason: st.Reason}
}

// qrCodes makes the content of the QR codes on one request's documents: a
// link phones can open, at this box ([print] public_url) or at its town
// ([print] town_url, signed with the secret the two share), holding the
// signed token the kiosk's scanner reads from it; without either, the bare
// token, and kioskOnly set.
func (s *PrintService) qrCodes() (code func(kind byte, id string) string, kioskOnly bool, err error) {
	p := s.cfg.Print
	switch {
	case p.PublicURL != "":
		return func(kind byte, id string) string { return p.PublicURL + "/scan?token=" + s.tokens.Sign(kind, id) }, false, nil
	case p.TownURL != "":
		secret, err := s.store.ParentQRSecret(s.cfg.Replicate.ParentKey)
		if err != nil {
			return nil, false, err
		}
		town, err := appliance.NewTokenSigner(secret)
		if err != nil {
			return nil, false, err
		}
		return func(kind byte, id string) string { return p.TownURL + "/scan?token=" + town.Sign(kind, id) }, false, nil
	}
	return s.tokens.Sign, true, nil
}

// FallbackFonts lists the fonts found for rare characters.
func (s *PrintService) FallbackFonts() []string { return FallbackFonts() }

func jobOf(j Job) appliance.PrintJob {
	media := ""
	for _, o := range j.Options {
		if m, ok := strings.CutPrefix(o, "media="); ok {
			media = m
		}
	}
	return appliance.PrintJob{ID: j.ID, Title: j.Title, Queue: j.Queue, CUPSID: j.CUPSID, Media: media, State: string(j.State),
		Reason: j.Reason, Attempts: j.Attempts, Created: j.Created, Updated: j.Updated}
}

// date parses a request date in the display zone; empty gives today.
func (s *PrintService) date(field, v string) (time.Time, error) {
	if v == "" {
		n := time.Now().In(s.loc)
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, s.loc), nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.loc)
	if err != nil {
		return t, appliance.FieldError(field, "日期格式应为 年-月-日，如 2026-11-28")
	}
	return t, nil
}

// services converts the configured service items.
func (s *PrintService) services() []Service {
	out := make([]Service, 0, len(s.cfg.Services))
	for _, it := range s.cfg.Services {
		steps := []string{it.Procedure}
		if len(it.Materials) > 0 {
			m := "需带材料："
			for i, x := range it.Materials {
				if i > 0 {
					m += "、"
				}
				m += x
			}
			steps = append(steps, m)
		}
		out = append(out, Service{Name: it.Name, Steps: steps, Where: it.Where})
	}
	return out
}

// gridRows is the grid table: each group, its grid leaders and phones.
func (s *PrintService) gridRows() ([]GridRow, error) {
	code := s.cfg.Node.Code
	groups, err := s.store.FindGrids(appliance.GridFilter{Parent: &code})
	if err != nil {
		return nil, err
	}
	staff, err := s.store.FindStaff(appliance.StaffFilter{Grid: &code})
	if err != nil {
		return nil, err
	}
	var rows []GridRow
	for _, g := range groups {
		row := GridRow{Group: g.Name}
		for _, m := range staff {
			if m.Grid == g.Code && m.Duty == appliance.DutyGridLeader {
				row.GridLeader, row.Phone = m.Name, m.Phone
				break
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// inScope refuses a grid outside the asking user's scope.
func inScope(req appliance.PrintRequest, grid string) error {
	if req.Scope != "" && !appliance.InScope(req.Scope, grid) {
		return appliance.Errorf(appliance.EFORBIDDEN, "只能打印您负责的网格的文档")
	}
	return nil
}

// leaderOf returns the grid leader of a group.
func (s *PrintService) leaderOf(group string) (appliance.StaffMember, error) {
	leaders, err := s.store.FindStaff(appliance.StaffFilter{Grid: &group, Duty: ptr(appliance.DutyGridLeader)})
	if err != nil || len(leaders) == 0 {
		return appliance.StaffMember{}, err
	}
	return leaders[0], nil
}

func ptr[T any](v T) *T { return &v }
