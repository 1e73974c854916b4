package print_test

import (
	"fmt"
	"os"
	"testing"

	"gridbox/print"
)

func TestMain(m *testing.M) {
	if os.Getenv("PRINT_RSS_CHILD") == "1" {
		os.Exit(peakRSSChild())
	}
	code := m.Run()
	// Every document's characters should be in its font subset; a redraw
	// with the whole font is correct but slow.
	if n := print.FullFontRedraws(); n != 0 && code == 0 {
		fmt.Printf("FAIL: %d documents were drawn again with the whole font\n", n)
		code = 1
	}
	os.Exit(code)
}
