package ttc_test

import (
	"os"
	"testing"

	"gridbox/print/internal/ttc"
)

func TestExtractAndCoverage(t *testing.T) {
	ttf, err := os.ReadFile("../../font/wqy-microhei.ttf")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ttc.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "张秀菊网格长0123456789ABCxyz，。〓□（）" {
		if !c.Has(r) {
			t.Errorf("font lacks %q", r)
		}
	}
	for _, r := range []rune{0x20094, 0x1F600, 0x0E01} {
		if c.Has(r) {
			t.Errorf("coverage claims %U", r)
		}
	}
	if _, err := ttc.Extract(ttf, 0); err == nil {
		t.Fatal("Extract of a plain .ttf: want error")
	}
	src := "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	data, err := os.ReadFile(src)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s (CI=true: fonts-wqy-microhei is installed by .ci/install-deps): %v", src, err)
		}
		t.Skipf("no %s (with CI=true this fails): %v", src, err)
	}
	got, err := ttc.Extract(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(ttf) {
		t.Fatal("committed font differs from a fresh extraction")
	}
}

func TestSubset(t *testing.T) {
	ttf, err := os.ReadFile("../../font/wqy-microhei.ttf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ttc.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	want := []rune("刘沟村网格服务明白卡0123456789-：〓ÀÄ½") // À Ä ½ and many CJK glyphs are composite
	sub, err := f.Subset(append(want, 0x20094, 'a', 'b', 'c'))
	if err != nil {
		t.Fatal(err)
	}
	if len(sub) > 60000 {
		t.Fatalf("subset is %d bytes", len(sub))
	}
	g, err := ttc.Parse(sub)
	if err != nil {
		t.Fatalf("parse subset: %v", err)
	}
	for _, r := range append(want, 'a', 'b', 'c') {
		if !g.Has(r) {
			t.Errorf("subset lacks %q", r)
		}
	}
	if g.Has('张') {
		t.Error("subset has a character not asked for")
	}
}
