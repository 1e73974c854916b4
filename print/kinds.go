package print

import (
	"fmt"
	"sort"
)

// A Kind describes one document kind for a UI to list and fill in.
type Kind struct {
	Name  string // registry name, e.g. "card"
	Title string // Chinese title to show, e.g. "服务明白卡"
	// New returns an empty document of this kind (a pointer), ready to be
	// filled, e.g. by decoding JSON into it.
	New func() Document
}

var kinds = map[string]Kind{}

// register is called from each document file's init.
func register(k Kind) {
	if _, dup := kinds[k.Name]; dup {
		panic("print: kind registered twice: " + k.Name)
	}
	kinds[k.Name] = k
}

// Kinds lists the document kinds by name.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for _, k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// New returns an empty document of the named kind.
func New(kind string) (Document, error) {
	k, ok := kinds[kind]
	if !ok {
		return nil, fmt.Errorf("print: unknown document kind %q", kind)
	}
	return k.New(), nil
}
