package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

// Meeting attendance by staff card at the kiosk screen: a scan in the
// meeting's mode signs the holder in once; the meeting page lists them; a
// scan from another device, a second scan and a household's card are
// refused in Chinese; 账号管理 offers 发证, then 打印, 补办 and 停用.
func TestStaffCardMeetingSignIn(t *testing.T) {
	ctx := context.Background()
	srv := uitest.MustStart(t, uitest.Options{})
	a, _ := dutyPeople(t, srv)
	today := time.Now().In(srv.Config.Location()).Format("2006-01-02")
	m, err := srv.Store.SetMeeting(ctx, "u-villagelead", appliance.Meeting{Grid: "410184104201", Kind: appliance.MeetingWeekly, Title: "本周工作碰头会", Date: today})
	if err != nil {
		t.Fatal(err)
	}
	lead := srv.Client(t)
	lead.Login("villagelead")
	if _, page := lead.Get("/staff/users"); !strings.Contains(page, `action="/staff/users/cards/`+a.ID+`"`) || !strings.Contains(page, "未发证") {
		t.Fatalf("账号管理 offers no card for %s:\n%s", a.Name, uitest.Text(page))
	}
	if st, loc, _ := lead.Post("/staff/users/cards/"+a.ID, url.Values{"action": {"issue"}}); st != 303 || !strings.HasPrefix(loc, "/staff/users?card=") {
		t.Fatalf("issue: %d %s", st, loc)
	}
	if _, page := lead.Get("/staff/users"); !strings.Contains(page, "/staff/print/pdf?kind=staff_card&amp;staff="+a.ID) || !strings.Contains(page, "补办（旧证作废）") {
		t.Errorf("账号管理 after issuing:\n%s", uitest.Text(page))
	}
	cards, err := srv.Store.StaffCards()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := appliance.NewTokenSigner(srv.Store.Secret())
	if err != nil {
		t.Fatal(err)
	}
	token := signer.Sign(bolt.TokenStaffCard, bolt.StaffCardTokenID(cards[a.ID]))
	mode := "meeting:" + m.Key()

	kiosk := srv.Client(t) // the box's own screen (127.0.0.1)
	if _, page := kiosk.Get("/signin"); !strings.Contains(page, "会议签到：本周工作碰头会") {
		t.Fatalf("the sign-in screen does not offer today's meeting:\n%s", uitest.Text(page))
	}
	st, _, page := kiosk.Post("/signin", url.Values{"for": {mode}, "token": {strings.ToLower(token)}}) // a scanner in lower case
	if st != 200 || !strings.Contains(uitest.Text(page), a.Name+" 会议签到：本周工作碰头会") {
		t.Fatalf("meeting sign-in: %d %s", st, uitest.Text(page))
	}
	if st, _, page := kiosk.Post("/signin", url.Values{"for": {mode}, "token": {token}}); st != 409 || !strings.Contains(page, "已经签到") {
		t.Errorf("a second scan: %d %s", st, uitest.Text(page))
	}
	if _, page := lead.Get("/staff/meetings/410184104201." + m.ID); !strings.Contains(uitest.Text(page), a.Name) {
		t.Errorf("the meeting page does not list %s", a.Name)
	}
	if _, signs, _ := srv.Store.Meeting(m.Key()); len(signs) != 1 || signs[0].StaffID != a.ID {
		t.Errorf("meeting signs: %+v", signs)
	}
	elsewhere := srv.ClientFrom(t, "127.0.0.30")
	if st, _, page := elsewhere.Post("/signin", url.Values{"for": {"duty_in"}, "token": {token}}); st != 400 || !strings.Contains(page, "只能在村便民服务终端上扫码签到") {
		t.Errorf("a scan from another device: %d %s", st, uitest.Text(page))
	}
	household := signer.Sign(bolt.TokenHousehold, "h1")
	if st, _, page := kiosk.Post("/signin", url.Values{"for": {"duty_in"}, "token": {household}}); st != 400 || !strings.Contains(page, "这不是工作证上的二维码") {
		t.Errorf("a household's card: %d %s", st, uitest.Text(page))
	}
	if day, _ := srv.Store.DutyDays("410184104201", []string{today}); len(day) != 1 || len(day[0].Lines) != 0 {
		t.Errorf("refused scans wrote duty lines: %+v", day)
	}
}
