package appliance

import (
	"context"
	"time"
)

// Printing is the node's printing service as the web side sees it: the
// documents it can make from the ledger's data, and the printer's jobs. The
// print package implements it; main hands it to the UI.
type Printing interface {
	Documents() []PrintDoc
	Render(ctx context.Context, req PrintRequest) (filename string, pdf []byte, err error)
	Print(ctx context.Context, req PrintRequest) (PrintJob, error)
	Jobs(ctx context.Context) ([]PrintJob, error)
	Retry(ctx context.Context, id string) (PrintJob, error)
	JobPDF(id string) ([]byte, error)
	// Printer is the default printer ([print] printer); Configured when any
	// printer is configured.
	Printer(ctx context.Context) PrinterStatus
	// PrinterFor is the printer a document kind on a paper goes to.
	PrinterFor(ctx context.Context, kind, paper string) PrinterStatus
	// Printers are every configured printer with the kinds it prints.
	Printers(ctx context.Context) []PrinterStatus
	// FallbackFonts lists the fonts found that print rare name characters
	// (生僻字) the built-in font lacks; empty: those print as 〓.
	FallbackFonts() []string
}

// PrintDoc is a kind of document a user can ask for, and which of the
// request's fields its form shows.
type PrintDoc struct {
	Kind   string     `json:"kind"`
	Title  string     `json:"title"`
	Fields []string   `json:"fields"`           // of "grid", "from", "to", "span", "paper", "staff", "case", "household"
	Papers []string   `json:"papers,omitempty"` // paper choices, first is the default
	Perm   Permission `json:"perm"`
	Queue  string     `json:"queue,omitempty"` // the CUPS queue it prints to on its default paper; empty: download only
}

// PrintRequest says which document to make.
type PrintRequest struct {
	Kind      string `json:"kind"`
	Grid      string `json:"grid,omitempty"`  // group or village code
	Group     string `json:"group,omitempty"` // the same as Grid, as people say it
	From      string `json:"from,omitempty"`  // YYYY-MM-DD
	To        string `json:"to,omitempty"`    // YYYY-MM-DD
	Span      string `json:"span,omitempty"`  // day, week, month
	Paper     string `json:"paper,omitempty"` // a4, a3, a5, roll, single
	Staff     string `json:"staff,omitempty"`
	Case      string `json:"case,omitempty"`
	Household string `json:"household,omitempty"` // household record id

	// Scope is the grid scope of the user asking (ScopePrefix of their
	// grid; empty: the whole node). Set by the web side, never from input.
	Scope string `json:"-"`
}

// PrintJob is a document sent to the printer.
type PrintJob struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Queue    string    `json:"queue"`             // CUPS queue
	CUPSID   string    `json:"cups_id,omitempty"` // CUPS's job id, e.g. "PDF-12", once CUPS took it
	Media    string    `json:"media,omitempty"`   // the lp media option it was sent with, e.g. A4, Custom.86x54mm
	State    string    `json:"state"`             // queued, printing, done, failed
	Reason   string    `json:"reason,omitempty"`
	Attempts int       `json:"attempts"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// PrintStateLabels are the Chinese names of job states.
var PrintStateLabels = map[string]string{
	"queued":   "排队中",
	"printing": "正在打印",
	"done":     "已打印",
	"failed":   "打印失败",
}

// PrinterStatus says whether a printer can print now.
type PrinterStatus struct {
	Configured bool     `json:"configured"` // a CUPS queue is set in the configuration
	Queue      string   `json:"queue"`
	Ready      bool     `json:"ready"`
	Reason     string   `json:"reason,omitempty"` // plain Chinese when not ready
	Kinds      []string `json:"kinds,omitempty"`  // document kinds (kind or kind-paper) it prints; "*" for the default
}
