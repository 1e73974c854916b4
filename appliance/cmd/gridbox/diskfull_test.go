package main_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"gridbox/appliance/bolt"
)

// smallDisk mounts a 64 MB tmpfs for the test; ok is false where mounting
// is not allowed (not root, no CAP_SYS_ADMIN) or GRIDBOX_TEST_NO_TMPFS
// asks for the other way (a file size limit through prlimit).
func smallDisk(t *testing.T) (string, bool) {
	dir := filepath.Join(t.TempDir(), "disk")
	os.MkdirAll(dir, 0o755)
	if os.Getenv("GRIDBOX_TEST_NO_TMPFS") != "" {
		return "", false
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Logf("no tmpfs (%v: %s): the file size limit stands in for a full disk", err, strings.TrimSpace(string(out)))
		return "", false
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir, true
}

// fill writes a file that leaves about keep bytes free on dir's file system.
func fill(t *testing.T, dir string, keep int64) string {
	t.Helper()
	free := diskFree(t, dir)
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for left := free - keep; left > 0; left -= int64(len(chunk)) {
		n := min(int64(len(chunk)), left)
		if _, err := f.Write(chunk[:n]); err != nil {
			break
		}
	}
	return path
}

func diskFree(t *testing.T, dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * st.Bsize
}

// TestDiskFull: with the disk full, a write is refused in words (HTTP 507,
// 存储空间已满), /healthz and /metrics say the box is unwell, the kiosk
// still answers, nothing acknowledged is lost, and once room is made the
// box writes again.
func TestDiskFull(t *testing.T) {
	disk, tmpfs := smallDisk(t)
	var data string
	if tmpfs {
		data = filepath.Join(disk, "node")
	} else {
		data = filepath.Join(t.TempDir(), "node")
	}
	token := mustToken(t, data)
	addr := freePort(t)
	var n *node
	var filler string
	if tmpfs {
		filler = fill(t, disk, 256<<10)
		n = startNode(t, data, addr)
	} else {
		st, err := os.Stat(filepath.Join(data, bolt.DBFile))
		if err != nil {
			t.Fatal(err)
		}
		n = startNodeWith(t, data, addr, "prlimit", fmt.Sprintf("--fsize=%d", st.Size()+256<<10), "--")
	}
	post := func(i int) (int, string) {
		body := fmt.Sprintf(`{"id":"n%d","title":"通知 %d","body":%q,"published":"2026-11-28"}`, i, i, strings.Repeat("村里今晚开会，请各户派代表参加。", 40))
		req, _ := http.NewRequest("POST", n.url+"/api/v1/notices", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	acked := 0
	var status int
	var body string
	for i := 0; i < 5000; i++ {
		if status, body = post(i); status != http.StatusCreated {
			break
		}
		acked++
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal([]byte(body), &e)
	if status != http.StatusInsufficientStorage || e.Error.Code != "storage_full" || !strings.Contains(e.Error.Message, "存储空间已满") {
		t.Fatalf("after %d notices: %d %s; want 507 storage_full\n%s", acked, status, body, tail(n.out.String(), 1500))
	}
	get := func(path string) (int, string) {
		resp, err := http.Get(n.url + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	if status, body := get("/healthz"); status != http.StatusServiceUnavailable || !strings.Contains(body, "storage full") {
		t.Fatalf("/healthz with the disk full: %d %s", status, body)
	}
	if _, body := get("/metrics"); !strings.Contains(body, "gridbox_storage_full 1") {
		t.Fatal("/metrics does not show the full disk")
	}
	if status, body := get("/"); status != http.StatusOK || !strings.Contains(body, "我要反映问题") {
		t.Fatalf("kiosk home with the disk full: %d", status)
	}
	if tmpfs {
		// Room is made: the box writes again and says it is well.
		os.Remove(filler)
		if status, body := post(100000); status != http.StatusCreated {
			t.Fatalf("write after room was made: %d %s", status, body)
		}
		acked++
		if status, body := get("/healthz"); status != http.StatusOK {
			t.Fatalf("/healthz after room was made: %d %s", status, body)
		}
	}
	n.cmd.Process.Kill()
	n.cmd.Wait()
	if out, code := gridbox(t, "verify", "--data", data); code != 0 {
		t.Fatalf("verify after the disk was full: %s", out)
	}
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	notices, err := s.FindNotices("410184104201")
	if err != nil {
		t.Fatal(err)
	}
	if len(notices) != acked {
		t.Fatalf("%d notices acknowledged, %d stored", acked, len(notices))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
