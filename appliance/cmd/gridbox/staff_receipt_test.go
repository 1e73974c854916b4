package main_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	printReceiptFormRE = regexp.MustCompile(`<form method="post" action="/staff/print" class="inline print-receipt">(.*?)</form>`)
	hiddenInputRE      = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	jobPDFRE           = regexp.MustCompile(`/staff/print/jobs/([A-Za-z0-9_-]+)\.pdf`)
)

// A phone-call case's receipt prints, with its PIN, in one click from the
// receipt page and again in one click from the case page; each click comes
// back to the case and the printed PDF (read with pdftotext) carries the
// code and the PIN the caller was told.
func TestStaffReceiptPrintOneClick(t *testing.T) {
	requireTool(t, "pdftotext")
	data, _ := demoWithPrinter(t)
	f := demoPrintFacts(t, data)
	n := startNode(t, data, freePort(t))
	s := login(t, n.url, "duty", "demo1234")

	postPage := func(path string, form url.Values) (*http.Response, string) {
		t.Helper()
		form.Set("_csrf", s.csrf())
		resp, err := s.c.PostForm(s.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	jobs := func() []string {
		_, page := s.get("/staff/print")
		var ids []string
		for _, m := range jobPDFRE.FindAllStringSubmatch(page, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	// click posts the page's one print form as the browser would.
	click := func(page string) string {
		t.Helper()
		m := printReceiptFormRE.FindAllStringSubmatch(page, -1)
		if len(m) != 1 || strings.Contains(m[0][1], "<select") || strings.Contains(m[0][1], `type="text"`) {
			t.Fatalf("want one print form with nothing to choose, got %d: %v", len(m), m)
		}
		form := url.Values{}
		for _, in := range hiddenInputRE.FindAllStringSubmatch(m[0][1], -1) {
			form.Set(in[1], in[2])
		}
		before := jobs()
		resp, body := postPage("/staff/print", form)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/staff/cases/"+form.Get("case")+"?printed=1" {
			t.Fatalf("print: %d to %q: %.500s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		if back := getPage(t, s, resp.Header.Get("Location")); !strings.Contains(back, "回执已送去打印") {
			t.Error("the case page does not say the receipt was sent to the printer")
		}
		var id string
		for _, j := range jobs() {
			if !slices.Contains(before, j) {
				id = j
			}
		}
		if id == "" {
			t.Fatal("no new print job")
		}
		r, pdf := s.get("/staff/print/jobs/" + id + ".pdf")
		if r.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("job %s: %d", id, r.StatusCode)
		}
		text, _ := pdfText(t, "receipt-"+id, pdf)
		return text
	}

	resp, receipt := postPage("/staff/cases/new", url.Values{"source": {"phone"}, "phone": {"13907550123"}, "category": {f.categoryKey}, "description": {"电话反映：村西头水管漏水"}})
	code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(receipt)
	pin := regexp.MustCompile(`id="receipt-pin">([0-9]{4})<`).FindStringSubmatch(receipt)
	if resp.StatusCode != 200 || code == nil || pin == nil {
		t.Fatalf("phone-call case: %d %.800s", resp.StatusCode, receipt)
	}
	for name, page := range map[string]string{"receipt page": receipt, "case page": getPage(t, s, "/staff/cases/"+code[1])} {
		text := click(page)
		if !strings.Contains(text, code[1]) || !strings.Contains(text, pin[1]) {
			t.Errorf("%s: the printed receipt lacks code %s or PIN %s:\n%s", name, code[1], pin[1], text)
		}
	}
}

func getPage(t *testing.T, s *session, path string) string {
	t.Helper()
	resp, page := s.get(path)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d", path, resp.StatusCode)
	}
	return page
}
