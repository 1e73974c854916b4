package print

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gridbox/print/internal/ttc"
)

// Fallback fonts draw the characters the built-in font lacks: the rare
// characters of names (生僻字) in CJK Extension A and Extensions B–F, which
// GB 18030-2022 requires and real villagers' names hold (𠇔, 𠮷, 𡒄, 䶮).
// They are too big to build in (Hanazono Mincho, Debian's fonts-hanazono,
// is 53 MB), so the box finds them at run time in the system font folders,
// reads only their small tables, and cuts from them, like from the built-in
// font, a subset holding a document's characters. Each character is drawn
// with the first font that has it: the built-in one, then the fallbacks.

// DefaultFontDirs are the folders searched for fallback fonts when the
// configuration names none.
var DefaultFontDirs = []string{"/usr/share/fonts", "/usr/local/share/fonts"}

// A fallback font must hold at least this many characters of Extension A
// or of Extensions B–F to be used.
const fallbackMinChars = 1000

// fallbackFont is a font file found on the system.
type fallbackFont struct {
	name string // file name, e.g. HanaMinB.ttf
	path string
	font *ttc.Font
	file *os.File // open for the process: outlines are read from it
}

var fallbacks struct {
	sync.Mutex
	dirs   []string
	loaded bool
	fonts  []*fallbackFont
}

// SetFontDirs sets the folders searched for fallback fonts (nil: the
// defaults) and forgets the fonts found so far; the print service sets
// them from the configuration.
func SetFontDirs(dirs []string) {
	fallbacks.Lock()
	defer fallbacks.Unlock()
	for _, f := range fallbacks.fonts {
		f.file.Close()
	}
	fallbacks.dirs, fallbacks.loaded, fallbacks.fonts = dirs, false, nil
}

// FallbackFonts lists the fallback fonts in use (file names), searching the
// font folders on first use. Empty: characters the built-in font lacks
// print as StandIn.
func FallbackFonts() []string {
	var out []string
	for _, f := range fallbackFonts() {
		out = append(out, f.name)
	}
	return out
}

func fallbackFonts() []*fallbackFont {
	fallbacks.Lock()
	defer fallbacks.Unlock()
	if !fallbacks.loaded {
		fallbacks.loaded = true
		dirs := fallbacks.dirs
		if dirs == nil {
			dirs = DefaultFontDirs
		}
		fallbacks.fonts = findFallbacks(dirs)
	}
	return fallbacks.fonts
}

// fallbackFor is the index of the first fallback font that has r, -1 if
// none has it.
func fallbackFor(r rune) int {
	for i, f := range fallbackFonts() {
		if f.font.Has(r) {
			return i
		}
	}
	return -1
}

func hasFallback(r rune) bool { return fallbackFor(r) >= 0 }

// Unicode blocks of the rare characters.
var (
	extA    = [2]rune{0x3400, 0x4DBF}
	extBtoF = [][2]rune{{0x20000, 0x2A6DF}, {0x2A700, 0x2B73F}, {0x2B740, 0x2B81F}, {0x2B820, 0x2CEAF}, {0x2CEB0, 0x2EBEF}}
)

// findFallbacks walks dirs for TrueType fonts covering Extension A or
// Extensions B–F, those with more of B–F first. Fonts that cannot be read
// (CFF outlines, collections, damaged files) are skipped.
func findFallbacks(dirs []string) []*fallbackFont {
	type found struct {
		f         *fallbackFont
		sip, extA int
	}
	var all []found
	seen := map[string]bool{} // a font linked under another name (Debian's alternatives) counts once
	for _, dir := range dirs {
		filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(path)); ext != ".ttf" && ext != ".otf" {
				return nil
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil || seen[real] {
				return nil
			}
			seen[real] = true
			file, err := os.Open(path)
			if err != nil {
				return nil
			}
			st, err := file.Stat()
			if err != nil {
				file.Close()
				return nil
			}
			font, err := ttc.Open(file, st.Size())
			if err != nil {
				file.Close()
				return nil
			}
			fd := found{f: &fallbackFont{name: filepath.Base(real), path: real, font: font, file: file}, extA: font.Count(extA[0], extA[1])}
			for _, b := range extBtoF {
				fd.sip += font.Count(b[0], b[1])
			}
			if fd.sip < fallbackMinChars && fd.extA < fallbackMinChars {
				file.Close()
				return nil
			}
			all = append(all, fd)
			return nil
		})
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].sip != all[j].sip {
			return all[i].sip > all[j].sip
		}
		if all[i].extA != all[j].extA {
			return all[i].extA > all[j].extA
		}
		return all[i].f.path < all[j].f.path
	})
	out := make([]*fallbackFont, len(all))
	for i, fd := range all {
		out[i] = fd.f
	}
	return out
}
