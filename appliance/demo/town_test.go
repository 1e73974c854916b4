package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
)

// A demo village made for a demo town: the town's steps are on that town's
// downward feed, and the town holds the same cases as the village.
func TestDemoTown(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	root := t.TempDir()
	townDir, villageDir := filepath.Join(root, "town"), filepath.Join(root, "village")
	tcfg, accounts, err := demo.GenerateTown(ctx, townDir, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accounts {
		names = append(names, a.Username+"/"+a.Password)
	}
	if got, want := strings.Join(names, " "), "admin/demo1234 town/demo1234 dept/demo1234 inspector/demo1234"; got != want {
		t.Fatalf("town accounts %s, want %s", got, want)
	}
	v, _, err := demo.Generate(ctx, villageDir, demo.Options{Now: now, Code: "410184104202", Name: "桃园村", TownDir: townDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Waiting) == 0 {
		t.Fatal("no case waits at the town")
	}

	t.Run("ErrTown", func(t *testing.T) {
		for _, c := range []struct{ code, town, want string }{
			{"410184104202", townDir, "already holds village 410184104202"},
			{"410184105201", townDir, "is not in town 龙湖镇"},
			{"410184104203", villageDir, "is not a town node"},
			{"410184104203", filepath.Join(root, "none"), "not a gridbox data folder"},
		} {
			dir := filepath.Join(root, "refused")
			_, _, err := demo.Generate(ctx, dir, demo.Options{Now: now, Code: c.code, Name: "柳树村", TownDir: c.town})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("village %s, town %s: %v, want %q", c.code, c.town, err, c.want)
			}
			if _, err := os.Stat(dir); err == nil {
				t.Errorf("village %s: a refused demo made its folder", c.code)
			}
		}
	})

	ts, _, err := bolt.OpenDataDir(townDir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ts.Close()
	vs, vcfg, err := bolt.OpenDataDir(villageDir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer vs.Close()
	for _, s := range []*bolt.Store{ts, vs} {
		if _, err := s.Verify(ctx); err != nil {
			t.Fatalf("verify: %v", err)
		}
	}
	if u, err := ts.User("u-town"); err != nil || u.Role != appliance.RoleTownOperator || u.Grid != tcfg.Node.Code {
		t.Errorf("town operator: %+v %v", u, err)
	}
	// The village holds its own feed and the town's downward feed for it,
	// and the town both of them, entry for entry.
	down, err := ts.DownFeed(vcfg.Node.Code)
	if err != nil {
		t.Fatal(err)
	}
	vheads, _ := vs.Heads()
	if len(vheads) != 2 {
		t.Fatalf("the village holds %d feeds, want its own and the town's downward feed", len(vheads))
	}
	for _, h := range vheads {
		if h.Feed != vs.Feed() && h.Feed != down {
			t.Errorf("the village holds feed %s, neither its own nor its town's downward feed", h.Feed)
		}
		es, err := ts.Entries(h.Feed, h.Seq, 1)
		if err != nil || len(es) != 1 || es[0].Hash() != h.Hash {
			t.Errorf("the town lacks entry %d of feed %s: %v", h.Seq, h.Feed, err)
		}
	}
	tcs, _ := bolt.NewCases(ts, tcfg)
	vcs, _ := bolt.NewCases(vs, vcfg)
	vc, _, err := vcs.FindCases(bolt.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	tc, _, err := tcs.FindCases(bolt.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(vc) < 100 || len(vc) != len(tc) {
		t.Fatalf("%d cases at the village, %d at the town", len(vc), len(tc))
	}
	byTown := 0
	for i := range vc {
		a, _ := json.Marshal(vc[i])
		b, _ := json.Marshal(tc[i])
		if !bytes.Equal(a, b) {
			t.Fatalf("case %s differs:\nvillage %s\ntown    %s", vc[i].ID, a, b)
		}
		for _, st := range vc[i].Steps {
			if st.Feed == down.String() && st.Void == "" {
				byTown++
			}
		}
	}
	if byTown == 0 {
		t.Error("no town step on the town's downward feed")
	}
	// The receipts open the cases at the village's kiosk: by PIN and by QR token.
	signer, _ := appliance.NewTokenSigner(vs.Secret())
	for _, r := range v.Waiting {
		c, err := vcs.Track(r.Code, r.PIN)
		if err != nil || c.Level != appliance.CaseLevelTown || c.Status != appliance.StatusPending {
			t.Errorf("track %s: %+v %v", r.Code, c, err)
		}
		if c, err := vcs.ByToken(signer, r.Token); err != nil || c.ID != r.Code {
			t.Errorf("token of %s: %v", r.Code, err)
		}
	}
}
