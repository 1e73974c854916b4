package main_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// printLinkRE is the appraisal's print link on its page.
var printLinkRE = regexp.MustCompile(`href="(/staff/print/pdf\?kind=appraisal&amp;record=[^"]+)">([^<]+)</a>`)

// The appraisal page of a serving node links the print: the draft prints
// from the year's evidence, the signed one with its text, grade and
// signer (read back with pdftotext).
func TestAppraisalPageLinksPrint(t *testing.T) {
	requireTool(t, "pdftotext")
	data := filepath.Join(t.TempDir(), "demo")
	if out, code := gridbox(t, "demo", "--data", data); code != 0 {
		t.Fatal(out)
	}
	s, cfg, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	v := cfg.Node.Code
	if err := s.SetTeam(context.Background(), "u-admin", appliance.WorkTeam{Village: v, Members: []appliance.TeamMember{
		{ID: "p1", Name: "王建军", Unit: "市自然资源局", Days: 4}}}); err != nil {
		t.Fatal(err)
	}
	year := time.Now().In(cfg.Location()).Year()
	if err := s.SignTeam(context.Background(), "u-admin", appliance.TeamSign{Village: v, Member: "p1", Date: fmt.Sprintf("%d-03-02", year), At: "08:10"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	n := startNode(t, data, freePort(t))
	lead := login(t, n.url, "lead", "demo1234")

	page := fmt.Sprintf("/staff/assess/appraisals?year=%d&member=p1", year)
	printed := func(label string) string {
		t.Helper()
		_, body := lead.get(page)
		m := printLinkRE.FindStringSubmatch(body)
		if m == nil || m[2] != label {
			t.Fatalf("no link %q on the page: %v", label, m)
		}
		resp, pdf := lead.get(html.UnescapeString(m[1]))
		if resp.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("%s: %d %.200s", m[1], resp.StatusCode, pdf)
		}
		text, _ := pdfText(t, "appraisal", pdf)
		return strings.Join(strings.Fields(text), "")
	}
	draft := printed("打印草稿（PDF）")
	for _, w := range []string{"年度下沉干部驻村工作鉴定（草稿）", "市自然资源局人事部门", "全年在村签到1天（应驻村48天）", "1天（应48天）"} {
		if !strings.Contains(draft, w) {
			t.Errorf("the draft lacks %q:\n%s", w, draft)
		}
	}
	resp := lead.post("/staff/assess/appraisals", url.Values{"year": {fmt.Sprint(year)}, "member": {"p1"}, "text": {"驻村期间工作扎实，群众认可。"},
		"grade": {"称职"}, "signer": {"村党支部书记王立新"}, "date": {time.Now().In(cfg.Location()).Format(time.DateOnly)}})
	if resp.StatusCode != 303 {
		t.Fatalf("saving: %d", resp.StatusCode)
	}
	signed := printed("打印鉴定（PDF）")
	for _, w := range []string{"驻村期间工作扎实，群众认可。", "称职", "签署人：村党支部书记王立新"} {
		if !strings.Contains(signed, w) {
			t.Errorf("the signed letter lacks %q:\n%s", w, signed)
		}
	}
	if strings.Contains(signed, "草稿") {
		t.Errorf("the signed letter says draft:\n%s", signed)
	}
}
