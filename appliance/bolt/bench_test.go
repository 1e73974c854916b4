package bolt_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// benchNotice is a notice.set draft whose JSON body is about 300 bytes.
func benchNotice(i int) appliance.Draft {
	return appliance.Draft{Author: "u1", Kind: appliance.KindNoticeSet, Version: 1, Body: appliance.Notice{
		Grid: "410184104201", ID: fmt.Sprintf("n%d", i%1000), Title: "关于冬季防火和用电安全的通知",
		Body:      "各位村民：入冬以来气候干燥，请不要在田间地头焚烧秸秆，冬季取暖注意用电安全，发现隐患请及时拨打村委会值班电话报告。",
		Published: "2026-11-28",
	}}
}

// benchEntrySize is the encoded size of one entry made from benchNotice.
func benchEntrySize(tb testing.TB) int {
	s := appliance.NewSigner(NewKey(tb))
	e, err := s.Seal(benchNotice(0), nil, appliance.HLCFromTime(time.Now()))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := e.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return len(data)
}

// BenchmarkAppendFsync is one Store.Append of one ~300-byte body per op,
// each durable (fsync) before it returns.
func BenchmarkAppendFsync(b *testing.B) {
	benchmarkAppend(b, nil)
}

// BenchmarkAppendNoSync is the same without fsync: the CPU cost of an append.
func BenchmarkAppendNoSync(b *testing.B) {
	benchmarkAppend(b, &bolt.Options{NoSync: true})
}

func benchmarkAppend(b *testing.B, opts *bolt.Options) {
	ctx := context.Background()
	s, err := bolt.Open(filepath.Join(b.TempDir(), "gridbox.db"), NewKey(b), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.SetBytes(int64(benchEntrySize(b)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Append(ctx, benchNotice(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawBoltPutFsync is the baseline for BenchmarkAppendFsync: one
// bbolt Update per op putting as many bytes as an encoded entry under a
// sequential big-endian key, with the same durability (fsync on commit).
func BenchmarkRawBoltPutFsync(b *testing.B) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("raw")); return err }); err != nil {
		b.Fatal(err)
	}
	value := []byte(strings.Repeat("x", benchEntrySize(b)))
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		err := db.Update(func(tx *bbolt.Tx) error {
			bk := tx.Bucket([]byte("raw"))
			bk.FillPercent = 0.95 // as the store's feed buckets
			return bk.Put(binary.BigEndian.AppendUint64(nil, uint64(i+1)), value)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// benchDraft is entry i of a large ledger: notices, staff, duty shifts and
// grids over many distinct keys, so the views are large as in a real town.
func benchDraft(i int) appliance.Draft {
	d := appliance.Draft{Author: fmt.Sprintf("u%d", i%40), Version: 1}
	village := fmt.Sprintf("4101841042%02d", 1+i%24)
	switch i % 4 {
	case 0:
		d.Kind = appliance.KindNoticeSet
		d.Body = appliance.Notice{Grid: village, ID: fmt.Sprintf("n%d", i%100_000), Title: "关于冬季防火和用电安全的通知",
			Body: "入冬以来气候干燥，请不要焚烧秸秆，注意用电安全。", Published: "2026-11-28"}
	case 1:
		d.Kind = appliance.KindStaffSet
		d.Body = appliance.StaffMember{ID: fmt.Sprintf("s%d", i%20_000), Name: "张秀菊", Phone: "13800138000",
			Duty: appliance.DutyGridWorker, Grid: appliance.GroupCode(village, 1+i%7)}
	case 2:
		d.Kind = appliance.KindDutySet
		day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365)
		d.Body = appliance.DutyShift{Grid: village, Date: day.Format("2006-01-02"), Shift: appliance.Shifts[i%3],
			StaffID: fmt.Sprintf("s%d", i%50), Name: "李建国", Phone: "13800138000"}
	default:
		d.Kind = appliance.KindGridSet
		d.Body = appliance.Grid{Code: appliance.GroupCode(village, 1+i%7), Level: appliance.LevelGroup, Name: fmt.Sprintf("第%d组", 1+i%7),
			Parent: village, Kind: "村组", Note: fmt.Sprintf("第%d次修改", i)}
	}
	return d
}

// BenchmarkReindex1M times Store.Reindex of 1,000,000 entries (ns/op and
// reindex-s), and reports one Store.Verify of them (verify-s). Building
// the file takes minutes, so it runs only when GRIDBOX_BENCH_1M=1:
//
//	GRIDBOX_BENCH_1M=1 go test -run '^$' -bench Reindex1M -benchtime 1x -timeout 30m ./appliance/bolt/
func BenchmarkReindex1M(b *testing.B) {
	if os.Getenv("GRIDBOX_BENCH_1M") != "1" {
		b.Skip("set GRIDBOX_BENCH_1M=1 to run")
	}
	const total, batch = 1_000_000, 10_000
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "gridbox.db")
	key := NewKey(b)

	// Build the file fast: no fsync, 10k drafts per transaction.
	start := time.Now()
	s, err := bolt.Open(path, key, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < total; done += batch {
		_, err := s.Write(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
			ds := make([]appliance.Draft, batch)
			for i := range ds {
				ds[i] = benchDraft(done + i)
			}
			return ds, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	build := time.Since(start)

	// Reindex as a box would: reopened with fsync on.
	s, err = bolt.Open(path, key, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if st.Entries != total {
		b.Fatalf("built %d entries, want %d", st.Entries, total)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Reindex(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reindex := b.Elapsed().Seconds() / float64(b.N)

	// Verify refolds everything into a scratch file: time it too.
	start = time.Now()
	rep, err := s.Verify(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if rep.Entries != total {
		b.Fatalf("verified %d entries, want %d", rep.Entries, total)
	}
	b.ReportMetric(time.Since(start).Seconds(), "verify-s")
	b.ReportMetric(build.Seconds(), "build-s")
	b.ReportMetric(float64(st.FileSize)/(1<<20), "file-MiB")
	b.ReportMetric(reindex, "reindex-s")
}
