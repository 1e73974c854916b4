package bolt

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gridbox/appliance"
)

// AppraisalFacts works out a work-team member's year at the village: days
// signed in, journals, and, when the member is linked to a staff record,
// visits, the year's score (as of today) and the findings on them.
func (s *Store) AppraisalFacts(village string, year int, member, today string) (appliance.TeamMember, appliance.AppraisalFacts, error) {
	var f appliance.AppraisalFacts
	team, err := s.Team(village)
	if err != nil {
		return appliance.TeamMember{}, f, err
	}
	m, ok := team.Member(member)
	if !ok {
		return m, f, appliance.FieldError("member", "工作队里没有这名队员")
	}
	from, to := fmt.Sprintf("%d-01-01", year), fmt.Sprintf("%d-12-31", year)
	days, err := s.TeamDays(village, from, to)
	if err != nil {
		return m, f, err
	}
	f.DaysIn, f.DaysRequired = days[m.ID], m.Days*12
	js, err := s.Journals(village, m.ID)
	if err != nil {
		return m, f, err
	}
	for _, j := range js {
		if j.Date >= from && j.Date <= to {
			f.Journals++
		}
	}
	if m.StaffID != "" {
		vs, err := s.Visits(m.StaffID, from, to)
		if err != nil {
			return m, f, err
		}
		f.Visits = len(vs)
		p, _ := appliance.PeriodOf(appliance.PeriodYear, from)
		scores, err := s.Scores(village, p, today)
		if err != nil {
			return m, f, err
		}
		for _, sc := range scores {
			if sc.Subject == appliance.SubjectPerson && sc.ID == m.StaffID {
				f.Score = appliance.Points(sc.Total)
			}
		}
		fs, err := s.Findings(village)
		if err != nil {
			return m, f, err
		}
		for _, x := range fs {
			if x.Subject == appliance.SubjectPerson && x.SubjectID == m.StaffID && x.Decision != appliance.DecisionUpheld && strings.HasPrefix(x.Date, from[:4]) {
				f.Findings++
			}
		}
	}
	return m, f, nil
}

// SetAppraisal saves (or edits) a member's appraisal for a year; the
// facts are worked out here. The village or its town writes it.
func (s *Store) SetAppraisal(ctx context.Context, author string, a appliance.Appraisal, today string) (appliance.Appraisal, error) {
	if appliance.ValidateDivisionCode(a.Village, appliance.NodeVillage) != nil {
		return a, appliance.FieldError("village", "请选择队员驻村的村")
	}
	node, err := s.Node()
	if err != nil {
		return a, err
	}
	if node.Code != a.Village && node.Code != appliance.TownOf(a.Village) {
		return a, appliance.Errorf(appliance.EFORBIDDEN, "鉴定由驻村的村或其乡镇出具")
	}
	m, facts, err := s.AppraisalFacts(a.Village, a.Year, a.Member, today)
	if err != nil {
		return a, err
	}
	a.Name, a.Unit, a.Facts, a.Writer = m.Name, m.Unit, facts, node.Code
	a.Text, a.Signer = strings.TrimSpace(a.Text), strings.TrimSpace(a.Signer)
	if a.Date == "" {
		a.Date = today
	}
	if _, err := time.Parse(time.DateOnly, a.Date); err == nil && a.Date > today {
		return a, appliance.FieldError("date", "签署日期不能晚于今天")
	}
	if err := a.Validate(); err != nil {
		return a, err
	}
	_, err = s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindAppraisal, Version: 1, Body: a})
	return a, err
}

// Appraisal returns a saved appraisal; ENOTFOUND when there is none.
func (s *Store) Appraisal(village string, year int, member string) (appliance.Appraisal, error) {
	return lwwOne[appliance.Appraisal](s, bucketAssessAppraisals, fmt.Sprintf("%s/%d/%s", village, year, member), "还没有出具鉴定")
}
