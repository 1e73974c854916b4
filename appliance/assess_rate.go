package appliance

import (
	"strings"
	"time"
)

// KindDeptRating is a village's rating of a town department that handled
// one of its escalated cases (two-way assessment: 双向评议): how timely,
// and how good the result. One per case and department; the first stands.
const KindDeptRating = "assess.dept_rating"

// DeptRating is the body of a KindDeptRating entry.
type DeptRating struct {
	Village    string `json:"village"`
	Case       string `json:"case"`
	Department string `json:"department"`
	Date       string `json:"date"`
	Timeliness string `json:"timeliness"` // a RatingLabels key
	Result     string `json:"result"`     // a RatingLabels key
	Text       string `json:"text,omitempty"`
	By         string `json:"by"` // name
}

// Key of a rating in views: one per case and department.
func (r *DeptRating) Key() string { return r.Village + "/" + r.Case + "/" + r.Department }

func (r *DeptRating) Validate() error {
	if len(r.Village) != 12 {
		return FieldError("village", "村代码应为12位")
	}
	if _, err := NormalizeReceiptCode(r.Case); err != nil || r.Case == "" {
		return FieldError("case", "问题编号格式错误")
	}
	if err := requireText("department", "承办部门", r.Department, 30); err != nil {
		return err
	}
	if strings.Contains(r.Department, "/") {
		return FieldError("department", "部门名称不能含有 /")
	}
	if _, err := time.Parse(time.DateOnly, r.Date); err != nil {
		return FieldError("date", "日期格式应为 年-月-日")
	}
	if _, ok := RatingLabels[r.Timeliness]; !ok {
		return FieldError("timeliness", "请评价办理是否及时")
	}
	if _, ok := RatingLabels[r.Result]; !ok {
		return FieldError("result", "请评价办理结果")
	}
	if err := optionalText("text", "评价意见", r.Text, 500); err != nil {
		return err
	}
	return requireText("by", "评价人", r.By, 30)
}
