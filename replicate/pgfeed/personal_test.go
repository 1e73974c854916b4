package pgfeed_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"gridbox/appliance/bolt"
	"gridbox/replicate/pgfeed/pgtest"
)

// personal is what must not leave the node: the names, ID numbers and
// phones of the archive's people, households' addresses and phones, the
// reporters' names and phones, the staff's names, and the free text of
// cases (descriptions, results, notes), which may hold any of these.
func personal(tb testing.TB, cs *bolt.Cases) (needles map[string]string) {
	tb.Helper()
	needles = map[string]string{}
	add := func(what, s string) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) >= 2 {
			needles[s] = what
		}
	}
	hs, err := cs.Store.Households("", 0, "")
	if err != nil {
		tb.Fatal(err)
	}
	var ids, phones int
	for _, h := range hs {
		_, ms, err := cs.Store.Household(h.ID)
		if err != nil {
			tb.Fatal(err)
		}
		add("address", h.Address)
		add("phone", h.Phone)
		for _, p := range ms {
			add("name", p.Name)
			if p.Phone != "" {
				add("phone", p.Phone)
				phones++
			}
			if p.Sensitive != nil && p.Sensitive.IDNumber != "" {
				add("ID number", p.Sensitive.IDNumber)
				ids++
			}
		}
	}
	cases, _ := townCaseRows(tb, cs)
	var reporters int
	for id, c := range cases {
		if r, err := cs.Reporter(id); err == nil {
			add("reporter's name", r.Name)
			add("reporter's phone", r.Phone)
			reporters++
		}
		for _, text := range []string{c.Description, c.Result, c.Reply, c.Reason} {
			add("case text", text)
		}
		for _, s := range c.Steps {
			add("step text", s.Text)
			add("assignee", s.Assignee)
		}
	}
	users, err := cs.Store.Users()
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range users {
		add("staff name", u.Name)
	}
	if len(hs) < 500 || ids < 1000 || phones < 300 || reporters < 20 {
		tb.Fatalf("the demo town holds %d households, %d ID numbers, %d phones, %d reporters: too few to check with", len(hs), ids, phones, reporters)
	}
	return needles
}

// found returns the personal strings within text.
func found(text string, needles map[string]string) []string {
	var out []string
	for n, what := range needles {
		if strings.Contains(text, n) {
			out = append(out, what+" "+n)
		}
	}
	return out
}

// TestFeedNoPersonalData scans every text, array and JSON column of every
// table the feed writes for the town's people's names, ID numbers and
// phones, addresses, reporters, staff names and case texts: none is there.
func TestFeedNoPersonalData(t *testing.T) {
	cs := demoTown(t)
	needles := personal(t, cs)
	if got := found("反映人 张秀菊 电话 13812345678", map[string]string{"张秀菊": "name"}); len(got) != 1 {
		t.Fatalf("the scan misses a name: %v", got)
	}
	pg := pgtest.Start(t)
	feed(t, cs, pg.URL(), 2000)
	conn := connect(t, pg.URL())
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = 'gridbox' AND t.table_type = 'BASE TABLE'
		AND c.data_type IN ('text', 'ARRAY', 'jsonb', 'character varying')`)
	if err != nil {
		t.Fatal(err)
	}
	var cols [][2]string
	for rows.Next() {
		var tbl, col string
		rows.Scan(&tbl, &col)
		cols = append(cols, [2]string{tbl, col})
	}
	if rows.Err() != nil || len(cols) < 20 {
		t.Fatalf("%d text columns found (%v): want every table's", len(cols), rows.Err())
	}
	scanned := 0
	for _, c := range cols {
		values := rowsOf(t, conn, "SELECT DISTINCT "+c[1]+"::text FROM gridbox."+c[0]+" WHERE "+c[1]+" IS NOT NULL")
		scanned += len(values)
		if hits := found(strings.Join(values, "\n"), needles); len(hits) > 0 {
			if len(hits) > 5 {
				hits = hits[:5]
			}
			t.Errorf("gridbox.%s.%s holds personal data: %v", c[0], c[1], hits)
		}
	}
	if scanned < 500 {
		t.Errorf("scanned only %d distinct values", scanned)
	}
	t.Logf("%d personal strings looked for in %d distinct values of %d columns", len(needles), scanned, len(cols))
}
