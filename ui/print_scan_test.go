package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A card or receipt printed for phones where the village box is not
// reachable points at the town node ([print] town_url): the town's /scan
// answers a village's code with the village's public-safe pages, checking
// it with the secret the two share; the village's kiosk reads it too, and
// reads a code printed as a link to the box as well as a bare one.
func TestScanCodesForTheTown(t *testing.T) {
	ctx := context.Background()
	v := mustCaseServer(t)
	village := v.Server.Config.Node
	group := appliance.GroupCode(village.Code, 1)
	hid, err := v.Store.CreateHousehold(ctx, "u-admin", appliance.Household{Group: group, Address: "杏花村一组3号", HouseNo: "3号"},
		[]appliance.Person{{Name: "王建国", Relation: appliance.RelationHead, Gender: "男", Birth: "1960-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	vb := newBrowser(t, v.URL)
	var rc struct{ Code string }
	if code := vb.api("POST", "/api/v1/kiosk/cases", "", map[string]any{"category": "public_affairs", "description": "村口路灯坏了"}, &rc); code != 201 {
		t.Fatalf("kiosk report: %d", code)
	}

	// The town holds the village's feed and has enrolled it; the village
	// pinned the town's key, as replication does when they first meet.
	es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	tn := serveTown(t, es) // the shared secrets are read at the first foreign code, after this
	ts, townURL := tn.Store, tn.URL
	if err := ts.Enrol(ctx, "u-admin", appliance.Enrolment{Key: v.Store.Feed().String(), Code: village.Code, Name: village.Name, Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	if err := v.Store.Update(func(tx *bolt.Tx) error { return tx.PutJSON("local", "replicate/parent_key", ts.Feed().String()) }); err != nil {
		t.Fatal(err)
	}

	secret, err := v.Store.ParentQRSecret("")
	if err != nil {
		t.Fatal(err)
	}
	forTown, _ := appliance.NewTokenSigner(secret)
	own, _ := appliance.NewTokenSigner(v.Store.Secret())
	stranger, _ := appliance.NewTokenSigner([]byte("a secret of nobody we know, 32 b"))
	card, receipt := forTown.Sign(bolt.TokenHousehold, hid), forTown.Sign(bolt.TokenCase, rc.Code)

	town := newBrowser(t, townURL)
	for _, tt := range []struct {
		name, base, path, want string
	}{
		// A phone opens the link on the card or receipt at the town.
		{"PhoneCardAtTown", townURL, "/scan?token=" + card, "第1村民组"},
		{"PhoneReceiptAtTown", townURL, "/scan?token=" + receipt, rc.Code},
		// The village's kiosk scanner types the whole link, or a bare code.
		{"KioskTownLink", v.URL, "/scan?token=" + url.QueryEscape(townURL+"/scan?token="+card), "第1村民组"},
		{"KioskOwnLink", v.URL, "/scan?token=" + url.QueryEscape("https://xinghua.example.cn/scan?token="+own.Sign(bolt.TokenHousehold, hid)), "第1村民组"},
		{"KioskBare", v.URL, "/scan?token=" + own.Sign(bolt.TokenCase, rc.Code), rc.Code},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := vb
			if tt.base == townURL {
				b = town
			}
			status, body := b.get(tt.path)
			if status != 200 || !strings.Contains(body, tt.want) {
				t.Fatalf("%s: %d, want 200 with %q", tt.path, status, tt.want)
			}
		})
	}
	// A code no node here made opens nothing, at the town or the village.
	for _, b := range []*browser{town, vb} {
		if status, _ := b.get("/scan?token=" + stranger.Sign(bolt.TokenHousehold, hid)); status != 404 {
			t.Errorf("a stranger's code: %d, want 404", status)
		}
	}
}
