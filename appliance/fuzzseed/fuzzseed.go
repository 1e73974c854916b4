// Package fuzzseed adds named seeds to fuzz targets and, when asked, writes
// them into the target's committed corpus (testdata/fuzz/FuzzXxx/seed-NAME,
// in the format of `go test -fuzz`). Seeds made at test time from real
// parts (entries from a store, messages of a real exchange) vary from run
// to run; the committed copies keep one set of them for every fuzz run and
// for review.
//
// Regenerate the committed seeds of a package with
//
//	GRIDBOX_FUZZ_SEEDS=write go test -run '^Fuzz' ./PACKAGE
//
// which replaces the target's seed-* files and leaves other corpus files
// (inputs that once failed) alone.
package fuzzseed

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
)

// Writing reports whether seeds are being written (GRIDBOX_FUZZ_SEEDS=write):
// targets may then add seeds that are too slow to make on every run.
func Writing() bool { return os.Getenv("GRIDBOX_FUZZ_SEEDS") == "write" }

var (
	mu      sync.Mutex
	cleared = map[string]bool{}
	nameRE  = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
)

// Add adds args as a seed of f and, when Writing, writes it as seed-name.
func Add(f *testing.F, name string, args ...any) {
	f.Helper()
	f.Add(args...)
	if !Writing() {
		return
	}
	dir := filepath.Join("testdata", "fuzz", f.Name())
	mu.Lock()
	defer mu.Unlock()
	if !cleared[dir] {
		cleared[dir] = true
		old, _ := filepath.Glob(filepath.Join(dir, "seed-*"))
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				f.Fatal(err)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	data, err := Marshal(args...)
	if err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "seed-"+nameRE.ReplaceAllString(name, "_"))
	if _, err := os.Stat(path); err == nil {
		f.Fatalf("two seeds named %q", name)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		f.Fatal(err)
	}
}

// Marshal encodes args as a corpus file of `go test -fuzz` ("go test fuzz
// v1" and one Go literal a line).
func Marshal(args ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case byte:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool, int, int64, uint, uint16, uint64:
			fmt.Fprintf(&b, "%T(%v)\n", v, v)
		default:
			return nil, fmt.Errorf("fuzzseed: %T not supported", a)
		}
	}
	return b.Bytes(), nil
}
