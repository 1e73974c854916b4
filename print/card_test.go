package print_test

import (
	"strconv"
	"strings"
	"testing"

	"gridbox/print"
)

func TestCard(t *testing.T) {
	t.Run("Single", func(t *testing.T) {
		c := sampleCard(0)
		pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{c}, Layout: print.CardSingle})
		wantText(t, pdfText(t, pdf, 0, 0), "刘沟村网格服务明白卡", "王秀兰", c.LeaderPhone, "0371-64551234", "低保申请", "医保缴费", "第1村民小组")
		wantCodes(t, pdf, 1, c.Token)
	})
	t.Run("OneOnSheet", func(t *testing.T) {
		c := sampleCard(0)
		pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{c}})
		if n := pageCount(t, pdf); n != 1 {
			t.Fatalf("pages=%d, want 1", n)
		}
		wantText(t, pdfText(t, pdf, 0, 0), "第 1/1 页", "王秀兰")
		wantCodesQuick(t, pdf, 1, c.Token)
	})
	t.Run("SheetOfEight", func(t *testing.T) {
		var cards []print.Card
		var tokens []string
		for i := 0; i < 8; i++ {
			cards = append(cards, sampleCard(i))
			tokens = append(tokens, cards[i].Token)
		}
		pdf := mustRender(t, &print.CardSheet{Cards: cards})
		if n := pageCount(t, pdf); n != 1 {
			t.Fatalf("pages=%d, want 1", n)
		}
		wantText(t, pdfText(t, pdf, 0, 0), "沿裁切线裁开", "刘沟村8组8号")
		wantCodes(t, pdf, 1, tokens...)
	})
	t.Run("LongAndEmptyValues", func(t *testing.T) {
		long := print.Card{
			Village:     "河南省郑州市荥阳市高村乡刘沟村",
			Group:       "第十二村民小组（含原西岭自然村、东岭自然村）",
			GridLeader:  "欧阳司马诸葛慕容上官秀兰",
			LeaderPhone: "13803710000 / 0371-64550000 转 8001",
			DutyPhone:   "0371-64551234",
			Services:    append(append([]print.Service{}, services...), services...),
			Token:       strings.Repeat("long-token-", 12),
		}
		empty := print.Card{}
		pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{long, empty, long}})
		wantText(t, pdfText(t, pdf, 0, 0), "欧阳司马诸葛慕容上官秀兰", "网格长：________", "请咨询网格长")
		wantCodes(t, pdf, 1, long.Token, long.Token)
		// Every word stays inside its own card (or in the sheet's title).
		const x0, y0 = (210 - 2*86) / 2.0, (297 - 4*54) / 2.0
		wantInside(t, pdf, 1, func(w word) (x, y, wd, ht float64) {
			cx, cy := (w.xMin+w.xMax)/2/mmPt, (w.yMin+w.yMax)/2/mmPt
			if cy < y0 {
				return 0, 0, 210, y0
			}
			col, row := int((cx-x0)/86), int((cy-y0)/54)
			return x0 + float64(col)*86, y0 + float64(row)*54, 86, 54
		})

		pdf = mustRender(t, &print.CardSheet{Cards: []print.Card{long}, Layout: print.CardSingle})
		wantInside(t, pdf, 1, nil)
		wantCodesQuick(t, pdf, 1, long.Token)
	})
	t.Run("ThreeHundred", func(t *testing.T) {
		var cards []print.Card
		for i := 0; i < 300; i++ {
			cards = append(cards, sampleCard(i))
		}
		pdf := mustRender(t, &print.CardSheet{Cards: cards})
		if got, want := pageCount(t, pdf), 38; got != want {
			t.Fatalf("pages=%d, want %d", got, want)
		}
		var tokens []string
		for i := 296; i < 300; i++ {
			tokens = append(tokens, cards[i].Token)
		}
		wantCodesQuick(t, pdf, 38, tokens...)
		wantText(t, pdfText(t, pdf, 38, 38), "第 38/38 页", "刘沟村"+strconv.Itoa(299%12+1)+"组300号")
	})
}

// thousandCards is a village of 1,000 households with QR codes as the box
// prints them: a URL at the box's address holding a signed token.
func thousandCards() ([]print.Card, []string) {
	cards := make([]print.Card, 1000)
	tokens := make([]string, len(cards))
	for i := range cards {
		cards[i] = sampleCard(i)
		cards[i].Token = "https://xinghua.example.cn/scan?token=HQ3ZK7M2Q9XD" + strconv.Itoa(7340000000000000000+i*7919)
		tokens[i] = cards[i].Token
	}
	return cards, tokens
}

// Every card of a 1,000-household sheet (125 pages) decodes, at 150 dpi from
// poppler and Ghostscript; BenchmarkCardSheetDecode checks 300 and 600 dpi.
func TestCardSheetThousand(t *testing.T) {
	cards, tokens := thousandCards()
	pdf := mustRender(t, &print.CardSheet{Cards: cards})
	if got, want := pageCount(t, pdf), 125; got != want {
		t.Fatalf("pages=%d, want %d", got, want)
	}
	for _, r := range renderers {
		wantEveryCode(t, pdf, 1, 125, tokens, r, 150)
	}
}
