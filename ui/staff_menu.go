package ui

import (
	"slices"
	"strings"

	"gridbox/appliance"
)

// The staff menu (docs/staff-pages.md): every staff page registers its
// entry in staffNav from its file's init, with the permission it needs, the
// section of the full menu it belongs to, and the roles for whom it is one
// of the few entries always on screen (on a phone, the only ones before
// 更多). A role sees at most maxPrimary of those, in registration order.

// NavItem is an entry of the staff menu.
type NavItem struct {
	Href, Label string
	Perm        appliance.Permission // "" for any staff account
	Section     string               // one of navSections; "" puts it under 我的
	Node        string               // only on a node of this role; "" on any
	Printing    bool                 // only on a node that prints
	Primary     []appliance.Role     // roles that see it among the first entries
	Rank        int                  // order among those (lower first, then registration order)
}

var staffNav []NavItem

// navSections are the headings of the full menu (更多), in order.
var navSections = []string{"问题办理", "户籍与走访", "村务", "系统", "我的"}

// maxPrimary bounds the entries always shown: five cells of a 390 px
// phone's width, the fifth being 更多.
const maxPrimary = 4

// navSection is one heading of the full menu with its entries.
type navSection struct {
	Title string
	Items []NavItem
}

// staffMenu is the menu of one person on one page.
type staffMenu struct {
	Primary  []NavItem
	Sections []navSection
	Current  string // Href of the entry for this page
}

// menuFor builds the menu a user may use on this node; here is the path
// and query of the page, to mark its entry.
func (s *Server) menuFor(u *appliance.User, here string) staffMenu {
	var m staffMenu
	bySection := map[string][]NavItem{}
	for _, n := range staffNav {
		if n.Perm != "" && !u.Can(n.Perm) || n.Node != "" && n.Node != s.Config.Node.Role || n.Printing && s.Printing == nil {
			continue
		}
		if slices.Contains(n.Primary, u.Role) {
			m.Primary = append(m.Primary, n)
		}
		sec := n.Section
		if !slices.Contains(navSections, sec) {
			sec = "我的"
		}
		bySection[sec] = append(bySection[sec], n)
		if n.Href == here || m.Current == "" && pathOf(n.Href) == pathOf(here) {
			m.Current = n.Href
		}
	}
	slices.SortStableFunc(m.Primary, func(a, b NavItem) int { return a.Rank - b.Rank })
	m.Primary = m.Primary[:min(len(m.Primary), maxPrimary)]
	for _, s := range navSections {
		if len(bySection[s]) > 0 {
			m.Sections = append(m.Sections, navSection{s, bySection[s]})
		}
	}
	return m
}

func pathOf(href string) string {
	p, _, _ := strings.Cut(href, "?")
	return p
}

// The entries of the pages of the foundation; feature files add theirs.
func init() {
	staffNav = append(staffNav,
		NavItem{Href: "/staff/grid", Label: "网格与人员", Perm: appliance.PermViewDashboard, Section: "村务"},
		NavItem{Href: "/staff/duty", Label: "值班安排", Perm: appliance.PermViewDashboard, Section: "村务"},
		NavItem{Href: "/staff/notices", Label: "通知公告", Perm: appliance.PermManageNotices, Section: "村务"},
		NavItem{Href: "/staff/users", Label: "账号管理", Perm: appliance.PermManageUsers, Section: "系统", Primary: []appliance.Role{appliance.RoleAdmin}},
		NavItem{Href: "/staff/account", Label: "我的账号", Section: "我的"},
		NavItem{Href: "/", Label: "自助终端首页", Section: "我的"},
	)
}
