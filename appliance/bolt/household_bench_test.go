package bolt_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The city-sized archive: 15 towns × 24 villages × 8 groups, ~3 people a
// household, 1,000,000 people. GRIDBOX_BENCH_PEOPLE changes the size.
var (
	benchSurnames = []rune("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单")
	benchGiven    = []string{"建国", "建军", "国强", "志强", "伟", "军", "磊", "勇", "杰", "涛", "明", "超", "秀英", "桂英", "秀兰", "玉兰", "桂兰", "秀珍", "凤英", "玉梅", "秀菊", "丽", "静", "敏", "艳", "娟", "霞", "芳", "子豪", "一鸣", "梓涵", "雨桐", "思琪", "佳怡", "春梅", "冬梅", "德胜", "长青", "金山", "春生"}
)

type benchArchive struct {
	store   *bolt.Store
	people  []benchPerson // a sample to query for
	village []string      // village codes
	build   time.Duration
	total   int
}

type benchPerson struct{ name, id, phone, village string }

var benchCache *benchArchive

func buildBenchArchive(tb testing.TB, people int) *benchArchive {
	if benchCache != nil {
		return benchCache
	}
	start := time.Now()
	dir := os.Getenv("GRIDBOX_BENCH_DIR")
	if dir == "" {
		dir = tb.TempDir()
	}
	_, key, _ := ed25519.GenerateKey(nil)
	s, err := bolt.Open(filepath.Join(dir, fmt.Sprintf("bench-%d.db", time.Now().UnixNano())), key, &bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	a := &benchArchive{store: s}
	var groups []string
	_, err = s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
		var ds []appliance.Draft
		grid := func(g appliance.Grid) {
			ds = append(ds, appliance.Draft{Kind: appliance.KindGridSet, Version: 1, Body: g})
		}
		for t := 1; t <= 15; t++ {
			town := fmt.Sprintf("410184%03d000", 100+t)
			grid(appliance.Grid{Code: town, Level: 1, Name: fmt.Sprintf("第%d镇", t)})
			for v := 1; v <= 24; v++ {
				village := fmt.Sprintf("410184%03d%03d", 100+t, 200+v)
				a.village = append(a.village, village)
				grid(appliance.Grid{Code: village, Level: 2, Name: fmt.Sprintf("%d村", v), Parent: town})
				for g := 1; g <= 8; g++ {
					code := appliance.GroupCode(village, g)
					groups = append(groups, code)
					grid(appliance.Grid{Code: code, Level: 3, Name: fmt.Sprintf("第%d组", g), Parent: village})
				}
			}
		}
		return ds, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	rng := mrand.New(mrand.NewPCG(7, 7))
	used := make(map[string]bool, people)
	name := func() string {
		return string(benchSurnames[rng.IntN(len(benchSurnames))]) + benchGiven[rng.IntN(len(benchGiven))]
	}
	person := func(rel string, year int, male bool, village string) appliance.Person {
		var id string
		birth := time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)
		for {
			id = appliance.MakeCitizenID("41"+strconv.Itoa(1000 + rng.IntN(8999))[:4], birth, rng.IntN(1000), male)
			if !used[id] {
				used[id] = true
				break
			}
		}
		p := appliance.Person{Name: name(), Relation: rel, Residence: appliance.ResidenceHere, Dibao: rng.IntN(25) == 0,
			Sensitive: &appliance.Sensitive{IDNumber: id}}
		if rng.IntN(3) > 0 {
			p.Phone = fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1000000000))
		}
		if rng.IntN(5) == 0 {
			p.Residence, p.ResidenceWhere = appliance.ResidenceAway, "郑州"
		}
		if rng.IntN(40) == 0 {
			p.Sensitive.KeyCategories = []string{"留守老人"}
		}
		p.Normalize()
		if len(a.people) < 20000 && rng.IntN(50) == 0 {
			a.people = append(a.people, benchPerson{p.Name, id, p.Phone, village})
		}
		return p
	}
	made, households := 0, 0
	for made < people {
		// bbolt splits nodes only at commit: a transaction's random inserts
		// pile into the few leaves a small tree has, so batches grow with
		// the tree (a third of what exists), keeping leaves small and
		// commits few.
		batch := min(max(households/3, 300), 60000)
		households += batch
		_, err := s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
			var ds []appliance.Draft
			for i := 0; i < batch && made < people; i++ {
				g := groups[rng.IntN(len(groups))]
				village := g[:12]
				h := appliance.Household{ID: s.NewRecordID("h"), Group: g, Address: "某村某组" + strconv.Itoa(i) + "号"}
				hy := 1940 + rng.IntN(50)
				ms := []appliance.Person{person("户主", hy, true, village)}
				if rng.IntN(8) > 0 {
					ms = append(ms, person("配偶", hy+rng.IntN(4), false, village))
				}
				for k := rng.IntN(3); k > 0; k-- {
					male := rng.IntN(2) == 0
					ms = append(ms, person(map[bool]string{true: "子", false: "女"}[male], hy+22+rng.IntN(12), male, village))
				}
				for j := range ms {
					ms[j].ID, ms[j].Household = s.NewRecordID("p"), h.ID
				}
				h.Head = ms[0].ID
				made += len(ms)
				d, err := tx.ArchiveDraft("", appliance.ArchiveChange{Event: appliance.EventImport, Households: []appliance.Household{h}, Members: ms})
				if err != nil {
					return nil, err
				}
				ds = append(ds, d)
			}
			return ds, nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	a.total, a.build = made, time.Since(start)
	benchCache = a
	return a
}

// BenchmarkHouseholdSearch1M builds a city-sized archive (GRIDBOX_BENCH_1M=1;
// 1,000,000 people unless GRIDBOX_BENCH_PEOPLE says otherwise) and measures
// the latency of a mix of searches: pinyin initials and full pinyin, names,
// full ID numbers and their last 4 and 6 characters, phones, filters, in a
// city-wide and in a village scope. Reported: p50, p95, p99, max.
func BenchmarkHouseholdSearch1M(b *testing.B) {
	if os.Getenv("GRIDBOX_BENCH_1M") != "1" {
		b.Skip("set GRIDBOX_BENCH_1M=1 to build the 1,000,000-person archive")
	}
	n := 1000000
	if v, err := strconv.Atoi(os.Getenv("GRIDBOX_BENCH_PEOPLE")); err == nil && v > 0 {
		n = v
	}
	a := buildBenchArchive(b, n)
	st, _ := a.store.Stats()
	if b.N > 1 {
		fmt.Fprintf(os.Stderr, "archive: %d people, %d entries, %d MB file, built in %s\n", a.total, st.Entries, st.FileSize>>20, a.build.Round(time.Second))
	}
	rng := mrand.New(mrand.NewPCG(1, 1))
	queries := func(i int) (string, appliance.PersonFilter) {
		p := a.people[rng.IntN(len(a.people))]
		keys := appliance.PinyinKeys(p.name)
		switch i % 10 {
		case 0:
			return "initials", appliance.PersonFilter{Query: keys[1]}
		case 1:
			return "full pinyin", appliance.PersonFilter{Query: keys[0]}
		case 2:
			return "name", appliance.PersonFilter{Query: p.name}
		case 3:
			return "full ID", appliance.PersonFilter{Query: p.id}
		case 4:
			return "ID last 4", appliance.PersonFilter{Query: p.id[14:]}
		case 5:
			return "ID last 6", appliance.PersonFilter{Query: p.id[12:]}
		case 6:
			return "phone", appliance.PersonFilter{Query: p.phone}
		case 7:
			return "initials in village", appliance.PersonFilter{Query: keys[1][:2], Scope: p.village}
		case 8:
			return "dibao in village", appliance.PersonFilter{Dibao: true, Scope: p.village}
		default:
			return "alone 80+ away city-wide", appliance.PersonFilter{Alone80: true, Away: true}
		}
	}
	var all []time.Duration
	byKind := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		kind, f := queries(i)
		t0 := time.Now()
		if _, _, err := a.store.FindPeople(f); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		all = append(all, d)
		byKind[kind] = append(byKind[kind], d)
	}
	b.StopTimer()
	pct := func(ds []time.Duration, p float64) time.Duration {
		s := append([]time.Duration(nil), ds...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[int(float64(len(s)-1)*p)]
	}
	b.ReportMetric(float64(pct(all, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(pct(all, 0.95).Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(pct(all, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pct(all, 1).Microseconds())/1000, "max-ms")
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		if b.N > 1 {
			fmt.Fprintf(os.Stderr, "%-26s n=%-5d p50=%-8s p99=%-8s max=%s\n", k, len(byKind[k]), pct(byKind[k], 0.5).Round(time.Microsecond),
				pct(byKind[k], 0.99).Round(time.Microsecond), pct(byKind[k], 1).Round(time.Microsecond))
		}
	}
}
