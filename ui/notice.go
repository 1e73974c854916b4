package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

func init() {
	registerRoutes(func(s *Server) {
		// A town keeps its villages' downward feeds carrying its notices
		// and duty roster while it serves.
		ctx, cancel := context.WithCancel(context.Background())
		s.app.Hooks().OnListen(func(fiber.ListenData) error {
			go s.Store.RunCopyDown(ctx, s.now)
			return nil
		})
		s.app.Hooks().OnShutdown(func() error { cancel(); return nil })
	})
}

// copyDown writes a town's notices and duty roster to its villages'
// downward feeds at once, so a publication reaches every chosen village in
// the same request; what fails here the background run (RunCopyDown)
// completes.
func (s *Server) copyDown(ctx context.Context) {
	if s.Config.Node.Role != appliance.NodeTown && s.Config.Node.Role != appliance.NodeCity {
		return
	}
	if _, err := s.Store.CopyDown(ctx, s.now()); err != nil {
		s.Log.Error("copy down to villages", "err", err)
	}
}

// village is an enrolled village as the town's notice form offers it.
type village struct{ Code, Name string }

// enrolledVillages lists, on a town node, the villages it may send notices
// to, with names (the enrolment's, else the grid's, else the code).
func (s *Server) enrolledVillages() ([]village, error) {
	if s.Config.Node.Role != appliance.NodeTown {
		return nil, nil
	}
	ens, err := s.Store.EnrolledVillages()
	if err != nil {
		return nil, err
	}
	out := make([]village, 0, len(ens))
	for _, en := range ens {
		v := village{Code: en.Code, Name: en.Name}
		if v.Name == "" {
			v.Name = en.Code
			if g, err := s.Store.Grid(en.Code); err == nil {
				v.Name = g.Name
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// noticeRow is a line of the notice list on the staff page.
type noticeRow struct {
	appliance.Notice
	Targets string // a town's: 所有村 or the chosen villages' names
}

func (s *Server) showNoticeEdit(c *fiber.Ctx) error {
	form := appliance.Notice{Published: s.today()}
	if id := c.Query("edit"); id != "" {
		n, err := s.Store.Notice(s.Config.Node.Code, id)
		if err != nil {
			return err
		}
		form = n
	}
	return s.renderNoticeEdit(c, nil, form)
}

func (s *Server) renderNoticeEdit(c *fiber.Ctx, formErr error, form appliance.Notice) error {
	notices, err := s.Store.FindNotices(s.Config.Node.Code)
	if err != nil {
		return err
	}
	villages, err := s.enrolledVillages()
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, v := range villages {
		names[v.Code] = v.Name
	}
	rows := make([]noticeRow, 0, len(notices))
	for _, n := range notices {
		r := noticeRow{Notice: n}
		if s.Config.Node.Role == appliance.NodeTown {
			r.Targets = "所有村"
			if len(n.To) > 0 {
				var ns []string
				for _, v := range n.To {
					ns = append(ns, cmp.Or(names[v], v))
				}
				r.Targets = strings.Join(ns, "、")
			}
		}
		rows = append(rows, r)
	}
	data := fiber.Map{"Title": "通知公告管理", "Notices": rows, "Form": form, "Villages": villages,
		"Town": s.Config.Node.Role == appliance.NodeTown, "Chosen": form.To,
		"Some":    len(form.To) > 0 || c.FormValue("to_mode") == "some",
		"Editing": form.ID != "" && (c.Query("edit") != "" || c.FormValue("id") != "")}
	if t := s.townCode(); t != "" {
		if data["TownNotices"], err = s.Store.FindNotices(t); err != nil {
			return err
		}
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_notices", data)
}

func (s *Server) submitNotice(c *fiber.Ctx) error {
	n := appliance.Notice{
		Grid:      s.Config.Node.Code,
		ID:        strings.TrimSpace(c.FormValue("id")),
		Title:     strings.TrimSpace(c.FormValue("title")),
		Body:      strings.TrimSpace(c.FormValue("body")),
		Published: strings.TrimSpace(c.FormValue("published")),
		Pinned:    c.FormValue("pinned") == "1",
		Withdrawn: c.FormValue("withdraw") == "1",
	}
	if n.ID == "" {
		n.ID = fmt.Sprintf("n%d", s.Store.Clock().Next())
	}
	if n.Withdrawn {
		old, err := s.Store.Notice(n.Grid, n.ID)
		if err != nil {
			return err
		}
		old.Withdrawn = true
		n = old
	} else if s.Config.Node.Role == appliance.NodeTown {
		if c.FormValue("to_mode") == "some" {
			n.To = formValues(c, "to")
		}
		if err := s.checkNoticeTo(c.FormValue("to_mode"), n.To); err != nil {
			return s.renderNoticeEdit(c, err, n)
		}
	}
	if err := s.Store.SetNotice(c.UserContext(), actor(c), n); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderNoticeEdit(c, err, n)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/notices", fiber.StatusSeeOther)
}

// checkNoticeTo checks a town notice's villages: mode "some" needs at
// least one, and each must be a village enrolled at this town.
func (s *Server) checkNoticeTo(mode string, to []string) error {
	if mode == "some" && len(to) == 0 {
		return appliance.FieldError("to", "请至少选择一个村，或选择“发到所有村”")
	}
	if len(to) == 0 {
		return nil
	}
	villages, err := s.enrolledVillages()
	if err != nil {
		return err
	}
	for _, code := range to {
		if !slices.ContainsFunc(villages, func(v village) bool { return v.Code == code }) {
			return appliance.FieldError("to", "所选的村（%s）没有登记为本镇的下级节点", code)
		}
	}
	return nil
}
