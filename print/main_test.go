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
	// Every document's characters should be in its font subsets; a redraw
	// is correct but slow.
	if n := print.Redraws(); n != 0 && code == 0 {
		fmt.Printf("FAIL: %d documents were drawn again for a character their subsets lacked\n", n)
		code = 1
	}
	os.Exit(code)
}
