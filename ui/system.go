package ui

import (
	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The system page says how the box is: where it serves, the fingerprint
// of its HTTPS certificate (to check the first time a browser warns, and
// to print for the wall), its storage.

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/system", Label: "系统", Perm: appliance.PermViewDashboard, Section: "系统", Primary: []appliance.Role{appliance.RoleAdmin}})
	registerRoutes(func(s *Server) {
		s.app.Get("/staff/system", s.require(appliance.PermViewDashboard), s.showSystem)
	})
}

func (s *Server) showSystem(c *fiber.Ctx) error {
	st, err := s.Store.Stats()
	if err != nil {
		return err
	}
	free, _ := s.Store.DiskFree()
	// Rare characters of names print with a fallback font; without one
	// they come out as 〓, and the staff should know before a card does.
	var fonts []string
	printing := false
	if p, err := s.printing(); err == nil {
		fonts, printing = p.FallbackFonts(), true
	}
	data := fiber.Map{
		"Fonts": fonts, "Printing": printing,
		"Title": "系统", "Node": s.Config.Node, "NodeKey": s.Store.Feed().Fingerprint(),
		"HTTP": s.Config.HTTP.Listen, "TLSPort": s.tlsPort, "TLSFingerprint": s.tlsFingerprint,
		"Host": hostOnly(c.Hostname()), "Secure": isTLS(c),
		"DBBytes": st.FileSize, "Entries": st.Entries, "DiskFree": free, "StorageFull": s.Store.StorageFull(), "LowDisk": free < lowDisk,
	}
	return s.render(c, "system", data)
}
