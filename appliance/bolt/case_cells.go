package bolt

import (
	"encoding/binary"
	"errors"
	"sort"
	"strings"

	"gridbox/appliance"
)

// The statistics' sums (appliance.CaseContributions) are kept in two
// forms, so a fold does work per case and not per key it adds to (~500):
//
//   - v_case_cells: for the periods "*" and "M…", one record per cell
//     (key PERIOD "|" SCOPE) holding its dims. A run of folds sums the
//     cases' dims per month, village, group and category first and
//     spreads the sums over the cells once (statBatch). The place dims of
//     the widest scope ("town/…", "vil/…", "grp/…"), as many as the
//     places held, are counters in v_case_stats (key CELL "|" DIM).
//   - v_case_days: for the days, one record per case (key DAY "|" ID)
//     holding its place, category and dims; a day's sums are read by
//     summing the day's records that fall in the scope (dayDims). A day
//     holds tens of cases, a month's cell thousands.
const (
	bucketCaseCells = "v_case_cells"
	bucketCaseDays  = "v_case_days"
)

// statTuple is what decides which cells a case's dims go to.
type statTuple struct{ month, village, group, category string } // month: "M2026-11"

// statSums are a tuple's summed dims, and its place dims.
type statSums struct{ dims, place map[string]int64 }

// statBatch sums contributions per tuple until flushed.
type statBatch map[statTuple]*statSums

// add adds p (sign 1) or takes it away (sign -1).
func (b statBatch) add(p *appliance.StatParts, sign int64) {
	if p == nil {
		return
	}
	t := statTuple{month: appliance.StatMonth(p.Day), village: p.Village, group: p.Group, category: p.Category}
	s := b[t]
	if s == nil {
		s = &statSums{dims: map[string]int64{}, place: map[string]int64{}}
		b[t] = s
	}
	for d, n := range p.Dims {
		s.dims[d] += sign * n
	}
	for d, n := range p.PlaceDims() {
		s.place[d] += sign * n
	}
}

// flush adds the sums to the cells.
func (b statBatch) flush(tx *Tx) error {
	cells := map[string]map[string]int64{}
	add := func(cell string, dims map[string]int64) {
		m := cells[cell]
		if m == nil {
			m = map[string]int64{}
			cells[cell] = m
		}
		for d, n := range dims {
			m[d] += n
		}
	}
	places := map[string]int64{}
	for t, s := range b {
		p := appliance.StatParts{Village: t.village, Group: t.group, Category: t.category}
		for _, sc := range p.CellScopes() {
			for _, per := range []string{"*", t.month} {
				add(per+"|"+sc, s.dims)
				if p.PlaceScope(sc) {
					for d, n := range s.place {
						places[per+"|"+sc+"|"+d] += n
					}
				}
			}
		}
	}
	// The place dims grow with the places held (a city: thousands of
	// groups): counters of their own, not in the cell's record.
	pk := make([]string, 0, len(places))
	for k, n := range places {
		if n != 0 {
			pk = append(pk, k)
		}
	}
	sort.Strings(pk)
	for _, k := range pk {
		if err := tx.AddCounter(bucketCaseStats, k, places[k]); err != nil {
			return err
		}
	}
	keys := make([]string, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	bk := tx.Bucket(bucketCaseCells)
	for _, k := range keys {
		m := decodeDims(bk.Get([]byte(k)))
		for d, n := range cells[k] {
			m[d] += n
		}
		v := encodeDims(m)
		var err error
		if v == nil {
			err = bk.Delete([]byte(k))
		} else {
			err = bk.Put([]byte(k), v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cellDims are the dims of a cell ("*|v410184104201", "M2026-11|*"),
// with its place dims when it has them.
func cellDims(tx *Tx, cell string) map[string]int64 {
	m := decodeDims(tx.Bucket(bucketCaseCells).Get([]byte(cell)))
	if strings.HasPrefix(cell[strings.IndexByte(cell, '|')+1:], "*") {
		for d, n := range tx.Counters(bucketCaseStats, cell+"|") {
			m[d] = n
		}
	}
	return m
}

// putCaseDay replaces the day record of case id: old's removed, p's
// written (either may be nil).
func putCaseDay(tx *Tx, id string, old, p *appliance.StatParts) error {
	b := tx.Bucket(bucketCaseDays)
	if old != nil && (p == nil || old.Day != p.Day) {
		if err := b.Delete([]byte(old.Day + "|" + id)); err != nil {
			return err
		}
	}
	if p == nil {
		return nil
	}
	v := appendString(nil, p.Village)
	v = appendString(v, p.Group)
	v = appendString(v, p.Category)
	if p.Done {
		v = append(v, 1)
	} else {
		v = append(v, 0)
	}
	return b.Put([]byte(p.Day+"|"+id), append(v, encodeDims(p.Dims)...))
}

// dayDims adds to sum the dims of the cases reported on day that count in
// scope (a statsScope key) and category ("" all), as the day's cell
// PERIOD "D"+day would hold them.
func dayDims(tx *Tx, day, scope, category string, sum map[string]int64) error {
	c := tx.Bucket(bucketCaseDays).Cursor()
	prefix := day + "|"
	for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		p, err := decodeCaseDay(v)
		if err != nil {
			return err
		}
		if category != "" && p.Category != category {
			continue
		}
		in := scope == "*"
		for _, s := range p.Scopes()[1:] {
			in = in || s == scope
		}
		if !in {
			continue
		}
		for d, n := range p.Dims {
			sum[d] += n
		}
		if scope == "*" {
			for d, n := range p.PlaceDims() {
				sum[d] += n
			}
		}
	}
	return nil
}

func decodeCaseDay(v []byte) (*appliance.StatParts, error) {
	p := &appliance.StatParts{}
	var ok1, ok2, ok3 bool
	p.Village, v, ok1 = cutString(v)
	p.Group, v, ok2 = cutString(v)
	p.Category, v, ok3 = cutString(v)
	if !ok1 || !ok2 || !ok3 || len(v) == 0 {
		return nil, errors.New("bolt: bad case day record")
	}
	p.Done = v[0] == 1
	p.Dims = decodeDims(v[1:])
	return p, nil
}

// encodeDims writes dims in key order without the zeros; nil when all
// are zero. Sums give the same bytes whatever order they were made in.
func encodeDims(m map[string]int64) []byte {
	keys := make([]string, 0, len(m))
	for k, n := range m {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	var out []byte
	for _, k := range keys {
		out = appendString(out, k)
		out = binary.AppendVarint(out, m[k])
	}
	return out
}

// decodeDims reads encodeDims; a damaged tail is dropped (views are
// rebuilt by Reindex, and Verify compares them).
func decodeDims(v []byte) map[string]int64 {
	m := map[string]int64{}
	for len(v) > 0 {
		k, rest, ok := cutString(v)
		if !ok {
			break
		}
		n, w := binary.Varint(rest)
		if w <= 0 {
			break
		}
		m[k] = n
		v = rest[w:]
	}
	return m
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func cutString(v []byte) (string, []byte, bool) {
	n, w := binary.Uvarint(v)
	if w <= 0 || uint64(len(v)-w) < n {
		return "", nil, false
	}
	return string(v[w : w+int(n)]), v[w+int(n):], true
}
