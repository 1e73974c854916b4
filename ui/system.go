package ui

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"gridbox/appliance"
)

// The system page says how the box is: its release, how long it has run,
// storage and memory, the last good backup, sync with the parent, the
// printers, the clock, and the fingerprint of its HTTPS certificate (to
// check the first time a browser warns, and to print for the wall). The
// same figures are served as JSON and in /metrics.

// SystemSource is what main tells the system page about the running
// process (ui does not know its release or its clock watcher).
type SystemSource struct {
	Version, Commit string
	Started         time.Time
	Clock           func() appliance.ClockState // nil: the wall clock, unchecked
}

var systemOf sync.Map // *Server → SystemSource

// SetSystem connects the system page to the running process.
func SetSystem(s *Server, src SystemSource) { systemOf.Store(s, src) }

func (s *Server) systemSource() SystemSource {
	if v, ok := systemOf.Load(s); ok {
		return v.(SystemSource)
	}
	return SystemSource{}
}

// ClockState is the clock as the node judges it.
func (s *Server) ClockState() appliance.ClockState {
	if src := s.systemSource(); src.Clock != nil {
		return src.Clock()
	}
	return appliance.CheckClock(time.Now(), s.Store.Clock().Last(), 0, time.Time{})
}

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/system", Label: "系统", Perm: appliance.PermViewDashboard, Section: "系统", Primary: []appliance.Role{appliance.RoleAdmin}})
	registerRoutes(func(s *Server) {
		s.app.Get("/staff/system", s.require(appliance.PermViewDashboard), s.showSystem)
		s.app.Get("/api/v1/system", s.require(appliance.PermViewDashboard), s.apiSystem)
		s.registry.MustRegister(systemCollector{s})
	})
}

// SystemInfo is the system page's figures (GET /api/v1/system).
type SystemInfo struct {
	Version        string                    `json:"version"`
	Commit         string                    `json:"commit,omitempty"`
	Started        time.Time                 `json:"started"`
	UptimeSeconds  int64                     `json:"uptime_seconds"`
	BoxUptime      int64                     `json:"box_uptime_seconds,omitempty"`
	DBBytes        int64                     `json:"db_bytes"`
	Entries        uint64                    `json:"entries"`
	DiskFree       uint64                    `json:"disk_free_bytes"`
	LowDisk        bool                      `json:"low_disk"`
	StorageFull    bool                      `json:"storage_full"`
	MemTotal       uint64                    `json:"memory_total_bytes,omitempty"`
	MemAvailable   uint64                    `json:"memory_available_bytes,omitempty"`
	GoMemory       uint64                    `json:"process_memory_bytes"`
	Backup         appliance.BackupState     `json:"backup"`
	BackupDir      string                    `json:"backup_dir,omitempty"`
	BackupStale    bool                      `json:"backup_stale"`
	Parent         *SyncState                `json:"parent,omitempty"`
	Printers       []appliance.PrinterStatus `json:"printers"`
	FallbackFonts  []string                  `json:"fallback_fonts"` // for rare characters of names; none: they print as 〓
	Clock          appliance.ClockState      `json:"clock"`
	TLSFingerprint string                    `json:"tls_fingerprint,omitempty"`
}

// SyncState is the sync with the parent node.
type SyncState struct {
	Address     string    `json:"address"`
	Known       bool      `json:"known"` // the parent has been seen
	Alive       bool      `json:"alive"`
	LastContact time.Time `json:"last_contact,omitempty"`
	Behind      uint64    `json:"behind"` // entries the parent still lacks
}

func (s *Server) systemInfo(c *fiber.Ctx) (SystemInfo, error) {
	st, err := s.Store.Stats()
	if err != nil {
		return SystemInfo{}, err
	}
	src := s.systemSource()
	free, _ := s.Store.DiskFree()
	now := time.Now()
	in := SystemInfo{Version: src.Version, Commit: src.Commit, Started: src.Started, DBBytes: st.FileSize, Entries: st.Entries,
		DiskFree: free, LowDisk: free < lowDisk, StorageFull: s.Store.StorageFull(), BackupDir: s.Config.Backup.Dir,
		Clock: s.ClockState(), TLSFingerprint: s.tlsFingerprint}
	if !src.Started.IsZero() {
		in.UptimeSeconds = int64(now.Sub(src.Started).Seconds())
	}
	in.BoxUptime = boxUptime()
	in.MemTotal, in.MemAvailable = memInfo()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	in.GoMemory = ms.Sys
	s.Store.LocalJSON(appliance.BackupStateKey, &in.Backup)
	in.BackupStale = in.BackupDir != "" && in.Backup.Stale(now)
	if p := s.Config.Node.Parent; p != "" {
		in.Parent = &SyncState{Address: p}
		if v, ok := replicationOf.Load(s); ok && v.(ReplicationSource).Peers != nil {
			for _, peer := range v.(ReplicationSource).Peers() {
				if peer.Relation == "parent" {
					in.Parent.Known, in.Parent.Alive, in.Parent.LastContact, in.Parent.Behind = true, peer.Alive, peer.LastContact, peer.Behind
				}
			}
		}
	}
	if s.Printing != nil {
		// Rare characters of names print with a fallback font; without one
		// they come out as 〓, and the staff should know before a card does.
		in.Printers, in.FallbackFonts = s.Printing.Printers(c.UserContext()), s.Printing.FallbackFonts()
	}
	return in, nil
}

func (s *Server) showSystem(c *fiber.Ctx) error {
	in, err := s.systemInfo(c)
	if err != nil {
		return err
	}
	data := fiber.Map{
		"Title": "系统", "Node": s.Config.Node, "NodeKey": s.Store.Feed().Fingerprint(), "Info": in,
		"HTTP": s.Config.HTTP.Listen, "TLSPort": s.tlsPort, "TLSFingerprint": s.tlsFingerprint,
		"Host": hostOnly(c.Hostname()), "Secure": isTLS(c),
		"DBBytes": in.DBBytes, "Entries": in.Entries, "DiskFree": in.DiskFree, "StorageFull": in.StorageFull, "LowDisk": in.LowDisk,
		"Fonts": in.FallbackFonts, "Printing": s.Printing != nil,
		"Uptime": humanDuration(time.Duration(in.UptimeSeconds) * time.Second), "BoxUptime": humanDuration(time.Duration(in.BoxUptime) * time.Second),
	}
	return s.render(c, "system", data)
}

func (s *Server) apiSystem(c *fiber.Ctx) error {
	in, err := s.systemInfo(c)
	if err != nil {
		return err
	}
	return c.JSON(in)
}

// humanDuration says how long in days, hours and minutes.
func humanDuration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	days, h, m := int(d.Hours())/24, int(d.Hours())%24, int(d.Minutes())%60
	switch {
	case days > 0:
		return strconv.Itoa(days) + " 天 " + strconv.Itoa(h) + " 小时"
	case h > 0:
		return strconv.Itoa(h) + " 小时 " + strconv.Itoa(m) + " 分钟"
	}
	return strconv.Itoa(m) + " 分钟"
}

// memInfo reads the box's memory from /proc/meminfo (zero elsewhere).
func memInfo() (total, available uint64) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "MemTotal":
			total = n << 10
		case "MemAvailable":
			available = n << 10
		}
	}
	return total, available
}

// boxUptime is the seconds since the box booted (0 when unknown).
func boxUptime() int64 {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return int64(f)
}

// systemCollector puts the system page's figures into /metrics (the
// ledger and disk figures are there already, from newHTTPMetrics).
type systemCollector struct{ s *Server }

var (
	descBuild       = prometheus.NewDesc("gridbox_build_info", "The running release.", []string{"version", "commit"}, nil)
	descUptime      = prometheus.NewDesc("gridbox_uptime_seconds", "Seconds since this process started.", nil, nil)
	descMemAvail    = prometheus.NewDesc("gridbox_box_memory_available_bytes", "Memory available on the box (/proc/meminfo).", nil, nil)
	descBackupOK    = prometheus.NewDesc("gridbox_backup_last_ok_timestamp_seconds", "When the last good backup was written (0: never).", nil, nil)
	descBackupStale = prometheus.NewDesc("gridbox_backup_stale", "1 when backups are configured and none good is younger than two days.", nil, nil)
	descParentSeen  = prometheus.NewDesc("gridbox_sync_parent_last_contact_timestamp_seconds", "Last contact with the parent node (0: never).", nil, nil)
	descParentLag   = prometheus.NewDesc("gridbox_sync_parent_behind_entries", "Entries the parent node still lacks.", nil, nil)
	descPrinter     = prometheus.NewDesc("gridbox_printer_ready", "1 when the printer's queue accepts and prints jobs.", []string{"queue"}, nil)
	descClockWrong  = prometheus.NewDesc("gridbox_clock_wrong", "1 while the box's clock is known to be wrong.", nil, nil)
	descClockOffset = prometheus.NewDesc("gridbox_clock_parent_offset_seconds", "The parent's clock minus this box's, when measured.", nil, nil)
)

func (sc systemCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descBuild, descUptime, descMemAvail, descBackupOK, descBackupStale, descParentSeen, descParentLag, descPrinter, descClockWrong, descClockOffset} {
		ch <- d
	}
}

func (sc systemCollector) Collect(ch chan<- prometheus.Metric) {
	s, now := sc.s, time.Now()
	src := s.systemSource()
	ch <- prometheus.MustNewConstMetric(descBuild, prometheus.GaugeValue, 1, src.Version, src.Commit)
	if !src.Started.IsZero() {
		ch <- prometheus.MustNewConstMetric(descUptime, prometheus.GaugeValue, now.Sub(src.Started).Seconds())
	}
	if _, avail := memInfo(); avail > 0 {
		ch <- prometheus.MustNewConstMetric(descMemAvail, prometheus.GaugeValue, float64(avail))
	}
	var b appliance.BackupState
	s.Store.LocalJSON(appliance.BackupStateKey, &b)
	ch <- prometheus.MustNewConstMetric(descBackupOK, prometheus.GaugeValue, unixOrZero(b.LastOK))
	ch <- prometheus.MustNewConstMetric(descBackupStale, prometheus.GaugeValue, boolGauge(s.Config.Backup.Dir != "" && b.Stale(now)))
	if v, ok := replicationOf.Load(s); ok && v.(ReplicationSource).Peers != nil {
		for _, p := range v.(ReplicationSource).Peers() {
			if p.Relation == "parent" {
				ch <- prometheus.MustNewConstMetric(descParentSeen, prometheus.GaugeValue, unixOrZero(p.LastContact))
				ch <- prometheus.MustNewConstMetric(descParentLag, prometheus.GaugeValue, float64(p.Behind))
			}
		}
	}
	if s.Printing != nil {
		seen := map[string]bool{}
		for _, p := range s.Printing.Printers(context.Background()) {
			if p.Configured && !seen[p.Queue] {
				seen[p.Queue] = true
				ch <- prometheus.MustNewConstMetric(descPrinter, prometheus.GaugeValue, boolGauge(p.Ready), p.Queue)
			}
		}
	}
	cl := s.ClockState()
	ch <- prometheus.MustNewConstMetric(descClockWrong, prometheus.GaugeValue, boolGauge(cl.Wrong))
	if !cl.ParentChecked.IsZero() {
		ch <- prometheus.MustNewConstMetric(descClockOffset, prometheus.GaugeValue, cl.ParentOffset.Seconds())
	}
}

func unixOrZero(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix())
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// SetClock gives the node's clock watch to the case service: deadlines and
// register days never count from a clock known to be wrong.
func (s *Server) SetClock(clock func() appliance.ClockState) { s.cases.Clock = clock }

// boxWarnings are what staff must know on every page: a wrong clock.
func (s *Server) boxWarnings() []string {
	var out []string
	if st := s.ClockState(); st.Wrong {
		w := "本机时间不准：" + st.Reason + "。"
		if st.ParentChecked.IsZero() {
			w += "新问题暂不计算办理期限，台账暂不能关账；请让设备连上网络与上级节点同步，或请管理员校准时间。"
		} else {
			w += "期限和台账日期按上级节点的时间计算。"
		}
		out = append(out, w)
	}
	now := s.cases.CountNow()
	if y := now.Year(); !s.cases.Calendar().Known(y) {
		out = append(out, fmt.Sprintf("尚未收到 %d 年的法定节假日和调休安排：办理期限暂按周一至周五计算，请市或乡镇录入后下发。", y))
	} else if !now.Before(appliance.CalendarWarnFrom(y, s.loc)) && !s.cases.Calendar().Known(y+1) {
		out = append(out, fmt.Sprintf("尚未收到 %d 年的法定节假日和调休安排：落在 %d 年的期限暂按周一至周五计算。", y+1, y+1))
	}
	return out
}
