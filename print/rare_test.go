package print_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"gridbox/print"
)

// Names with rare characters (生僻字) of GB 18030-2022: CJK Extension B
// (𠇔 𠮷 𡒄), A (䶮), and one each of C, D, E and F.
var rareNames = []string{"李𠇔琳", "𠮷野", "王𡒄", "刘䶮", "张𪜀", "陈𫝀", "赵𫠠", "孙𬺰"}

// requireFallbackFont fails on CI and skips elsewhere when fonts-hanazono,
// the fallback font the image installs, is missing.
func requireFallbackFont(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("fonts-hanazono is required (CI=true; .ci/install-deps installs it): %v", err)
		}
		tb.Skipf("fonts-hanazono not installed: %v", err)
	}
	if got := print.FallbackFonts(); len(got) < 2 {
		tb.Fatalf("fallback fonts found: %q, want HanaMinA and HanaMinB", got)
	}
}

// Every document kind prints a name with rare characters as itself: it
// reads back so from pdftotext, and the page carries no stand-in.
func TestRareNamesInEveryKind(t *testing.T) {
	requireFallbackFont(t)
	n0, n1, n2, n3 := rareNames[0], rareNames[1], rareNames[2], rareNames[3]
	all := strings.Join(rareNames, "\n") // one a line: a name is checked whole
	card := sampleCard(0)
	card.GridLeader, card.Village, card.Group = n0, n1+"村", n2+"组"
	reg := &print.Register{Village: n1 + "村", From: day(2026, 11, 24), Rows: []print.RegisterRow{
		{Date: day(2026, 11, 24), Code: "K7M2-Q9XD", Summary: all, Handler: n0, Status: "办理中"}}}
	docs := map[string]print.Document{
		"card":     &print.CardSheet{Cards: []print.Card{card}},
		"single":   &print.CardSheet{Cards: []print.Card{card}, Layout: print.CardSingle},
		"notice":   &print.Notice{Village: n1 + "村", Roster: print.Roster{Days: []print.DutyDay{{Date: day(2026, 12, 1), Staff: []print.DutyStaff{{n0, "13903711201"}, {n3, "13803710100"}}}}}, Grid: []print.GridRow{{n2 + "组", n0, "13903711201"}}},
		"letter":   &print.Letter{Village: n1 + "村", Households: []print.LetterHousehold{{Name: n2 + "户", GridLeader: n0, LeaderPhone: "13903711201"}}},
		"receipt":  &print.Receipt{Village: n1 + "村", Code: "K7M2-Q9XD", PIN: "0736", Token: "rc-1", Category: "公共事务"},
		"diary":    &print.Diary{Worker: n0, Village: n1 + "村", Entries: []print.DiaryEntry{{Date: day(2026, 11, 3), Kind: "走访", Household: n2 + "户", Content: all}}},
		"booklet":  &print.Diary{Worker: n0, Village: n1 + "村", Booklet: true, Entries: []print.DiaryEntry{{Date: day(2026, 11, 3), Kind: "走访", Household: n2 + "户", Content: all}}},
		"register": reg,
		"manual":   &print.Manual{Worker: n0, Village: n1 + "村", Households: []print.ManualHousehold{{Head: n3, Address: n2 + "家"}}},
	}
	want := map[string][]string{
		"card": {n0, n1 + "村", n2 + "组"}, "single": {n0, n1 + "村"}, "notice": {n0, n3, n2 + "组"}, "letter": {n2 + "户", n0},
		"receipt": {n1 + "村"}, "diary": append([]string{n0, n2 + "户"}, rareNames...), "booklet": {n0, n2 + "户"},
		"register": append([]string{n0}, rareNames...), "manual": {n0, n3, n2 + "家"},
	}
	for kind, doc := range docs {
		t.Run(kind, func(t *testing.T) {
			pdf := mustRender(t, doc)
			text := pdfText(t, pdf, 0, 0)
			wantText(t, text, want[kind]...)
			if strings.Contains(text, print.StandIn) {
				t.Errorf("a stand-in printed:\n%s", text)
			}
			for p := 1; p <= pageCount(t, pdf); p++ {
				wantInside(t, pdf, p, nil)
			}
		})
	}
}

// The fallback font is embedded as a subset, like the built-in one: a card
// with a rare name stays small.
func TestRareNamesSubset(t *testing.T) {
	requireFallbackFont(t)
	requireTool(t, "pdffonts")
	c := sampleCard(0)
	c.GridLeader = strings.Join(rareNames, "")
	pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{c}, Layout: print.CardSingle})
	if len(pdf) > 60000 {
		t.Errorf("a card with rare names is %d bytes", len(pdf))
	}
	out, err := exec.Command("pdffonts", writeTemp(t, pdf)).CombinedOutput()
	if err != nil {
		t.Fatalf("pdffonts: %v: %s", err, out)
	}
	if n := strings.Count(string(out), " yes "); n < 2 {
		t.Errorf("want the built-in and a fallback font embedded:\n%s", out)
	}
}
