package print

import (
	"bytes"
	"testing"
)

// outsider draws a character that is neither in its data nor in the
// package's texts, made at run time.
type outsider struct{}

func (outsider) Kind() string { return "outsider" }
func (outsider) draw(d *doc) error {
	d.addPage(pageA5, false)
	d.textAt(d.ml, d.y, 50, string(rune(0x4E00+20000)), left)
	return nil
}

// A character drawn that the document's subsets lack makes it drawn again
// with the character added.
func TestSubsetRedrawsWithMissedCharacter(t *testing.T) {
	before := redraws.Load()
	defer redraws.Add(-1)
	b, err := RenderBytes(outsider{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	if got := redraws.Load(); got != before+1 {
		t.Fatalf("redraws = %d, want %d", got, before+1)
	}
}
