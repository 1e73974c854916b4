package ui

import (
	"bytes"
	"fmt"
	"html"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// showPopulation shows each group's counts and age pyramid (drawn on the
// server as SVG, so it needs no script and prints as it looks).
func (s *Server) showPopulation(c *fiber.Ctx) error {
	u := currentUser(c)
	groups, err := s.groupsInScope(u)
	if err != nil {
		return err
	}
	scope := scopeOf(u)
	if g := c.Query("group"); g != "" && appliance.InScope(scope, g) {
		scope = g
	}
	st, err := s.Store.ArchiveStats(scope, s.now())
	if err != nil {
		return err
	}
	total := appliance.GroupStats{Group: scope}
	for _, g := range st {
		total.Add(g)
	}
	return s.render(c, "household_population", fiber.Map{"Title": "人口概况", "Stats": st, "Total": total, "Groups": groups,
		"GroupNames": groupNames(groups), "Group": c.Query("group"), "AgeLabels": appliance.AgeBandLabels,
		"Pyramid": s.pyramidFor(st)})
}

func (s *Server) pyramidFor(st []appliance.GroupStats) []appliance.PyramidRow {
	var rows []appliance.PyramidRow
	for _, g := range st {
		if rows == nil && g.Pyramid != nil {
			rows = make([]appliance.PyramidRow, len(g.Pyramid))
			copy(rows, g.Pyramid)
			for i := range rows {
				rows[i].Male, rows[i].Female = 0, 0
			}
		}
		for i := range g.Pyramid {
			rows[i].Male += g.Pyramid[i].Male
			rows[i].Female += g.Pyramid[i].Female
		}
	}
	return rows
}

// servePyramid answers /staff/population/GROUP.svg (GROUP "all" for the scope).
func (s *Server) servePyramid(c *fiber.Ctx) error {
	scope := scopeOf(currentUser(c))
	if g := c.Params("group"); g != "all" {
		if !appliance.InScope(scope, g) {
			return appliance.Errorf(appliance.ENOTFOUND, "网格不存在")
		}
		scope = g
	}
	st, err := s.Store.ArchiveStats(scope, s.now())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(PyramidSVG(s.pyramidFor(st)))
}

// PyramidSVG draws an age pyramid: men on the left, women on the right,
// oldest band on top.
func PyramidSVG(rows []appliance.PyramidRow) []byte {
	const w, rowH, mid, label = 640, 22, 320, 60
	var max int64 = 1
	for _, r := range rows {
		if r.Male > max {
			max = r.Male
		}
		if r.Female > max {
			max = r.Female
		}
	}
	h := len(rows)*rowH + 50
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="年龄金字塔" font-family="sans-serif" font-size="13">`, w, h)
	fmt.Fprintf(&b, `<text x="%d" y="16" text-anchor="end" fill="#0b5394">男</text><text x="%d" y="16" fill="#b3261e">女</text>`, mid-label/2-8, mid+label/2+8)
	scale := float64(mid-label/2-50) / float64(max)
	for i, r := range rows {
		y := 26 + i*rowH
		mw, fw := float64(r.Male)*scale, float64(r.Female)*scale
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#0b5394"><title>%s 男 %d</title></rect>`, float64(mid-label/2)-mw, y, mw, rowH-4, html.EscapeString(r.Label), r.Male)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="#b3261e"><title>%s 女 %d</title></rect>`, mid+label/2, y, fw, rowH-4, html.EscapeString(r.Label), r.Female)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`, mid, y+rowH-8, html.EscapeString(r.Label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="end" fill="#555">%d</text>`, float64(mid-label/2)-mw-4, y+rowH-8, r.Male)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="#555">%d</text>`, float64(mid+label/2)+fw+4, y+rowH-8, r.Female)
	}
	b.WriteString(`</svg>`)
	return b.Bytes()
}
