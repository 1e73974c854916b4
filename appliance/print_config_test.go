package appliance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbox/appliance"
)

// [print] printers maps document kinds to CUPS queues; a bad queue name
// stops the node at start, naming the setting.
func TestPrintConfig(t *testing.T) {
	base := "[node]\nrole = \"village\"\ncode = \"410184104201\"\nname = \"杏花村\"\n"
	for _, tt := range []struct {
		name, print, err string
	}{
		{"OK", "[print]\nprinter = \"laser\"\nfont_dirs = [\"/opt/fonts\"]\n[print.printers]\nreceipt = \"thermal\"\nreceipt-a5 = \"laser\"\n", ""},
		{"ErrQueueSpace", "[print]\nprinter = \"my laser\"\n", "print.printer"},
		{"ErrQueueEmpty", "[print.printers]\nreceipt = \"\"\n", "print.printers"},
		{"ErrQueueSlash", "[print.printers]\nnotice = \"a/b\"\n", "print.printers"},
		{"ErrKindSpace", "[print.printers]\n\"my receipt\" = \"thermal\"\n", "print.printers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), appliance.ConfigFile)
			if err := os.WriteFile(path, []byte(base+tt.print), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := appliance.LoadConfig(path)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("err = %v, want one naming %s", err, tt.err)
			case tt.err == "" && (cfg.Print.Printers["receipt-a5"] != "laser" || cfg.Print.FontDirs[0] != "/opt/fonts"):
				t.Fatalf("print config = %+v", cfg.Print)
			}
		})
	}
}
