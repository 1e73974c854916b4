package ui_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/ui"
	"gridbox/ui/internal/uitest"
)

// TestSystemPage: the staff system page, its JSON and /metrics show the
// release, uptime, storage, memory, backups (warning: none in two days),
// sync with the parent, printers and the clock; a clock known to be wrong
// puts a warning on every staff page.
func TestSystemPage(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.Backup.Dir = "/media/gridbox-backup"
		cfg.Node.Parent = "town.example:7946"
	}})
	ui.SetSystem(srv.UI, ui.SystemSource{Version: "v1.4.0", Commit: "0123456789ab", Started: time.Now().Add(-26 * time.Hour)})
	c := srv.Client(t)
	c.Login("dutystaff")

	status, body := c.Get("/api/v1/system")
	if status != 200 {
		t.Fatalf("GET /api/v1/system: %d %s", status, body)
	}
	var in ui.SystemInfo
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.Version != "v1.4.0" || in.Commit != "0123456789ab" || in.UptimeSeconds < 26*3600 || in.DBBytes == 0 || in.Entries == 0 {
		t.Errorf("system JSON: %+v", in)
	}
	if !in.BackupStale || in.Parent == nil || in.Parent.Known || in.Clock.Wrong {
		t.Errorf("backup stale %v, parent %+v, clock %+v", in.BackupStale, in.Parent, in.Clock)
	}
	if in.MemTotal == 0 || in.MemAvailable == 0 || in.GoMemory == 0 {
		t.Errorf("memory: %+v", in)
	}

	_, page := c.Get("/staff/system")
	text := uitest.Text(page)
	for _, want := range []string{"v1.4.0（0123456789ab）", "已运行 1 天 2 小时", "还没有一份完好的备份", "还没有联系上 town.example:7946", "数据文件"} {
		if !strings.Contains(text, want) {
			t.Errorf("system page lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "本机时间不准") {
		t.Error("a good clock called wrong")
	}

	_, metrics := srv.Client(t).Get("/metrics") // from the box itself
	for _, want := range []string{`gridbox_build_info{commit="0123456789ab",version="v1.4.0"} 1`, "gridbox_backup_stale 1", "gridbox_backup_last_ok_timestamp_seconds 0", "gridbox_clock_wrong 0", "gridbox_uptime_seconds", "gridbox_db_file_bytes"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The box lost its time (no real-time clock): every staff page warns.
	wall := time.Unix(3600, 0)
	clock := func() appliance.ClockState {
		return appliance.CheckClock(wall, srv.Store.Clock().Last(), 0, time.Time{})
	}
	ui.SetSystem(srv.UI, ui.SystemSource{Version: "v1.4.0", Clock: clock})
	srv.UI.SetClock(clock)
	for _, p := range []string{"/staff", "/staff/system", "/staff/cases"} {
		if _, page := c.Get(p); !strings.Contains(uitest.Text(page), "本机时间不准：本机时钟显示 1970-01-01") {
			t.Errorf("%s without the clock warning:\n%s", p, uitest.Text(page))
		}
	}
	if _, home := srv.Client(t).Get("/"); strings.Contains(home, "本机时间不准") {
		t.Error("the public kiosk page shows the staff's clock warning")
	}
	if _, metrics := srv.Client(t).Get("/metrics"); !strings.Contains(metrics, "gridbox_clock_wrong 1") {
		t.Error("/metrics does not say the clock is wrong")
	}
}
