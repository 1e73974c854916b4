package main_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeSetup: gridbox serve --setup on a box without a node shows the
// setup page (health answered, so the kiosk starts its browser); the form
// sent from the box's screen provisions the node as gridbox init does (the
// release key from the image's file), the enrolment card shows its key,
// and after 开始使用 the same process serves the new node.
func TestServeSetup(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	keyFile := filepath.Join(t.TempDir(), "release.key")
	releaseKey := strings.Repeat("ab", 32)
	os.WriteFile(keyFile, []byte(releaseKey+"\n"), 0o644)
	n := startServe(t, data, freePort(t), nil, "--tls-listen", "off", "--setup", "--setup-release-key", keyFile, "--setup-backup-dir", "/media/gridbox-backup")
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(n.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || body != "setup\n" {
		t.Fatalf("healthz before setup: %d %q", code, body)
	}
	_, page := get("/")
	m := regexp.MustCompile(`name="_token" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no setup form:\n%s", page)
	}
	form := url.Values{"_token": {m[1]}, "role": {"village"}, "code": {"410184104201"}, "name": {"杏花村"}, "parent": {"town.example:7946"},
		"duty_phone": {"0371-62581234"}, "password": {"Xinghua-duty-2026"}, "confirm": {"Xinghua-duty-2026"}}
	resp, err := http.PostForm(n.url+"/setup", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, card := get("/"); !strings.Contains(card, "入网登记卡") || !strings.Contains(card, `id="card-qr"`) {
		t.Fatalf("no enrolment card after setup (%d):\n%s", resp.StatusCode, card)
	}
	conf, err := os.ReadFile(filepath.Join(data, "gridbox.toml"))
	if err != nil || !strings.Contains(string(conf), releaseKey) || !strings.Contains(string(conf), "/media/gridbox-backup") {
		t.Fatalf("configuration written by the setup page: %v\n%s", err, conf)
	}
	resp, err = http.PostForm(n.url+"/setup/done", url.Values{"_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(n.url + "/healthz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) == "ok\n" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node did not start after setup:\n%s", n.out.String())
		}
	}
	if _, body := get("/api/v1/node"); !strings.Contains(body, "410184104201") || !strings.Contains(body, "杏花村") {
		t.Fatalf("node after setup: %s", body)
	}
	if _, home := get("/"); !strings.Contains(home, "便民服务") || strings.Contains(home, "新设备设置") {
		t.Fatalf("home after setup:\n%s", home)
	}
}
