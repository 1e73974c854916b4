package replicate_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/voicetest"
)

// testPhoto is a small PNG, different for each seed.
func testPhoto(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for x := range 40 {
		for y := range 30 {
			img.Set(x, y, color.RGBA{seed, uint8(x * 6), uint8(y * 8), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestPhotosFollowCases: the photos and the voice message of a village's
// report reach the town that receives the case, and the city when the case
// goes on to it; a sibling village cannot fetch them, and a photo nobody
// asked for is not stored.
func TestPhotosFollowCases(t *testing.T) {
	ctx := context.Background()
	city, town, v1, v2 := caseCluster(t)
	vc, tc, cc := v1.cases(t), town.cases(t), city.cases(t)

	r, err := vc.RegisterCase(ctx, "", bolt.CaseIntake{Category: "illegal_construction", Source: appliance.SourcePatrol, Description: "河道旁违章搭建彩钢棚",
		Photos: [][]byte{testPhoto(t, 1), testPhoto(t, 2)}, Voice: voicetest.WebM(20*time.Second, 24000, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := vc.Case(r.Code)
	if err != nil || len(c.Photos) != 2 || len(c.Voice) != 1 {
		t.Fatalf("case at the village: %v, %d photos, %d voice", err, len(c.Photos), len(c.Voice))
	}
	if _, err := vc.Act(ctx, "u-admin", []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "报乡镇"}); err != nil {
		t.Fatal(err)
	}
	v1.Start()
	v2.Start()
	same := func(cs *bolt.Cases) bool {
		for _, sum := range c.Photos {
			want, _ := vc.Photo(sum)
			got, err := cs.Photo(sum)
			if err != nil || !bytes.Equal(got, want) {
				return false
			}
		}
		want, _ := vc.Voice(c.Voice[0])
		got, err := cs.Voice(c.Voice[0])
		return err == nil && bytes.Equal(got, want)
	}
	waitFor(t, 10*time.Second, "the photos and the voice at the town", func() bool { return same(tc) })
	if n := town.Store.CountWantedPhotos(); n != 0 || town.Store.WantsPhotos() {
		t.Fatalf("town still wants %d photos", n)
	}

	if _, err := tc.Act(ctx, "u-admin", []string{appliance.CaseLevelTown}, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "报市平台"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the photos and the voice at the city", func() bool { return same(cc) })

	// The sibling village asks the town for them, naming the first
	// village's entry: it is not sent that feed, so it gets nothing.
	if _, err := v2.Store.PutPhoto(c.Photos[0], mustPhoto(t, vc, c.Photos[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := v2.cases(t).Photo(c.Photos[0]); err == nil {
		t.Fatal("a village stored a photo it never asked for")
	}
	before := town.R.Rejected()["scope"]
	if err := v2.R.SendRaw(town.R.Name(), v2.R.EncodePhotoWant(c.Photos[0], v1.Store.Feed(), 2)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the sibling's request refused", func() bool { return town.R.Rejected()["scope"] > before })
	time.Sleep(300 * time.Millisecond) // an answer, were one sent, would be here by now
	if _, err := v2.cases(t).Photo(c.Photos[0]); err == nil {
		t.Fatal("the sibling village got another village's photo")
	}
	for _, n := range []*testNode{city, town, v1, v2} {
		n.MustVerify()
	}
}

func mustPhoto(t *testing.T, cs *bolt.Cases, sum string) []byte {
	t.Helper()
	b, err := cs.Photo(sum)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFindingPhotosGoDown: an inspection finding's photo goes down with
// the finding to the village it concerns, over real nodes; the sibling
// village gets neither.
func TestFindingPhotosGoDown(t *testing.T) {
	ctx := context.Background()
	_, town, v1, v2 := caseCluster(t)
	v1.Start()
	v2.Start()
	today := time.Now().Format(time.DateOnly)
	f, err := town.Store.AddFindingPhotos(ctx, "u-insp", appliance.Finding{Village: villageCode, Way: appliance.WayUnannounced, Date: today,
		Subject: appliance.SubjectVillage, SubjectID: villageCode, Rule: "v-f-absent", Text: "暗访时值班室无人", Inspector: "赵督查"},
		[][]byte{testPhoto(t, 7)}, today)
	if err != nil || len(f.Photos) != 1 {
		t.Fatalf("finding: %v %+v", err, f)
	}
	if _, err := town.Store.CopyDown(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	want, err := town.Store.FindingPhoto(villageCode, f.Photos[0])
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the finding's photo at the village", func() bool {
		got, err := v1.Store.FindingPhoto(villageCode, f.Photos[0])
		return err == nil && bytes.Equal(got, want)
	})
	if fs, _ := v2.Store.Findings(""); len(fs) != 0 {
		t.Fatalf("the sibling village holds %d findings", len(fs))
	}
	if _, err := v2.cases(t).Photo(f.Photos[0]); err == nil {
		t.Fatal("the sibling village holds the finding's photo")
	}
	for _, n := range []*testNode{town, v1, v2} {
		n.MustVerify()
	}
}
