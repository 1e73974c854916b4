package appliance

import (
	"fmt"
	"strings"
	"time"
)

// KindAppraisal is the yearly appraisal (鉴定) of a seconded cadre, a
// member of a village's work team: written by the town (for cadres the
// city sent) or the village (for the town's), sent to their home unit's
// personnel office. The last version stands.
const KindAppraisal = "assess.appraisal"

// AppraisalGrades are the grades, best first.
var AppraisalGrades = []string{"优秀", "称职", "基本称职", "不称职"}

// AppraisalFacts is the year's evidence an appraisal rests on; the store
// works it out when the appraisal is saved, not the writer.
type AppraisalFacts struct {
	DaysIn       int    `json:"days_in"`       // days signed in at the village
	DaysRequired int    `json:"days_required"` // days a month × 12
	Journals     int    `json:"journals"`      // work journal entries
	Visits       int    `json:"visits"`        // visits recorded as theirs (linked staff record)
	Score        string `json:"score,omitempty"`
	Findings     int    `json:"findings"` // inspection findings on them that stand
}

// Appraisal is the body of a KindAppraisal entry.
type Appraisal struct {
	Village string         `json:"village"`
	Year    int            `json:"year"`
	Member  string         `json:"member"` // team member id
	Name    string         `json:"name"`
	Unit    string         `json:"unit"` // home unit, whose personnel office receives it
	Writer  string         `json:"writer"`
	Facts   AppraisalFacts `json:"facts"`
	Text    string         `json:"text"`
	Grade   string         `json:"grade"`
	Signer  string         `json:"signer"` // who signs, with their post
	Date    string         `json:"date"`
}

// Key of an appraisal in views.
func (a *Appraisal) Key() string { return fmt.Sprintf("%s/%d/%s", a.Village, a.Year, a.Member) }

func (a *Appraisal) Validate() error {
	if len(a.Village) != 12 || (a.Writer != a.Village && a.Writer != TownOf(a.Village)) {
		return FieldError("village", "鉴定由驻村的村或其乡镇出具")
	}
	if a.Year < 2000 || a.Year > 2200 {
		return FieldError("year", "年度错误")
	}
	if !idRE.MatchString(a.Member) {
		return FieldError("member", "请选择工作队队员")
	}
	if err := requireText("name", "姓名", a.Name, 30); err != nil {
		return err
	}
	if err := requireText("unit", "派出单位", a.Unit, 40); err != nil {
		return err
	}
	if err := requireText("text", "鉴定意见", a.Text, 3000); err != nil {
		return err
	}
	if !contains(AppraisalGrades, a.Grade) {
		return FieldError("grade", "请选择鉴定等次")
	}
	if err := requireText("signer", "签署人", a.Signer, 40); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, a.Date); err != nil {
		return FieldError("date", "日期格式应为 年-月-日")
	}
	return nil
}

// DraftAppraisal is the text the writer starts from: the year's evidence
// in sentences, to be edited before signing.
func DraftAppraisal(name string, year int, f AppraisalFacts) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s同志%d年在村驻村工作期间，", name, year)
	if f.DaysRequired > 0 {
		fmt.Fprintf(&b, "全年在村签到%d天（应驻村%d天）", f.DaysIn, f.DaysRequired)
	} else {
		fmt.Fprintf(&b, "全年在村签到%d天", f.DaysIn)
	}
	fmt.Fprintf(&b, "，撰写驻村工作心得%d篇", f.Journals)
	if f.Visits > 0 {
		fmt.Fprintf(&b, "，走访巡查%d次", f.Visits)
	}
	if f.Score != "" {
		fmt.Fprintf(&b, "，年度考核积分%s分", f.Score)
	}
	if f.Findings > 0 {
		fmt.Fprintf(&b, "，被督查发现问题%d次", f.Findings)
	} else {
		b.WriteString("，未被督查发现问题")
	}
	b.WriteString("。")
	return b.String()
}
