package print_test

import (
	"testing"
	"time"

	"gridbox/print"
)

func TestReceipt(t *testing.T) {
	r := print.Receipt{
		Village:   "刘沟村",
		Code:      "LG-20261128-0042",
		PIN:       "0736",
		Token:     "rc-7Hq2xWc9pLm4",
		Category:  "公共事务（道路）",
		Date:      time.Date(2026, 11, 28, 9, 5, 0, 0, cst),
		DutyPhone: "0371-64551234",
		Next:      "将在2026-12-03前办理；办好后可凭回执编号和查询密码查看结果。",
	}
	for _, paper := range []struct {
		name  string
		paper print.ReceiptPaper
	}{{"Roll80", print.Roll80}, {"A5", print.ReceiptA5}} {
		t.Run(paper.name, func(t *testing.T) {
			r := r
			r.Paper = paper.paper
			pdf := mustRender(t, &r)
			if n := pageCount(t, pdf); n != 1 {
				t.Fatalf("pages=%d, want 1", n)
			}
			wantText(t, pdfText(t, pdf, 0, 0), "问题受理回执", "LG-20261128-0042", "查询密码0736", "公共事务（道路）", "2026年11月28日 09:05", "0371-64551234", "刘沟村",
				"输入回执编号和查询密码", "查询密码只给自己用，不要告诉他人。", "2026-12-03前办理")
			wantCodes(t, pdf, 1, r.Token)
			wantInside(t, pdf, 1, nil)
		})
	}
}

func TestReceiptLongValues(t *testing.T) {
	r := &print.Receipt{
		Village:   "河南省郑州市荥阳市高村乡刘沟村（原西岭村、东岭村合并）",
		Code:      "LG-20261128-0042-EXTRA-LONG-CODE",
		Token:     "rc-7Hq2xWc9pLm4",
		Category:  "公共事务（林木病虫害、畜禽疫情、道路、水利设施损坏及其他需要协调的事项）",
		DutyPhone: "0371-64551234 / 13803710000",
	}
	pdf := mustRender(t, r)
	if n := pageCount(t, pdf); n != 1 {
		t.Fatalf("pages=%d, want 1: the roll is cut to the content", n)
	}
	wantInside(t, pdf, 1, nil)
	wantText(t, pdfText(t, pdf, 0, 0), "畜禽疫情", "13803710000")
	wantCodesQuick(t, pdf, 1, r.Token)
}

// Without the PIN (a node that does not hold the reporter's part) the
// receipt says where to ask for it.
func TestReceiptWithoutPIN(t *testing.T) {
	pdf := mustRender(t, &print.Receipt{Village: "刘沟村", Code: "LG-20261128-0042", Token: "rc-1"})
	wantText(t, pdfText(t, pdf, 0, 0), "查询密码请到受理问题的村值班室询问")
}
