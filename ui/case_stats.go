package ui

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func statsFilterOf(c *fiber.Ctx) bolt.CaseStatsFilter {
	return bolt.CaseStatsFilter{Scope: c.Query("scope"), Period: c.Query("period", "all"), Date: c.Query("date"), From: c.Query("from"), To: c.Query("to"), Category: c.Query("category")}
}

func (u *caseUI) showCaseStats(c *fiber.Ctx) error {
	f := statsFilterOf(c)
	data := fiber.Map{"Title": "问题统计", "F": f, "Today": u.s.today()}
	st, err := u.cases.Stats(f, u.s.now())
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		setFormError(c, data, err)
		return u.s.render(c, "case_stats", data)
	}
	// The places to narrow to: the towns, villages and groups this node holds.
	all, err := u.cases.Stats(bolt.CaseStatsFilter{}, u.s.now())
	if err != nil {
		return err
	}
	var places []appliance.CaseCount
	for _, ps := range [][]appliance.CaseCount{all.ByTown, all.ByVillage} {
		if len(ps) > 1 {
			places = append(places, ps...)
		}
	}
	// Groups' names repeat across villages (一组, 二组): a node holding
	// several villages names each group with its village.
	if u.s.Config.Node.Role != appliance.NodeVillage {
		villageLabels(all.ByGroup, all.ByVillage)
		villageLabels(st.ByGroup, all.ByVillage)
	}
	places = append(places, all.ByGroup...)
	data["S"], data["Sentence"], data["Places"] = st, st.Sentence(), places
	data["RatePct"] = fmt.Sprintf("%.1f%%", st.Rate*100)
	data["AvgHours"] = fmt.Sprintf("%.1f", st.AvgHours)
	data["ChartCategory"] = barChart(st.ByCategory)
	data["ChartStatus"] = barChart(st.ByStatus)
	data["ChartLevel"] = barChart(st.ByLevel)
	data["ChartSource"] = barChart(st.BySource)
	// A town (or city) node shows its villages (towns) even when only one
	// has sent anything yet; a village shows them only if it holds others.
	role := u.s.Config.Node.Role
	if len(st.ByTown) > 1 || (role == appliance.NodeCity && len(st.ByTown) > 0) {
		data["ChartTown"] = barChart(st.ByTown)
	}
	if len(st.ByVillage) > 1 || (role != appliance.NodeVillage && len(st.ByVillage) > 0) {
		data["ChartVillage"] = barChart(st.ByVillage)
	}
	if len(st.ByGroup) > 0 {
		data["ChartGroup"] = barChart(st.ByGroup)
	}
	if role == appliance.NodeCity {
		reps, err := u.cases.TownReports()
		if err != nil {
			return err
		}
		data["TownReports"], data["City"] = reps, true
	}
	return u.s.render(c, "case_stats", data)
}

// barChart draws a horizontal bar chart as inline SVG on the server, so
// it prints and shows without scripts.
func barChart(rows []appliance.CaseCount) template.HTML {
	const rowH, labelW, barW, pad = 30, 150, 420, 60
	var maxN int64 = 1
	for _, r := range rows {
		maxN = max(maxN, r.N)
	}
	h := rowH*len(rows) + 10
	var b strings.Builder
	alt := make([]string, len(rows))
	for i, r := range rows {
		alt[i] = fmt.Sprintf("%s %d", r.Label, r.N)
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		labelW+barW+pad, h, template.HTMLEscapeString(strings.Join(alt, "，")))
	for i, r := range rows {
		y := i*rowH + 5
		w := int(float64(barW) * float64(r.N) / float64(maxN))
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-size="15">%s</text>`, labelW-8, y+19, template.HTMLEscapeString(r.Label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#0b5394"/>`, labelW, y+4, max(w, 1), rowH-10)
		if r.Done > 0 {
			wd := int(float64(barW) * float64(r.Done) / float64(maxN))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="#1e6b2e"/>`, labelW, y+4, wd, rowH-10)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15">%d</text>`, labelW+w+6, y+19, r.N)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// villageLabels prefixes each group's label with its village's.
func villageLabels(groups, villages []appliance.CaseCount) {
	names := map[string]string{}
	for _, v := range villages {
		names[v.Key] = v.Label
	}
	for i, g := range groups {
		if v, _, ok := strings.Cut(g.Key, "-"); ok && names[v] != "" && !strings.HasPrefix(g.Label, names[v]) {
			groups[i].Label = names[v] + g.Label
		}
	}
}
