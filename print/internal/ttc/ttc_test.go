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

// A fallback font is read from its file (format 12 cmap, outlines on
// demand), and characters above U+FFFF are renamed into the BMP in its
// subsets, since gofpdf writes 16-bit codes.
func TestOpenFileAndSubsetAs(t *testing.T) {
	const path = "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"
	file, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no %s (CI=true: fonts-hanazono is installed by .ci/install-deps): %v", path, err)
		}
		t.Skipf("no %s (with CI=true this fails): %v", path, err)
	}
	defer file.Close()
	st, _ := file.Stat()
	f, err := ttc.Open(file, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []rune{0x201D4, 0x20BB7, 0x21484, 0x2A700, 0x2B740, 0x2B820, 0x2CEB0} { // Ext B×3, C, D, E, F
		if !f.Has(r) {
			t.Errorf("HanaMinB lacks %U", r)
		}
	}
	if n := f.Count(0x20000, 0x2A6DF); n < 40000 {
		t.Errorf("HanaMinB has %d characters of Extension B", n)
	}
	sub, err := f.SubsetAs([]rune{0x20BB7, 0x201D4, '张'}, []rune{0xE000, 0xE001, '张'})
	if err != nil {
		t.Fatal(err)
	}
	g, err := ttc.Parse(sub)
	if err != nil {
		t.Fatalf("parse subset: %v", err)
	}
	if !g.Has(0xE000) || !g.Has(0xE001) || g.Has(0x20BB7) || g.Has(0xE002) {
		t.Error("the subset's cmap does not hold exactly the renamed characters")
	}
	if len(sub) > 20000 {
		t.Errorf("subset of two characters is %d bytes", len(sub))
	}
	if _, err := f.SubsetAs([]rune{0x20BB7}, []rune{0x20BB7}); err == nil {
		t.Error("a code above U+FFFF in a subset: want error")
	}
}
