package print

import (
	"context"
	"strings"
	"time"

	"gridbox/appliance"
)

func init() {
	register(Kind{Name: "service_slip", Title: "代办材料收取回执", New: func() Document { return &ServiceSlip{} }})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "service_slip", Title: "代办材料收取回执", Fields: []string{"record"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			grid, id, ok := strings.Cut(req.Record, ".")
			if !ok || grid != s.cfg.Node.Code || !appliance.ValidID(id) {
				return nil, appliance.FieldError("record", "请从服务申请页打印")
			}
			r, err := s.store.ServiceRequest(grid, id)
			if err != nil {
				if appliance.ErrorCode(err) == appliance.ENOTFOUND {
					return nil, appliance.FieldError("record", "没有这个服务申请")
				}
				return nil, err
			}
			slip := &ServiceSlip{Village: s.cfg.Node.Name, Code: r.ID, Item: r.Item, Staff: r.StaffName, DutyPhone: s.cfg.DutyPhone, Printed: time.Now().In(s.loc)}
			for _, p := range r.Papers {
				slip.Papers = append(slip.Papers, appliance.Paper{Name: p.Name, Taken: p.Taken, Returned: p.Returned})
			}
			return slip, nil
		},
	})
}

// ServiceSlip is the receipt a villager keeps for the papers a proxy
// service (代办) took: what, when, and when each came back. It names no
// villager: the code ties it to the request.
type ServiceSlip struct {
	Village   string            `json:"village,omitempty"`
	Code      string            `json:"code,omitempty"`
	Item      string            `json:"item,omitempty"`
	Papers    []appliance.Paper `json:"papers,omitempty"`
	Staff     string            `json:"staff,omitempty"`
	DutyPhone string            `json:"duty_phone,omitempty"`
	Printed   time.Time         `json:"printed,omitempty"`
}

func (*ServiceSlip) Kind() string { return "service_slip" }

func (sl *ServiceSlip) draw(d *doc) error {
	title := sl.Village + "代办材料收取回执"
	d.setTitle(title)
	d.header = nil
	d.ml, d.mr, d.mt, d.mb = 14, 14, 14, 14
	d.addPage(pageA5, false)
	d.heading(title, 15, center)
	d.gap(2)
	d.lines("申请编号："+sl.Code+"　　代办事项："+sl.Item, 11, left)
	d.gap(2)
	rows := make([][]string, len(sl.Papers))
	for i, p := range sl.Papers {
		rows[i] = []string{p.Name, p.Taken, or(p.Returned, "未退还")}
	}
	d.table("", []column{{"材料", 4, left}, {"收取日期", 2.4, left}, {"退还日期", 2.4, left}}, rows, 10)
	d.gap(3)
	d.para("以上材料由村里代为办理，办完后如数退还本人。有疑问请打值班电话 "+or(sl.DutyPhone, blank)+"，并报申请编号。", 10, 0)
	d.gap(4)
	d.lines("经办人："+or(sl.Staff, "__________")+"　　村民签字：__________", 11, left)
	if !sl.Printed.IsZero() {
		d.gap(2)
		d.lines(dateCN(sl.Printed), 10, right)
	}
	return nil
}
