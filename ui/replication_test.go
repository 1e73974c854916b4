package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui"
)

// MustOpenTown makes a town node with a known admin password and its server.
func MustOpenTown(tb testing.TB) (*ui.Server, *bolt.Store) {
	tb.Helper()
	dir := tb.TempDir()
	node := appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"}
	if _, err := bolt.InitDataDir(context.Background(), dir, node, bolt.InitOptions{AdminPassword: "town-admin-2026"}); err != nil {
		tb.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	srv, err := ui.NewServer(cfg, s, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, s
}

func TestReplicationPage(t *testing.T) {
	srv, s := MustOpenTown(t)
	token, err := s.CreateAPIToken("u-admin")
	if err != nil {
		t.Fatal(err)
	}
	do := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req := httptest.NewRequest(method, path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := srv.App().Test(req, 5000)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	villageKey := strings.Repeat("ab", 32)

	t.Run("Enrol", func(t *testing.T) {
		code, _ := do("POST", "/staff/replication/enrol", url.Values{"key": {villageKey}, "code": {"410184104201"}, "name": {"杏花村"}})
		if code != 303 {
			t.Fatalf("status %d, want 303", code)
		}
	})
	t.Run("ErrBadKey", func(t *testing.T) {
		code, page := do("POST", "/staff/replication/enrol", url.Values{"key": {"12"}, "code": {"410184104202"}})
		if code != 400 || !strings.Contains(page, "下级节点公钥应为64位十六进制数") || !strings.Contains(page, `aria-invalid="true"`) {
			t.Fatalf("status %d; page lacks the message or the marked field", code)
		}
	})
	t.Run("Page", func(t *testing.T) {
		f, _ := appliance.ParseFeedID(villageKey)
		ui.SetReplication(srv, ui.ReplicationSource{
			Peers: func() []ui.ReplicationPeer {
				return []ui.ReplicationPeer{{Role: "village", Code: "410184104201", Name: "杏花村", Key: f, Relation: "child", Alive: true,
					LastContact: time.Now(), Behind: 7, BytesRecv: 3 << 20, EntriesRecv: 1234}}
			},
			Rejected: func() map[string]uint64 { return map[string]uint64{"signature": 2} },
			Keys:     func() []string { return []string{"a1b2c3d4", "e5f6a7b8"} },
		})
		code, page := do("GET", "/staff/replication", nil)
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		for _, want := range []string{s.Feed().Fingerprint(), "data:image/png;base64,", "杏花村", "在线", "7 条", "1234 条 / 3.0 MB", f.Fingerprint(), "签名错误", "<code>a1b2c3d4</code>（加密）", "<code>e5f6a7b8</code>"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	})
	t.Run("API", func(t *testing.T) {
		code, body := do("GET", "/api/v1/replication", nil)
		var got struct {
			Key   string `json:"key"`
			Peers []struct {
				Code     string `json:"code"`
				Enrolled bool   `json:"enrolled"`
				Behind   uint64 `json:"behind"`
			} `json:"peers"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 {
			t.Fatalf("status %d, %v", code, err)
		}
		if got.Key != s.Feed().String() || len(got.Peers) != 1 || !got.Peers[0].Enrolled || got.Peers[0].Behind != 7 {
			t.Fatalf("got %+v", got)
		}
	})
}

// What is wrong with a link is on the page and in the API: a revoked
// child that keeps trying, a clock far off, a host under another cluster
// key; the API says enrolled false for the revoked child.
func TestReplicationProblems(t *testing.T) {
	srv, s := MustOpenTown(t)
	token, err := s.CreateAPIToken("u-admin")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) string {
		t.Helper()
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.App().Test(req, 5000)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp.StatusCode, err)
		}
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	revoked, skewed := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for _, en := range []appliance.Enrolment{
		{Key: revoked, Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage, Revoked: true},
		{Key: skewed, Code: "410184104202", Name: "桃园村", Role: appliance.NodeVillage},
	} {
		if err := s.Enrol(context.Background(), "u-admin", en); err != nil {
			t.Fatal(err)
		}
	}
	fr, _ := appliance.ParseFeedID(revoked)
	fs, _ := appliance.ParseFeedID(skewed)
	ui.SetReplication(srv, ui.ReplicationSource{
		Peers: func() []ui.ReplicationPeer {
			return []ui.ReplicationPeer{
				{Role: "village", Code: "410184104201", Name: "杏花村", Key: fr, Relation: "none", Alive: true, Problem: "revoked"},
				{Role: "village", Code: "410184104202", Name: "桃园村", Key: fs, Relation: "child", Alive: true, ClockOffset: -50 * time.Hour},
			}
		},
		Rejected: func() map[string]uint64 { return nil },
		Notes: func() []ui.ReplicationNote {
			return []ui.ReplicationNote{{Problem: "key", Host: "10.8.0.23", Node: "柳树村 410184104203"}}
		},
	})
	page := get("/staff/replication")
	for _, want := range []string{"该节点已停用，但仍在尝试同步", "对方时钟比本机慢约2天", "地址 柳树村 410184104203（10.8.0.23） 的节点使用了本节点没有的集群密钥"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	var got struct {
		Peers []struct {
			Code        string `json:"code"`
			Relation    string `json:"relation"`
			Enrolled    bool   `json:"enrolled"`
			Revoked     bool   `json:"revoked"`
			Problem     string `json:"problem"`
			ClockOffset int64  `json:"clock_offset_seconds"`
		} `json:"peers"`
		Problems []struct{ Problem, Host, Node string } `json:"problems"`
	}
	if err := json.Unmarshal([]byte(get("/api/v1/replication")), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Peers) != 2 || len(got.Problems) != 1 || got.Problems[0].Problem != "key" || got.Problems[0].Host != "10.8.0.23" {
		t.Fatalf("got %+v", got)
	}
	r, k := got.Peers[0], got.Peers[1]
	if r.Code != "410184104201" || r.Enrolled || !r.Revoked || r.Relation != "child" || r.Problem != "revoked" {
		t.Errorf("revoked child: %+v", r)
	}
	if !k.Enrolled || k.Revoked || k.ClockOffset != -50*3600 {
		t.Errorf("child with a slow clock: %+v", k)
	}
}
