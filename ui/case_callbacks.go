package ui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The duty staff's queue (回电与待分类): villagers who asked at the kiosk to
// be called back, oldest first, and what the duty room received as
// 其他 / 说不清 and has not yet sorted out. The outcome of a call is a
// case step (回电); sorting out is 改类别. Phones are masked here; the
// case page, where the call is recorded, shows the number.

// queueLimit bounds each list of the queue.
const queueLimit = 200

// callbackRow is a case waiting for a call.
type callbackRow struct {
	Case  *appliance.Case `json:"case"`
	Phone string          `json:"phone"` // masked
}

// ownGroup is groupScope as a filter field: nil for the whole node.
func ownGroup(usr *appliance.User) *string {
	if g := groupScope(usr); g != "" {
		return &g
	}
	return nil
}

// callbackQueue returns the cases waiting for a call, oldest first.
func (u *caseUI) callbackQueue(usr *appliance.User) ([]callbackRow, error) {
	cases, _, err := u.cases.FindCases(bolt.CaseFilter{Callback: ptr(true), Group: ownGroup(usr), Limit: queueLimit})
	if err != nil {
		return nil, err
	}
	slices.Reverse(cases)
	rows := make([]callbackRow, 0, len(cases))
	for _, cc := range cases {
		row := callbackRow{Case: cc}
		if r, err := u.cases.Reporter(cc.ID); err == nil {
			row.Phone = appliance.MaskPhone(r.Phone)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// triageQueue returns 其他 / 说不清 cases waiting at the village, oldest
// first (none for a grid leader: they are the village's to sort out).
func (u *caseUI) triageQueue(usr *appliance.User) ([]*appliance.Case, error) {
	var out []*appliance.Case
	if ownGroup(usr) != nil {
		return out, nil
	}
	for _, cat := range u.s.Config.Cases.Categories {
		if !cat.Triage {
			continue
		}
		cases, _, err := u.cases.FindCases(bolt.CaseFilter{Category: &cat.Key, Level: ptr(appliance.CaseLevelVillage), Status: ptr(appliance.StatusPending), Limit: queueLimit})
		if err != nil {
			return nil, err
		}
		out = append(out, cases...)
	}
	slices.SortFunc(out, func(a, b *appliance.Case) int { return a.Reported.Compare(b.Reported) })
	return out, nil
}

// queues returns both lists of the duty staff's queue.
func (u *caseUI) queues(c *fiber.Ctx) ([]callbackRow, []*appliance.Case, error) {
	calls, err := u.callbackQueue(currentUser(c))
	if err != nil {
		return nil, nil, err
	}
	triage, err := u.triageQueue(currentUser(c))
	return calls, append([]*appliance.Case{}, triage...), err
}

func (u *caseUI) showCallbacks(c *fiber.Ctx) error {
	calls, triage, err := u.queues(c)
	if err != nil {
		return err
	}
	return u.s.render(c, "case_callbacks", fiber.Map{"Title": "回电与待分类", "Calls": calls, "Triage": triage, "L": u.caseLabels()})
}

func (u *caseUI) apiCallbacks(c *fiber.Ctx) error {
	calls, triage, err := u.queues(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"callbacks": calls, "triage": triage})
}

// callbackCounter is the dashboard's 待回电 figure for those who call back.
func callbackCounter(s *Server, usr *appliance.User) ([]Counter, error) {
	if !usr.Can(appliance.PermRegisterCase) || s.Config.Node.Role != appliance.NodeVillage {
		return nil, nil
	}
	cases, _, err := s.cases.FindCases(bolt.CaseFilter{Callback: ptr(true), Group: ownGroup(usr), Limit: queueLimit})
	if err != nil {
		return nil, err
	}
	return []Counter{{Label: "待回电", Value: int64(len(cases)), Href: "/staff/cases/callbacks"}}, nil
}

func init() { dashboardCounters = append(dashboardCounters, callbackCounter) }

// serveVoice plays a case's voice message (?n= picks one when there are
// several). Byte ranges are served, so a player can seek.
func (u *caseUI) serveVoice(c *fiber.Ctx) error {
	cc, err := u.caseFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.Query("n", "0"))
	if n < 0 || n >= len(cc.Voice) {
		return appliance.Errorf(appliance.ENOTFOUND, "这个问题没有语音留言")
	}
	data, err := u.cases.Voice(cc.Voice[n])
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, appliance.VoiceType)
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	if from, to, ok := byteRange(c.Get(fiber.HeaderRange), len(data)); ok {
		c.Set(fiber.HeaderContentRange, "bytes "+strconv.Itoa(from)+"-"+strconv.Itoa(to)+"/"+strconv.Itoa(len(data)))
		return c.Status(fiber.StatusPartialContent).Send(data[from : to+1])
	}
	return c.Send(data)
}

// byteRange reads a single "bytes=a-b" range of a body of n bytes.
func byteRange(h string, n int) (from, to int, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") || n == 0 {
		return 0, 0, false
	}
	a, b, _ := strings.Cut(spec, "-")
	var err error
	switch {
	case a == "": // the last b bytes
		k, e := strconv.Atoi(b)
		from, to, err = max(0, n-k), n-1, e
	case b == "":
		from, err = strconv.Atoi(a)
		to = n - 1
	default:
		from, err = strconv.Atoi(a)
		if err == nil {
			to, err = strconv.Atoi(b)
		}
		to = min(to, n-1)
	}
	if err != nil || from < 0 || from > to {
		return 0, 0, false
	}
	return from, to, true
}
