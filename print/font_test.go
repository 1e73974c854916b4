package print_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"gridbox/print"
)

// Without a fallback font, what the built-in font cannot draw prints as
// the stand-in.
func TestPrintableWithoutFallback(t *testing.T) {
	print.FallbackFontsIn(t, t.TempDir())
	for _, tt := range []struct{ in, want string }{
		{"王秀兰 13803710000", "王秀兰 13803710000"},
		{"𠇔家村", "〓家村"}, // CJK Extension B
		{"李😀明", "李〓明"}, // emoji
		{"a\tb\r\nc\x00d", "a b\ncd"},
		{"ก", "〓"}, // Thai: not in the font
		{"", ""},
	} {
		if got := print.Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q)=%q, want %q", tt.in, got, tt.want)
		}
	}
}

// Characters above U+FFFF made gofpdf panic at output; without a fallback
// font they print as the stand-in, and the page says what it means.
func TestAstralCharactersNeverCrash(t *testing.T) {
	print.FallbackFontsIn(t, t.TempDir())
	c := sampleCard(0)
	c.Village = "𠇔家村"
	c.GridLeader = "李😀明"
	c.Services = []print.Service{{Name: "𠀀𠀁服务"}}
	pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{c}})
	wantText(t, pdfText(t, pdf, 0, 0), "〓家村网格服务明白卡", "李〓明", "〓〓服务", "“〓”处是本机字体无法印出的字")
	wantCodesQuick(t, pdf, 1, c.Token)

	r := &print.Receipt{Village: "𠇔家村", Code: "X-1", Token: "𠇔-token", Category: "🚧道路"}
	pdf = mustRender(t, r)
	wantText(t, pdfText(t, pdf, 0, 0), "〓家村", "〓道路", "“〓”处是本机字体无法印出的字")
	wantInside(t, pdf, 1, nil)
	// The QR code carries the caller's token unchanged.
	wantCodesQuick(t, pdf, 1, "𠇔-token")
}

func TestDeterministic(t *testing.T) {
	doc := &print.CardSheet{Cards: []print.Card{sampleCard(1), sampleCard(2)}}
	a, b := mustRender(t, doc), mustRender(t, doc)
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same cards differ")
	}
}

func TestKinds(t *testing.T) {
	for _, k := range print.Kinds() {
		doc, err := print.New(k.Name)
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind() != k.Name || k.Title == "" {
			t.Errorf("kind %q: Kind()=%q title=%q", k.Name, doc.Kind(), k.Title)
		}
		// An empty document of every kind renders.
		mustRender(t, doc)
	}
	if _, err := print.New("nope"); err == nil {
		t.Fatal("New(nope): want error")
	}
}

func TestRenderNil(t *testing.T) {
	if _, err := print.RenderBytes(nil, nil); err == nil {
		t.Fatal("nil document: want error")
	}
	if _, err := print.RenderBytes((*print.Receipt)(nil), nil); err == nil {
		t.Fatal("nil *Receipt: want error")
	}
}

// A UI can list the kinds and fill one from JSON.
func TestKindFromJSON(t *testing.T) {
	doc, err := print.New("receipt")
	if err != nil {
		t.Fatal(err)
	}
	in := `{"village":"刘沟村","code":"LG-20261128-0043","token":"rc-json-1","category":"民生服务",
		"date":"2026-11-28T10:30:00+08:00","duty_phone":"0371-64551234","paper":1}`
	if err := json.Unmarshal([]byte(in), doc); err != nil {
		t.Fatal(err)
	}
	pdf := mustRender(t, doc)
	wantText(t, pdfText(t, pdf, 0, 0), "LG-20261128-0043", "民生服务", "2026年11月28日 10:30")
	wantCodesQuick(t, pdf, 1, "rc-json-1")
}
