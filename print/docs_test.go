package print_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbox/print"
)

func roster31() print.Roster {
	names := []print.DutyStaff{{"刘建国", "13903711201"}, {"王秀兰", "13803710100"}, {"张海涛", "13503712233"}, {"赵丽娟", "15937104455"}}
	r := print.Roster{Title: "2026年12月值班表"}
	for i := 0; i < 31; i++ {
		r.Days = append(r.Days, print.DutyDay{Date: day(2026, 12, i+1), Staff: []print.DutyStaff{names[i%4], names[(i+1)%4]}})
	}
	return r
}

var grid = []print.GridRow{
	{"第一村民小组", "刘建国", "13903711201"},
	{"第二村民小组", "王秀兰", "13803710100"},
	{"第三村民小组（西岭）", "张海涛", "13503712233"},
}

func TestNotice(t *testing.T) {
	for _, a3 := range []bool{false, true} {
		t.Run(fmt.Sprintf("A3=%v", a3), func(t *testing.T) {
			n := &print.Notice{
				Village:   "刘沟村",
				Services:  services,
				Roster:    roster31(),
				TownDuty:  []print.DutyDay{{Date: day(2026, 12, 1), Staff: []print.DutyStaff{{"钱守信", "13900003333"}}}, {Date: day(2026, 12, 2)}},
				Grid:      grid,
				DutyPhone: "0371-64551234",
				Token:     "kiosk-report-LG01",
				Updated:   day(2026, 11, 28),
				A3:        a3,
			}
			pdf := mustRender(t, n)
			text := pdfText(t, pdf, 0, 0)
			wantText(t, text, "刘沟村便民服务公开栏", "一、服务事项及办理流程", "低保申请", "村民代表评议并公示7天",
				"二、2026年12月值班表", "12月1日", "12月31日", "星期四", "赵丽娟 15937104455", "乡镇值班", "钱守信 13900003333",
				"三、网格划分及网格长", "第三村民小组（西岭）", "四、如何反映问题", "值班电话：0371-64551234")
			pages := pageCount(t, pdf)
			// The roster continues on a new page with its header repeated.
			if pages > 1 {
				for p := 2; p <= pages; p++ {
					if strings.Contains(flat(pdfText(t, pdf, p, p)), "12月31日") {
						wantText(t, pdfText(t, pdf, p, p), "值班人员及电话")
					}
				}
			}
			wantCodes(t, pdf, pages, n.Token)
			for p := 1; p <= pages; p++ {
				wantInside(t, pdf, p, nil)
			}
		})
	}
}

func TestLetter(t *testing.T) {
	l := &print.Letter{
		Village:   "刘沟村",
		Signature: "中共刘沟村支部委员会　刘沟村村民委员会",
		Date:      day(2026, 12, 1),
		DutyPhone: "0371-64551234",
		Households: []print.LetterHousehold{
			{Name: "刘建国户", Group: "第一村民小组", GridLeader: "刘建国", LeaderPhone: "13903711201", Token: "lt-0001"},
			{Name: "陈淑芬户", Group: "第二村民小组", GridLeader: "王秀兰", LeaderPhone: "13803710100", Token: "lt-0002"},
		},
	}
	pdf := mustRender(t, l)
	if got := pageCount(t, pdf); got != 2 {
		t.Fatalf("pages=%d, want 2", got)
	}
	wantText(t, pdfText(t, pdf, 2, 2), "致全村群众的一封信", "尊敬的陈淑芬户：", "网格化管理", "您户的网格长：王秀兰", "13803710100", "刘沟村 第二村民小组", "2026年12月1日")
	wantCodes(t, pdf, 2, "lt-0002")
}

func TestDiary(t *testing.T) {
	di := &print.Diary{Worker: "王秀兰", Village: "刘沟村", Group: "第二村民小组", From: day(2026, 11, 1), To: day(2026, 11, 30)}
	for i := 0; i < 30; i++ {
		di.Entries = append(di.Entries, print.DiaryEntry{
			Date:      day(2026, 11, i+1),
			Kind:      []string{"走访", "巡查"}[i%2],
			Household: []string{"陈淑芬户", "西岭水渠", "刘德厚户"}[i%3],
			Content:   "了解到老人独居，子女在郑州务工，身体尚好，希望冬季能帮忙检查取暖设施和用电安全。",
			Problems:  "房屋后墙有裂缝，雨季存在安全隐患。",
			Handling:  "已拍照上报村委会，联系镇建设所下周来查看，期间提醒住户暂不使用后屋。",
		})
	}
	pdf := mustRender(t, di)
	if n := pageCount(t, pdf); n < 5 {
		t.Fatalf("pages=%d, want a booklet of several A5 pages", n)
	}
	wantText(t, pdfText(t, pdf, 1, 1), "民情日记", "王秀兰", "2026年11月1日至2026年11月30日")
	wantText(t, pdfText(t, pdf, 0, 0), "2026年11月30日 星期一 巡查 刘德厚户", "问题：房屋后墙有裂缝", "处理：已拍照上报村委会")
}

func TestRegister(t *testing.T) {
	r := &print.Register{Village: "刘沟村", Span: print.RegisterMonth, From: day(2026, 11, 1), Closed: time.Date(2026, 11, 30, 18, 0, 0, 0, cst)}
	statuses := []string{"已办结", "办理中", "已上报"}
	for i := 0; i < 90; i++ {
		r.Rows = append(r.Rows, print.RegisterRow{
			Date:     day(2026, 11, i%30+1),
			Code:     fmt.Sprintf("LG-202611%02d-%04d", i%30+1, i+1),
			Source:   []string{"走访巡查", "来访", "来电", "意见箱", "自助终端"}[i%5],
			Category: []string{"公共事务", "民生服务", "安全生产"}[i%3],
			Group:    fmt.Sprintf("第%d组", i%8+1),
			Summary:  "村西头道路坑洼积水，雨后群众出行困难，请求修补路面并疏通两侧排水沟。",
			Handler:  "张海涛",
			Status:   statuses[i%3],
			Result:   "已联系镇交通办，列入本月维修计划。",
		})
	}
	pdf := mustRender(t, r)
	n := pageCount(t, pdf)
	if n < 3 {
		t.Fatalf("pages=%d, want the table to span pages", n)
	}
	wantText(t, pdfText(t, pdf, 1, 1), "刘沟村网格化管理月台账", "（2026年11月）", "问题摘要", "LG-20261101-0001")
	for p := 2; p <= n; p++ {
		wantText(t, pdfText(t, pdf, p, p), "序号", "问题摘要", "办理结果", fmt.Sprintf("第 %d 页", p))
	}
	for p := 1; p <= n; p++ {
		wantInside(t, pdf, p, nil)
	}
	wantText(t, pdfText(t, pdf, n, n), "合计 90 件，已办结 30 件，办理中 30 件，已上报 30 件", "LG-20261130-0090", "本台账于2026年11月30日 18:00 关账。")

	// A week with a day changed after closing and days not closed: said at
	// the top of the first page and at the end.
	week := &print.Register{Village: "刘沟村", Span: print.RegisterWeek, From: day(2026, 11, 23), Rows: r.Rows[:3],
		Open: []time.Time{day(2026, 11, 28), day(2026, 11, 29)}, Changed: []time.Time{day(2026, 11, 24)}}
	pdf = mustRender(t, week)
	warn := "注意：11月24日的台账关账后数据有变动，与关账时不一致，请核查。"
	first := flat(pdfText(t, pdf, 1, 1))
	if i, j := strings.Index(first, flat(warn)), strings.Index(first, "序号"); i < 0 || j < 0 || i > j {
		t.Errorf("the change after closing is not said above the table:\n%s", first)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "尚未关账：11月28日、11月29日。")
	// One day, closed, changed afterwards.
	one := &print.Register{Village: "刘沟村", From: day(2026, 11, 24), Rows: r.Rows[:1], Closed: time.Date(2026, 11, 25, 8, 30, 0, 0, cst), Changed: []time.Time{day(2026, 11, 24)}}
	wantText(t, pdfText(t, mustRender(t, one), 0, 0), "注意：2026年11月24日的台账关账后数据有变动", "本台账于2026年11月25日 08:30 关账。")
}

func TestManual(t *testing.T) {
	m := &print.Manual{
		Worker: "王秀兰", Phone: "13803710100", Village: "刘沟村", Groups: []string{"第二村民小组", "第三村民小组"}, Year: 2026,
		Duties: []string{
			"每天走访不少于5户，掌握每户人口、就业、住房、困难和诉求，更新户情档案。",
			"每天巡查网格内道路、水渠、山林、在建房屋，发现问题当天上报。",
			"帮助群众代办低保、医保、高龄补贴等事项，限时办结并反馈。",
		},
		Checklists: []print.Checklist{
			{Title: "每日巡查清单", Items: []string{"道路、桥梁有无损坏", "水渠、河道有无堵塞", "有无违法建设、私搭乱建", "林木有无病虫害、火灾隐患"}},
			{Title: "入户走访清单", Items: []string{"家庭成员有无变化（出生、死亡、外出、返乡）", "有无生活困难、需要帮扶", "有无矛盾纠纷"}},
		},
	}
	for i := 0; i < 31; i++ {
		if i%4 == 0 {
			m.DutyDays = append(m.DutyDays, day(2026, 12, i+1))
		}
	}
	for i := 0; i < 80; i++ {
		m.Households = append(m.Households, print.ManualHousehold{
			Group: []string{"第二组", "第三组"}[i%2], Head: []string{"陈淑芬", "刘德厚", "赵大山", "孙桂英"}[i%4],
			Address: fmt.Sprintf("刘沟村西岭%d号", i+1), Members: i%6 + 1, Phone: fmt.Sprintf("1390371%04d", i), Notes: []string{"", "独居老人，每周走访一次", "低保户"}[i%3],
		})
	}
	pdf := mustRender(t, m)
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "网格员工作手册", "（2026年度）", "一、工作职责", "每天走访不少于5户", "二、值班日期", "12月1日（星期二）",
		"三、联系户花名册", "刘沟村西岭80号", "四、工作清单", "每日巡查清单", "林木有无病虫害、火灾隐患")
	n := pageCount(t, pdf)
	for p := 3; p < n; p++ { // the roll of households continues with its header
		if strings.Contains(flat(pdfText(t, pdf, p, p)), "刘沟村西岭") {
			wantText(t, pdfText(t, pdf, p, p), "户主", "住址")
		}
	}
}

func TestDiaryBooklet(t *testing.T) {
	di := &print.Diary{Worker: "王秀兰", Village: "刘沟村", From: day(2026, 11, 1), To: day(2026, 11, 30), Booklet: true}
	for i := 0; i < 12; i++ {
		di.Entries = append(di.Entries, print.DiaryEntry{
			Date: day(2026, 11, i+1), Kind: "走访", Household: fmt.Sprintf("第%d户", i+1),
			Content: strings.Repeat("了解家庭生产生活情况，宣传医保缴费政策。", 4),
		})
	}
	plain := *di
	plain.Booklet = false
	logical := pageCount(t, mustRender(t, &plain))
	pdf := mustRender(t, di)
	sheets := (logical + 3) / 4
	if got := pageCount(t, pdf); got != 2*sheets {
		t.Fatalf("booklet pages = %d, want %d (2 sides × %d sheets for %d A5 pages)", got, 2*sheets, sheets, logical)
	}
	// The cover is the right half of the first side; the last page the left.
	ws, w, _ := words(t, pdf, 1)
	if w < 800 {
		t.Fatalf("page width %.0f pt, want A4 landscape", w)
	}
	for _, x := range ws {
		if x.text == "民情日记" && x.xMin < w/2 {
			t.Errorf("cover title at x=%.0f, want on the right half", x.xMin)
		}
	}
	// Side 2 holds pages 2 (left) and n-1 (right).
	side2 := []string{"第 2 页"}
	if 4*sheets-1 <= logical {
		side2 = append(side2, fmt.Sprintf("第 %d 页", 4*sheets-1))
	}
	wantText(t, pdfText(t, pdf, 2, 2), side2...)
	for p := 1; p <= 2*sheets; p++ {
		wantInside(t, pdf, p, nil)
	}
	// Every entry is on paper, the last ones too.
	found := map[string]bool{}
	for _, m := range regexp.MustCompile(`第(\d+)户`).FindAllStringSubmatch(flat(pdfText(t, pdf, 0, 0)), -1) {
		found[m[1]] = true
	}
	for i := range di.Entries {
		if !found[strconv.Itoa(i+1)] {
			t.Errorf("entry %d (第%d户) is not in the booklet", i+1, i+1)
		}
	}
}

// noticeOf is a notice board of a village with groups groups, services
// service items and a roster of days days (two people a day, and with town
// the town's duty on each day).
func noticeOf(groups, nServices, days int, town, a3 bool) *print.Notice {
	names := []print.DutyStaff{{"刘建国", "13903711201"}, {"王秀兰", "13803710100"}, {"张海涛", "13503712233"}, {"赵丽娟", "15937104455"}}
	n := &print.Notice{Village: "刘沟村", DutyPhone: "0371-64551234", Token: "https://xhc.example.cn/report", Updated: day(2026, 11, 28), A3: a3,
		Roster: print.Roster{Title: "值班表"}}
	for i := 0; i < days; i++ {
		d := day(2026, 12, 1).AddDate(0, 0, i)
		n.Roster.Days = append(n.Roster.Days, print.DutyDay{Date: d, Staff: []print.DutyStaff{names[i%4], names[(i+1)%4]}})
		if town {
			n.TownDuty = append(n.TownDuty, print.DutyDay{Date: d, Staff: []print.DutyStaff{{"钱守信", "13900003333"}}})
		}
	}
	for i := 0; i < nServices; i++ {
		n.Services = append(n.Services, services[i%len(services)])
	}
	for i := 0; i < groups; i++ {
		n.Grid = append(n.Grid, print.GridRow{Group: fmt.Sprintf("第%d村民小组", i+1), GridLeader: names[i%4].Name, Phone: names[i%4].Phone})
	}
	return n
}

// The notice board goes on one sheet of its paper, the type shrunk within
// readable limits: a week on A4 for a village of 8 groups, and on A3 for 12
// groups or a whole month.
func TestNoticeOneSheet(t *testing.T) {
	for _, tt := range []struct {
		name              string
		groups, svc, days int
		town, a3          bool
		minPt             float64 // smallest table text, in points
	}{
		{"A4Week8Groups", 8, 5, 7, true, false, 7.9},
		{"A4Week12Groups", 12, 6, 7, true, false, 7.9},
		{"A3Week12Groups", 12, 6, 7, true, true, 9.9},
		{"A3Month9Groups", 9, 5, 31, false, true, 9.9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := noticeOf(tt.groups, tt.svc, tt.days, tt.town, tt.a3)
			pdf := mustRender(t, n)
			if got := pageCount(t, pdf); got != 1 {
				t.Fatalf("pages = %d, want 1", got)
			}
			wantText(t, pdfText(t, pdf, 1, 1), fmt.Sprintf("第%d村民小组", tt.groups), "四、如何反映问题", "值班电话：0371-64551234")
			wantInside(t, pdf, 1, nil)
			ws, _, _ := words(t, pdf, 1)
			for _, w := range ws {
				// Phone numbers are in the tables: their height is the type size.
				if strings.HasPrefix(w.text, "139") && w.yMax-w.yMin < tt.minPt {
					t.Fatalf("%q is %.1f pt high, want at least %.1f", w.text, w.yMax-w.yMin, tt.minPt)
				}
			}
			wantCodesQuick(t, pdf, 1, n.Token)
		})
	}
}

// What cannot fit one sheet even in the smallest type goes on to further
// sheets under the title marked （续）, whole sections where that takes no
// more sheets, and never one row or line alone on a sheet.
func TestNoticeSecondSheet(t *testing.T) {
	n := noticeOf(20, 8, 31, true, false)
	pdf := mustRender(t, n)
	pages := pageCount(t, pdf)
	if pages < 2 {
		t.Fatalf("pages = %d, want more than one", pages)
	}
	for p := 1; p <= pages; p++ {
		text := pdfText(t, pdf, p, p)
		wantText(t, text, fmt.Sprintf("第 %d 页，共 %d 页", p, pages))
		wantInside(t, pdf, p, nil)
		if p == 1 {
			continue
		}
		lines := nonEmpty(text)
		if !strings.Contains(lines[0], "刘沟村便民服务公开栏（续）") {
			t.Errorf("page %d begins %q, want the title marked （续）", p, lines[0])
		}
		// After the heading: a section's heading, or a table's header row
		// repeated above at least two rows.
		switch next := flat(lines[1]); {
		case regexp.MustCompile(`^[一二三四]、`).MatchString(next):
		case strings.HasPrefix(next, "日期") || strings.HasPrefix(next, "村民小组") || strings.HasPrefix(next, "服务事项"):
			if len(lines) < 5 { // header, two rows, page number
				t.Errorf("page %d holds a table's last row alone:\n%s", p, text)
			}
		default:
			t.Errorf("page %d continues with %q, want a section heading or a table header", p, lines[1])
		}
	}
	wantText(t, pdfText(t, pdf, 0, 0), "第20村民小组", "12月31日", "四、如何反映问题")
	wantCodesQuick(t, pdf, pages, n.Token)
}

func nonEmpty(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
