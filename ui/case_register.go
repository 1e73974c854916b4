package ui

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// registerDays reads ?period=day|week|month&date= (today by default).
func (u *caseUI) registerDays(c *fiber.Ctx) ([]bolt.RegisterDay, string, string, error) {
	period, date := c.Query("period", "day"), c.Query("date", u.s.today())
	days, err := u.cases.RegisterPeriod(u.s.Config.Node.Code, period, date)
	return days, period, date, err
}

func (u *caseUI) showRegister(c *fiber.Ctx) error {
	data := fiber.Map{"Title": "问题台账"}
	days, period, date, err := u.registerDays(c)
	data["Period"], data["Date"] = period, date
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		setFormError(c, data, err)
		return u.s.render(c, "case_register", data)
	}
	data["Days"] = days
	data["CanClose"] = currentUser(c).Can(appliance.PermEscalateCase) && u.s.Config.Node.Role == appliance.NodeVillage
	data["Closed"] = c.Query("closed") == "1"
	return u.s.render(c, "case_register", data)
}

func (u *caseUI) submitRegisterClose(c *fiber.Ctx) error {
	day := c.FormValue("day")
	if _, err := u.cases.CloseRegister(c.UserContext(), actor(c), day); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		days, _ := u.cases.RegisterRows(u.s.Config.Node.Code, day, day)
		data := fiber.Map{"Title": "问题台账", "Days": days, "Period": "day", "Date": day, "CanClose": true}
		setFormError(c, data, err)
		return u.s.render(c, "case_register", data)
	}
	return c.Redirect("/staff/cases/register?date="+day+"&closed=1", fiber.StatusSeeOther)
}

// exportRegister sends the register of a day, week or month as .xlsx.
func (u *caseUI) exportRegister(c *fiber.Ctx) error {
	days, period, date, err := u.registerDays(c)
	if err != nil {
		return err
	}
	data, err := registerXLSX(u.s.Config.Node.Name, days)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="register-%s-%s.xlsx"`, period, date))
	return c.Send(data)
}

// registerXLSX writes the register: one line per group per day, a total
// per day, and whether the day was closed (with its hash).
func registerXLSX(village string, days []bolt.RegisterDay) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := "问题台账"
	f.SetSheetName("Sheet1", sheet)
	title := village + "问题台账"
	if len(days) > 0 {
		title += fmt.Sprintf("（%s 至 %s）", days[0].Day, days[len(days)-1].Day)
	}
	f.SetCellValue(sheet, "A1", title)
	head := []any{"日期", "网格（村组）", "当日反映", "村组办结", "上报", "关账", "关账哈希"}
	if err := f.SetSheetRow(sheet, "A2", &head); err != nil {
		return nil, err
	}
	row := 3
	put := func(vals []any) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		row++
		return f.SetSheetRow(sheet, cell, &vals)
	}
	for _, d := range days {
		closed, hash := "未关账", ""
		if d.Closed != nil {
			closed, hash = "已关账", d.Closed.Hash
			if d.Mismatch {
				closed = "已关账，但关账后数据有变动"
			}
		}
		for _, r := range d.Rows {
			if err := put([]any{d.Day, r.Name, r.Reported, r.Resolved, r.Escalated, "", ""}); err != nil {
				return nil, err
			}
		}
		if err := put([]any{d.Day, "合计", d.Total.Reported, d.Total.Resolved, d.Total.Escalated, closed, hash}); err != nil {
			return nil, err
		}
	}
	f.SetColWidth(sheet, "A", "A", 12)
	f.SetColWidth(sheet, "B", "B", 16)
	f.SetColWidth(sheet, "F", "F", 24)
	f.SetColWidth(sheet, "G", "G", 66)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
