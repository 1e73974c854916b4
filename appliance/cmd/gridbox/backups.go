package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Nightly backups: a consistent copy of the serving node (backup file as
// gridbox backup writes it) into the configured folder, checked after
// writing by opening and verifying the copy, keeping [backup] daily and
// weekly copies. The state goes to the node's local state for the system
// page.

// backupName is the file name of a backup made at t: the division code and
// the local date and time, so that the folder sorts by time and a stick
// shared by two boxes keeps them apart.
func backupName(code string, t time.Time) string {
	return code + "-" + t.Format("20060102-150405") + ".gridbox"
}

var backupNameRE = regexp.MustCompile(`^(\d{12})-(\d{8}-\d{6})\.gridbox$`)

type backupFile struct {
	Name string
	Time time.Time
}

// listBackups returns this node's backups in dir, newest first. Files of
// other names (or other nodes) are not listed and never removed.
func listBackups(dir, code string, loc *time.Location) ([]backupFile, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []backupFile
	for _, e := range ents {
		m := backupNameRE.FindStringSubmatch(e.Name())
		if m == nil || m[1] != code || !e.Type().IsRegular() {
			continue
		}
		t, err := time.ParseInLocation("20060102-150405", m[2], loc)
		if err != nil {
			continue
		}
		out = append(out, backupFile{e.Name(), t})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	return out, nil
}

// retainBackups picks the copies to keep, newest first: the newest copy of
// each of the last daily days that have one, and the newest of each of the
// last weekly ISO weeks that have one (a copy may count as both).
func retainBackups(files []backupFile, daily, weekly int) map[string]bool {
	keep := map[string]bool{}
	days, weeks := map[string]bool{}, map[string]bool{}
	for _, f := range files { // newest first
		day := f.Time.Format("2006-01-02")
		y, w := f.Time.ISOWeek()
		week := fmt.Sprintf("%d-%02d", y, w)
		if !days[day] && len(days) < daily {
			days[day] = true
			keep[f.Name] = true
		}
		if !weeks[week] && len(weeks) < weekly {
			weeks[week] = true
			keep[f.Name] = true
		}
	}
	return keep
}

// errNoStick: the folder is on the data folder's own disk.
var errNoStick = errors.New("备份盘未插入：备份文件夹不是单独的盘")

// backupNow writes a backup of the serving node into the configured folder,
// checks it, prunes old copies, and records the outcome.
func (m *Main) backupNow(ctx context.Context, now time.Time) (appliance.BackupState, error) {
	var st appliance.BackupState
	m.Store.LocalJSON(appliance.BackupStateKey, &st)
	st.LastAttempt = now
	file, n, kept, err := m.writeCheckedBackup(ctx, now)
	if err != nil {
		st.LastError = err.Error()
		m.Log.Error("backup failed", "dir", m.Config.Backup.Dir, "err", err)
	} else {
		st.LastOK, st.LastFile, st.LastBytes, st.LastError, st.Kept = now, file, n, "", kept
		m.Log.Info("backup written and checked", "file", file, "bytes", n, "kept", len(kept))
	}
	if serr := m.Store.SetLocalJSON(appliance.BackupStateKey, st); serr != nil && err == nil {
		err = serr
	}
	return st, err
}

func (m *Main) writeCheckedBackup(ctx context.Context, now time.Time) (string, int64, []string, error) {
	cfg := m.Config.Backup
	if cfg.Dir == "" {
		return "", 0, nil, errors.New("没有设置备份文件夹（配置 [backup] dir）")
	}
	fi, err := os.Stat(cfg.Dir)
	if err != nil || !fi.IsDir() {
		return "", 0, nil, fmt.Errorf("备份文件夹 %s 打不开（备份盘未插入？）: %v", cfg.Dir, err)
	}
	if cfg.SeparateDisk && sameDisk(cfg.Dir, m.Data) {
		return "", 0, nil, errNoStick
	}
	loc := m.Config.Location()
	out := filepath.Join(cfg.Dir, backupName(m.Config.Node.Code, now.In(loc)))
	src := &backupSource{store: m.Store}
	n, err := writeBackup(m.Data, out, src)
	if err != nil {
		return "", 0, nil, err
	}
	if _, err := checkBackup(ctx, out, m.Data); err != nil {
		os.Rename(out, out+".bad") // never taken for a good copy, never pruned
		return "", 0, nil, fmt.Errorf("备份写入后检查未通过: %w", err)
	}
	files, err := listBackups(cfg.Dir, m.Config.Node.Code, loc)
	if err != nil {
		return "", 0, nil, err
	}
	keep := retainBackups(files, cfg.Daily, cfg.Weekly)
	var kept []string
	for _, f := range files {
		if keep[f.Name] {
			kept = append(kept, f.Name)
		} else if err := os.Remove(filepath.Join(cfg.Dir, f.Name)); err != nil {
			m.Log.Warn("backup: could not remove an old copy", "file", f.Name, "err", err)
		}
	}
	return out, n, kept, nil
}

func sameDisk(a, b string) bool {
	var sa, sb syscall.Stat_t
	if syscall.Stat(a, &sa) != nil || syscall.Stat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev
}

// checkBackup unpacks a backup into a scratch folder beside scratchNear,
// opens it and runs the full verify, as restore does before it replaces
// anything.
func checkBackup(ctx context.Context, file, scratchNear string) (bolt.VerifyReport, error) {
	staging, err := os.MkdirTemp(filepath.Dir(filepath.Clean(scratchNear)), ".check-")
	if err != nil {
		return bolt.VerifyReport{}, err
	}
	defer os.RemoveAll(staging)
	if err := untar(file, staging); err != nil {
		return bolt.VerifyReport{}, err
	}
	s, _, err := bolt.OpenDataDir(staging, nil)
	if err != nil {
		return bolt.VerifyReport{}, fmt.Errorf("backup unusable: %w", err)
	}
	defer s.Close()
	rep, err := s.Verify(ctx)
	if err != nil {
		return rep, fmt.Errorf("backup does not verify: %w", err)
	}
	return rep, nil
}

// backupDue reports whether the nightly backup should run at now: past
// today's [backup] at, with no good backup since, and no failed try in the
// last hour (a stick plugged in in the morning is used within the hour).
func backupDue(cfg appliance.BackupConfig, st appliance.BackupState, now time.Time) bool {
	if cfg.Dir == "" {
		return false
	}
	at, err := time.Parse("15:04", cfg.At)
	if err != nil {
		return false
	}
	y, mo, d := now.Date()
	slot := time.Date(y, mo, d, at.Hour(), at.Minute(), 0, 0, now.Location())
	if now.Before(slot) {
		slot = slot.AddDate(0, 0, -1)
	}
	if !st.LastOK.Before(slot) {
		return false
	}
	return st.LastAttempt.Before(slot) || now.Sub(st.LastAttempt) >= time.Hour
}

// backupLoop runs the nightly backup when it is due, checking at start and
// at each tick (each minute when ticks is nil).
func (m *Main) backupLoop(ctx context.Context, now func() time.Time, ticks <-chan time.Time) {
	if ticks == nil {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		ticks = t.C
	}
	for {
		var st appliance.BackupState
		m.Store.LocalJSON(appliance.BackupStateKey, &st)
		if n := now().In(m.Config.Location()); backupDue(m.Config.Backup, st, n) {
			m.backupNow(ctx, n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// backupSummary is one line for logs and the command line.
func backupSummary(st appliance.BackupState) string {
	if st.LastError != "" {
		return "failed: " + st.LastError
	}
	return fmt.Sprintf("%s (%d bytes); kept %s", st.LastFile, st.LastBytes, strings.Join(st.Kept, ", "))
}
