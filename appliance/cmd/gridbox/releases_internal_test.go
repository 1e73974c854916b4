package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A releases folder left at 0750 by an older image (a StateDirectory) is
// opened to the kiosk's user at serve's start; an open one is left alone.
func TestOpenReleases(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gridbox-releases")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o750); err != nil { // whatever the umask
		t.Fatal(err)
	}
	openReleases(dir, io.Discard)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("after serve's start: %v %v, want 0755", fi.Mode().Perm(), err)
	}
	if err := os.Chmod(dir, 0o775); err != nil {
		t.Fatal(err)
	}
	openReleases(dir, io.Discard)
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o775 {
		t.Fatalf("an open folder was changed to %v", fi.Mode().Perm())
	}
}
