package replicate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate"
)

// The synthetic replication benchmark, a lower bound (docs/performance.md,
// "Replication"; the real thing is TestBenchRealCases):
//
//	GRIDBOX_BENCH=1 go test ./replicate -run TestBenchSynthetic -v -timeout 10m
//
// 50,000 case-like entries of kind bench.case (~480 bytes of Chinese text
// each, no sealed part) that no view folds, written at a village box, then
// synced to an empty town node, both real processes on loopback with the
// production intervals.

var (
	benchPlaces = []string{"村东头", "村西口", "二组", "三组", "五组", "小学门口", "卫生室旁", "水库下游", "村委会北侧", "老戏台", "桥头", "养殖场附近", "果园", "麦场", "沿河路"}
	benchWhat   = []string{"道路破损，雨天积水严重，影响群众出行", "路灯不亮已有一周，夜间行走不便", "自来水管爆裂，部分农户停水", "有人在河道倾倒建筑垃圾", "违章搭建彩钢棚，占用公共通道", "秸秆焚烧，烟雾较大", "流浪犬伤人，群众担心安全", "排水沟堵塞，污水外溢", "危房一处，墙体开裂有倒塌风险", "林木出现病虫害，叶片大面积枯黄", "养殖户病死猪未按规定处理", "低保户反映生活困难，申请临时救助", "邻里因宅基地边界发生纠纷", "广场舞音响声音过大，影响休息", "小卖部疑似销售过期食品", "留守老人独居，行动不便需要照顾"}
	benchAsk    = []string{"请尽快安排维修。", "希望村里协调解决。", "请相关部门到现场查看。", "建议上报乡镇处理。", "已电话告知网格长。", "群众情绪平稳，等待答复。", "请在三日内回复处理结果。"}
	benchNames  = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"}
	benchCats   = []string{"public_affairs", "livelihood", "illegal_construction", "work_safety", "public_opinion", "petition"}
	benchSrc    = []string{"patrol", "walk_in", "phone", "suggestion_box", "kiosk"}
)

// benchCase is a case report of about 480 bytes of JSON, mostly Chinese.
func benchCase(r *rand.Rand, i int) map[string]any {
	var text strings.Builder
	for text.Len() < 300 {
		fmt.Fprintf(&text, "%s%s（约%d米处）%s，", benchPlaces[r.IntN(len(benchPlaces))], benchWhat[r.IntN(len(benchWhat))], 10+r.IntN(490), benchAsk[r.IntN(len(benchAsk))])
	}
	return map[string]any{
		"id":       fmt.Sprintf("c%06d", i),
		"category": benchCats[r.IntN(len(benchCats))],
		"source":   benchSrc[r.IntN(len(benchSrc))],
		"grid":     fmt.Sprintf("%s-%02d", villageCode, 1+r.IntN(12)),
		"reporter": benchNames[r.IntN(len(benchNames))] + "某某",
		"phone":    fmt.Sprintf("138****%04d", r.IntN(10000)),
		"text":     text.String(),
	}
}

func TestBenchSynthetic(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the replication benchmark")
	}
	const n = 50000
	town, village := procClusterWith(t, false, nil)
	r := rand.New(rand.NewPCG(1, 2))
	var ndjson bytes.Buffer
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	feed, head := village.appendEntries(n, func(i int) appliance.Draft {
		body := benchCase(r, i)
		// The same record as a document store would hold it.
		doc := map[string]any{"_id": body["id"], "time": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "author": "u-admin", "kind": "bench.case"}
		for k, v := range body {
			doc[k] = v
		}
		line, _ := json.Marshal(doc)
		ndjson.Write(line)
		ndjson.WriteByte('\n')
		return appliance.Draft{Author: "u-admin", Kind: "bench.case", Version: 1, Body: body}
	})
	want := float64(town.entries() + head)
	town.Serve()
	start := time.Now()
	village.Serve()
	waitFor(t, 120*time.Second, "all entries at the town", func() bool { return town.Metric("gridbox_ledger_entries") == want })
	elapsed := time.Since(start)
	wire := village.Metric("gridbox_replicate_peer_sent_bytes_total") + village.Metric("gridbox_replicate_peer_received_bytes_total")
	rss := town.PeakRSS()

	nd := filepath.Join(t.TempDir(), "cases.ndjson")
	os.WriteFile(nd, ndjson.Bytes(), 0o600)
	if out, err := exec.Command("zstd", "-q", "-19", "-f", nd, "-o", nd+".zst").CombinedOutput(); err != nil {
		t.Fatalf("zstd -19: %v %s", err, out)
	}
	zst, _ := os.Stat(nd + ".zst")
	t.Logf("%d entries village → town (process start to views folded): %s", int(head), elapsed.Round(time.Millisecond))
	t.Logf("bytes on the wire (replication messages): %.0f; NDJSON %d, zstd -19 of it %d; ratio %.2f",
		wire, ndjson.Len(), zst.Size(), wire/float64(zst.Size()))
	t.Logf("average body %d bytes; town peak RSS %.1f MiB", ndjson.Len()/n, float64(rss)/(1<<20))

	// What other choices would put on the wire, in batches of 10,000.
	town.Stop()
	village.Stop()
	var es []*appliance.Entry
	village.withStore(func(s *bolt.Store) { es, _ = s.Entries(feed, 1, n+10) })
	for _, c := range []struct {
		name  string
		level zstd.EncoderLevel
	}{{"default", zstd.SpeedDefault}, {"better", zstd.SpeedBetterCompression}, {"best", zstd.SpeedBestCompression}} {
		total := 0
		start := time.Now()
		for i := 0; i < len(es); i += 10000 {
			total += replicate.BatchSize(es[i:min(i+10000, len(es))], c.level)
		}
		t.Logf("zstd %-8s %9d bytes, ratio %.2f, %s", c.name, total, float64(total)/float64(zst.Size()), time.Since(start).Round(time.Millisecond))
	}
}
