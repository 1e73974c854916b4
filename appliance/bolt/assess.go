package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gridbox/appliance"
)

// The 100-point assessment (docs/assessment.md): the town's rule tables,
// inspection findings and objections. Scores are not stored: they are
// computed from these and the other views (appliance.ComputeScores), so
// a village and its town holding the same entries get the same numbers.
const (
	bucketAssessRules      = "v_assess_rules"      // town "/" version (6 digits) → RuleTable (LWW); a town's go down to its villages
	bucketAssessFindings   = "v_assess_findings"   // town "/" id → Finding (LWW: the decision is a later version); down to the village concerned
	bucketAssessObjections = "v_assess_objections" // finding key → Objection (the first by HLC stands)
	bucketAssessPlans      = "v_assess_plans"      // town "/" id → Inspection (LWW); plans stay at the town
	bucketAssessRatings    = "v_assess_ratings"    // village "/" case "/" department → DeptRating (the first by HLC stands)
	bucketAssessAppraisals = "v_assess_appraisals" // village "/" year "/" member → Appraisal (LWW)
)

type assessView struct{}

func (assessView) Name() string { return "assess" }
func (assessView) Buckets() []string {
	return []string{bucketAssessRules, bucketAssessFindings, bucketAssessObjections, bucketAssessPlans, bucketAssessRatings, bucketAssessAppraisals, bucketAssessTownScores}
}

func (assessView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindAssessRules:
		return putLWWAs(tx, e, bucketAssessRules, ruleTableKey)
	case appliance.KindAssessFinding:
		return putLWWAs(tx, e, bucketAssessFindings, func(f *appliance.Finding) string { return f.Key() })
	case appliance.KindAppraisal:
		return putLWWAs(tx, e, bucketAssessAppraisals, func(a *appliance.Appraisal) string { return a.Key() })
	case appliance.KindAssessPlan:
		return putLWWAs(tx, e, bucketAssessPlans, func(p *appliance.Inspection) string { return p.Key() })
	case appliance.KindTownScores:
		return applyTownScores(tx, e)
	case appliance.KindAssessObjection:
		var o appliance.Objection
		if !decodeOK(e, &o) {
			return nil
		}
		return putFirst(tx, bucketAssessObjections, o.Finding, e)
	case appliance.KindDeptRating:
		var r appliance.DeptRating
		if !decodeOK(e, &r) {
			return nil
		}
		return putFirst(tx, bucketAssessRatings, r.Key(), e)
	}
	return nil
}

func init() { RegisterView(assessView{}) }

// putFirst keeps e's body at key unless an earlier entry (by HLC) is
// there: one objection per finding, one rating per case and department,
// whatever order they arrive in.
func putFirst(tx *Tx, bucket, key string, e *appliance.Entry) error {
	_, err := tx.PutLWW(bucket, key, &appliance.Entry{Time: ^e.Time, Feed: e.Feed, Seq: ^e.Seq}, e.Body)
	return err
}

func ruleTableKey(t *appliance.RuleTable) string { return fmt.Sprintf("%s/%06d", t.Town, t.Version) }

// RuleTables returns the versions of town's rule table this node holds, in
// the order they take effect.
func (s *Store) RuleTables(town string) ([]appliance.RuleTable, error) {
	var out []appliance.RuleTable
	err := s.Read(func(tx *Tx) error {
		var err error
		out, err = ruleTablesTx(tx, town)
		return err
	})
	return out, err
}

func ruleTablesTx(tx *Tx, town string) ([]appliance.RuleTable, error) {
	out, err := lwwList[appliance.RuleTable](tx, bucketAssessRules, town+"/")
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].From != out[j].From {
			return out[i].From < out[j].From
		}
		return out[i].Version < out[j].Version
	})
	return out, err
}

func lwwList[T any](tx *Tx, bucket, prefix string) ([]T, error) {
	var out []T
	err := tx.EachLWW(bucket, prefix, func(_ string, v []byte) error {
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, err
}

// SetRuleTable writes a new version of the town's rule table, in force
// from t.From, which may not be before today: a change never rewrites a
// day already scored. Only a town node sets rules; they go down to its
// villages.
func (s *Store) SetRuleTable(ctx context.Context, author string, t appliance.RuleTable, today string) (appliance.RuleTable, error) {
	if t.From < today {
		return t, appliance.FieldError("from", "生效日期不能早于今天（%s）：修改规则不能改动已经过去的考核", today)
	}
	node, err := s.Node()
	if err != nil {
		return t, err
	}
	if node.Role != appliance.NodeTown {
		return t, appliance.Errorf(appliance.EFORBIDDEN, "考核规则由乡镇制定，下发到各村")
	}
	t.Town = node.Code
	t.Note = strings.TrimSpace(t.Note)
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		old, err := ruleTablesTx(tx, t.Town)
		if err != nil {
			return nil, err
		}
		t.Version = 1
		for _, o := range old {
			t.Version = max(t.Version, o.Version+1)
		}
		if err := t.Validate(); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindAssessRules, Version: 1, Body: t}}, nil
	})
	return t, err
}

// FindingView is a finding with its objection, if any.
type FindingView struct {
	appliance.Finding
	Objection *appliance.Objection `json:"objection,omitempty"`
}

// Findings returns the findings concerning villages whose code starts
// with prefix (a village, or a town's first 9 digits), newest first.
func (s *Store) Findings(prefix string) ([]FindingView, error) {
	var out []FindingView
	err := s.Read(func(tx *Tx) error {
		fs, err := lwwList[appliance.Finding](tx, bucketAssessFindings, "")
		if err != nil {
			return err
		}
		for _, f := range fs {
			if !strings.HasPrefix(f.Village, prefix) {
				continue
			}
			v := FindingView{Finding: f}
			var o appliance.Objection
			if ok, err := tx.LWWJSON(bucketAssessObjections, f.Key(), &o); err != nil {
				return err
			} else if ok {
				v.Objection = &o
			}
			out = append(out, v)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID > out[j].ID
	})
	return out, err
}

// Finding returns one finding by key (town/id).
func (s *Store) Finding(key string) (FindingView, error) {
	town, _, _ := strings.Cut(key, "/")
	fs, err := s.Findings("")
	for _, f := range fs {
		if f.Key() == key && f.Town == town {
			return f, err
		}
	}
	if err == nil {
		err = appliance.Errorf(appliance.ENOTFOUND, "督查记录不存在")
	}
	return FindingView{}, err
}

// AddFinding records an inspection finding, under a finding rule of the
// table in force on its date for its subject. Only a town node does.
// Photos it names must be held here (AddFindingPhotos takes new ones).
func (s *Store) AddFinding(ctx context.Context, author string, f appliance.Finding, today string) (appliance.Finding, error) {
	return s.AddFindingPhotos(ctx, author, f, nil, today)
}

// AddFindingPhotos records a finding with photos uploaded with it: checked
// and stored as a case's are (appliance.PreparePhoto), in the same
// transaction as the finding, and sent down with it to the village.
func (s *Store) AddFindingPhotos(ctx context.Context, author string, f appliance.Finding, photos [][]byte, today string) (appliance.Finding, error) {
	if len(f.Photos)+len(photos) > appliance.MaxCasePhotos {
		return f, appliance.FieldError("photos", "照片最多%d张", appliance.MaxCasePhotos)
	}
	blobs := map[string][]byte{}
	for _, p := range photos {
		data, sum, err := appliance.PreparePhoto(p)
		if err != nil {
			return f, err
		}
		if _, dup := blobs[sum]; !dup {
			blobs[sum] = data
			f.Photos = append(f.Photos, sum)
		}
	}
	node, err := s.Node()
	if err != nil {
		return f, err
	}
	f.Town, f.Decision, f.DecisionText, f.DecisionDate = node.Code, "", "", ""
	f.Text, f.Inspector = strings.TrimSpace(f.Text), strings.TrimSpace(f.Inspector)
	if f.ID == "" {
		f.ID = s.NewRecordID("f")
	}
	if f.Units == 0 {
		f.Units = 1
	}
	if err := f.Validate(); err != nil {
		return f, err
	}
	if f.Date > today {
		return f, appliance.FieldError("date", "督查日期不能晚于今天")
	}
	if node.Role != appliance.NodeTown {
		return f, appliance.Errorf(appliance.EFORBIDDEN, "督查记录由乡镇督查指导组填写")
	}
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		tables, err := ruleTablesTx(tx, f.Town)
		if err != nil {
			return nil, err
		}
		r := appliance.TableOn(tables, f.Town, f.Date).Rule(f.Rule)
		if r == nil || r.Metric != appliance.MetricFinding || r.Subject != f.Subject {
			return nil, appliance.FieldError("rule", "%s 施行的规则表中没有适用于%s的这条督查规则", f.Date, appliance.SubjectLabels[f.Subject])
		}
		for _, p := range f.Photos {
			if blobs[p] == nil && !tx.heldBlob(p) {
				return nil, appliance.FieldError("photos", "照片 %s 不在本节点上，请通过页面上传", p[:12])
			}
		}
		if err := putBlobs(tx, bucketCasePhotos, blobs); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindAssessFinding, Version: 1, Body: f}}, nil
	})
	return f, err
}

// ObjectFinding records the inspected side's objection; once per finding,
// and not after the decision.
func (s *Store) ObjectFinding(ctx context.Context, author string, o appliance.Objection) error {
	o.Text, o.By = strings.TrimSpace(o.Text), strings.TrimSpace(o.By)
	if err := o.Validate(); err != nil {
		return err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var f appliance.Finding
		if ok, err := tx.LWWJSON(bucketAssessFindings, o.Finding, &f); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "督查记录不存在")
		}
		if tx.GetLWW(bucketAssessObjections, o.Finding) != nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这条督查记录已经提出过异议，每条只能提一次")
		}
		if f.Decision != "" {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这条督查记录已经作出处理决定")
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindAssessObjection, Version: 1, Body: o}}, nil
	})
	return err
}

// DecideObjection records the town's decision on an objection: upheld
// voids the finding's points, rejected keeps them. Once.
func (s *Store) DecideObjection(ctx context.Context, author, key, decision, text, today string) (appliance.Finding, error) {
	var f appliance.Finding
	if _, ok := appliance.DecisionLabels[decision]; !ok {
		return f, appliance.FieldError("decision", "请选择异议处理结果：成立或不成立")
	}
	node, err := s.Node()
	if err != nil {
		return f, err
	}
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if ok, err := tx.LWWJSON(bucketAssessFindings, key, &f); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "督查记录不存在")
		}
		if f.Town != node.Code {
			return nil, appliance.Errorf(appliance.EFORBIDDEN, "异议由作出督查结论的乡镇处理")
		}
		if tx.GetLWW(bucketAssessObjections, key) == nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这条督查记录没有异议，无需处理")
		}
		if f.Decision != "" {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这条异议已经处理过")
		}
		f.Decision, f.DecisionText, f.DecisionDate = decision, strings.TrimSpace(text), today
		if err := f.Validate(); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindAssessFinding, Version: 1, Body: f}}, nil
	})
	return f, err
}

// AssessInput gathers what scores of scope (a village's code, or a town's:
// all its villages) for period p are computed from, as of today.
func (s *Store) AssessInput(scope, today string, p appliance.Period) (*appliance.AssessInput, error) {
	town := appliance.TownOf(scope)
	prefix := scope
	if scope == town {
		prefix = town[:9]
	}
	in := &appliance.AssessInput{Town: town, AsOf: today, Households: map[string]int{}, Registers: map[string][]string{}}
	err := s.Read(func(tx *Tx) error {
		var err error
		if in.Tables, err = ruleTablesTx(tx, town); err != nil {
			return err
		}
		grids, err := lwwList[appliance.Grid](tx, bucketGrids, prefix)
		if err != nil {
			return err
		}
		for _, g := range grids {
			switch {
			case g.Level == appliance.LevelVillage:
				in.Villages = append(in.Villages, g)
			case g.Level == appliance.LevelGroup:
				in.Groups = append(in.Groups, g)
			}
		}
		staff, err := lwwList[appliance.StaffMember](tx, bucketStaff, "")
		if err != nil {
			return err
		}
		for _, m := range staff {
			if strings.HasPrefix(m.Grid, prefix) {
				in.Staff = append(in.Staff, m)
			}
		}
		c := tx.Bucket(bucketHHGroup).Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
			if g, _, ok := strings.Cut(string(k), "/"); ok {
				in.Households[g]++
			}
		}
		if err := tx.Bucket(bucketCases).ForEach(func(_, v []byte) error {
			var cs appliance.Case
			if err := json.Unmarshal(v, &cs); err != nil {
				return err
			}
			if strings.HasPrefix(cs.Village, prefix) {
				in.Cases = append(in.Cases, cs)
			}
			return nil
		}); err != nil {
			return err
		}
		// Visits of the period only, found by group and day without
		// decoding the others (a year of a town is most of its entries);
		// every group that has visits, whether or not its grid is known.
		vb, vg := tx.Bucket(bucketVisits), tx.Bucket(bucketVisitGroup).Cursor()
		for k, w := vg.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); {
			slash := bytes.IndexByte(k, '/')
			if slash < 0 {
				k, w = vg.Next()
				continue
			}
			group, rest := k[:slash+1], string(k[slash+1:])
			switch {
			case rest < p.From:
				k, w = vg.Seek(append(append([]byte(nil), group...), p.From...))
				continue
			case rest > p.To+"~":
				k, w = vg.Seek(append(append([]byte(nil), group...), 0xff))
				continue
			}
			if data := vb.Get(append(append(append([]byte(nil), w...), '/'), rest...)); data != nil {
				var vi appliance.Visit
				if err := json.Unmarshal(data, &vi); err != nil {
					return err
				}
				in.Visits = append(in.Visits, vi)
			}
			k, w = vg.Next()
		}
		if in.DutyLogs, err = lwwList[appliance.DutyLog](tx, bucketDutyLog, prefix); err != nil {
			return err
		}
		shifts, err := lwwList[appliance.DutyShift](tx, bucketDuty, prefix)
		if err != nil {
			return err
		}
		for _, sh := range shifts {
			if len(sh.Grid) == 12 && sh.Grid != town {
				in.Shifts = append(in.Shifts, sh)
			}
		}
		meetings, err := lwwList[appliance.Meeting](tx, bucketMeetings, prefix)
		if err != nil {
			return err
		}
		for _, m := range meetings {
			if m.Grid != town {
				in.Meetings = append(in.Meetings, m)
			}
		}
		rc := tx.Bucket(bucketCaseRegister).Cursor()
		for k, _ := rc.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = rc.Next() {
			if v, d, ok := strings.Cut(string(k), "|"); ok {
				in.Registers[v] = append(in.Registers[v], d)
			}
		}
		if in.Services, err = lwwList[appliance.ServiceRequest](tx, bucketServiceRequests, prefix); err != nil {
			return err
		}
		if in.Ratings, err = lwwList[appliance.DeptRating](tx, bucketAssessRatings, prefix); err != nil {
			return err
		}
		if in.Teams, err = lwwList[appliance.WorkTeam](tx, bucketTeams, prefix); err != nil {
			return err
		}
		signs, err := lwwList[appliance.TeamSign](tx, bucketTeamSigns, prefix)
		if err != nil {
			return err
		}
		for _, sg := range signs {
			if sg.Date <= p.To {
				in.TeamSigns = append(in.TeamSigns, sg)
			}
		}
		if p.To < today { // data quality counts once the period is over
			if in.Gaps, err = householdGapsTx(tx, prefix); err != nil {
				return err
			}
		}
		fs, err := lwwList[appliance.Finding](tx, bucketAssessFindings, town+"/")
		for _, f := range fs {
			if strings.HasPrefix(f.Village, prefix) {
				in.Findings = append(in.Findings, f)
			}
		}
		return err
	})
	return in, err
}

// Scores computes the scores of scope for period p as of today.
func (s *Store) Scores(scope string, p appliance.Period, today string) ([]appliance.Score, error) {
	in, err := s.AssessInput(scope, today, p)
	if err != nil {
		return nil, err
	}
	return appliance.ComputeScores(in, p), nil
}

// FindingPhoto returns a photo of a finding concerning a village whose
// code starts with prefix: only a finding's photo, so this path shows no
// case photo to those who may not see cases.
func (s *Store) FindingPhoto(prefix, sum string) ([]byte, error) {
	fs, err := s.Findings(prefix)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if slices.Contains(f.Photos, sum) {
			var out []byte
			err := s.Read(func(tx *Tx) error {
				if b := tx.tx.Bucket(bucketCasePhotos); b != nil {
					out = append(out, b.Get([]byte(sum))...)
				}
				return nil
			})
			if err == nil && len(out) == 0 {
				err = appliance.Errorf(appliance.ENOTFOUND, "照片还没有从乡镇传到本节点，请稍后再看")
			}
			return out, err
		}
	}
	return nil, appliance.Errorf(appliance.ENOTFOUND, "照片不存在")
}

// householdGapsTx lists the open households of groups under prefix whose
// required data is missing (appliance.MissingHouseholdData).
func householdGapsTx(tx *Tx, prefix string) ([]appliance.HouseholdGap, error) {
	var out []appliance.HouseholdGap
	c := tx.Bucket(bucketHHGroup).Cursor()
	for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
		group, hid, ok := strings.Cut(string(k), "/")
		if !ok {
			continue
		}
		h, found, err := tx.Household(hid)
		if err != nil {
			return nil, err
		} else if !found || h.Closed != "" {
			continue
		}
		ms, err := tx.Members(hid)
		if err != nil {
			return nil, err
		}
		if missing := appliance.MissingHouseholdData(&h, ms); len(missing) > 0 {
			out = append(out, appliance.HouseholdGap{Household: hid, Group: group, Missing: missing})
		}
	}
	return out, nil
}
