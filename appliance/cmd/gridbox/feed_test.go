package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gridbox/replicate/pgfeed/pgtest"
)

// TestFeedCommand: gridbox feed on a stopped node (one-shot, from its
// file), then --follow on the serving node (through its admin socket): a
// case registered over the API is in the database within seconds, and a
// second feed of the same node is refused while the first runs.
func TestFeedCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	token := mustToken(t, data)
	pg := pgtest.Start(t)
	ctx := context.Background()

	if out, code := gridbox(t, "feed", "--data", data); code != 2 || !strings.Contains(out, "--postgres is required") {
		t.Errorf("feed without --postgres: exit %d, %s", code, out)
	}
	if out, code := gridbox(t, "feed", "--data", data, "--postgres", "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"); code != 1 || !strings.Contains(out, "gridbox:") {
		t.Errorf("feed into nothing: exit %d, %s", code, out)
	}
	out, code := gridbox(t, "feed", "--data", data, "--postgres", pg.URL())
	if code != 0 || !strings.Contains(out, "fed ") {
		t.Fatalf("one-shot feed: exit %d, %s", code, out)
	}
	t.Log(strings.TrimSpace(out))
	conn, err := pgx.Connect(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var places int
	conn.QueryRow(ctx, "SELECT count(*) FROM gridbox.places WHERE code = '410184104201'").Scan(&places)
	if places != 1 {
		t.Errorf("the village is not in gridbox.places")
	}

	addr := freePort(t)
	n := startNode(t, data, addr)
	if out, code := gridbox(t, "feed", "--data", data, "--postgres", "mysql://x", "--follow"); code != 1 || !strings.Contains(out, "postgres URL") {
		t.Errorf("following feed with a URL that is not PostgreSQL's: exit %d, %s", code, out)
	}
	if out, code := gridbox(t, "feed", "--data", data, "--postgres", pg.URL()); code != 0 || !strings.Contains(out, "fed ") {
		t.Errorf("one-shot feed through the serving node: exit %d, %s", code, out)
	}
	var fout syncBuffer
	follow := exec.Command(binPath, "feed", "--data", data, "--postgres", pg.URL(), "--follow", "--poll", "100ms")
	follow.Stdout, follow.Stderr = &fout, &fout
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	var codes []string
	for i := range 3 {
		body := fmt.Sprintf(`{"category":"livelihood","description":"路灯坏了第%d盏，晚上看不见路","source":"phone"}`, i+1)
		req, _ := http.NewRequest(http.MethodPost, n.url+"/api/v1/cases", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("register: %d %s", resp.StatusCode, b.String())
		}
		code := strings.Split(strings.Split(b.String(), `"code":"`)[1], `"`)[0]
		codes = append(codes, code)
	}
	start := time.Now()
	for {
		var got int
		conn.QueryRow(ctx, "SELECT count(*) FROM gridbox.cases WHERE id = ANY($1) AND status = 'pending'", codes).Scan(&got)
		if got == len(codes) {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("the following feed did not bring the new cases in (%d of %d): %s", got, len(codes), fout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("3 new cases in the database %s after they were registered", time.Since(start).Round(time.Millisecond))
	if out, code := gridbox(t, "feed", "--data", data, "--postgres", pg.URL()); code != 1 || !strings.Contains(out, "another gridbox feed of this node") {
		t.Errorf("a second feed beside the following one: exit %d, %s", code, out)
	}
}
