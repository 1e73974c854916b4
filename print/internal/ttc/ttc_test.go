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
	c, err := ttc.BMPCoverage(ttf)
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
		t.Skipf("no %s: %v", src, err)
	}
	got, err := ttc.Extract(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(ttf) {
		t.Fatal("committed font differs from a fresh extraction")
	}
}
