package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Appointments (预约服务): staff book a service for a household — a home
// visit, a proxy errand, an appointment at the duty room — from the
// household page; the household's card, scanned at the kiosk, shows the
// upcoming ones (service, kind and time only).

func init() {
	registerRoutes(func(s *Server) {
		// A household's appointments are part of its archive (their notes
		// say things like 腿脚不便): archive rights, and the household's scope.
		p := s.require(appliance.PermEditArchive)
		s.app.Post("/staff/households/:id/appointments", p, s.submitAppointment)
		s.app.Post("/staff/appointments/:id", p, s.submitAppointmentStatus)
		s.app.Get("/api/v1/households/:id/appointments", s.require(appliance.PermViewArchive), s.apiAppointments)
		s.app.Post("/api/v1/appointments", p, s.apiSetAppointment)
	})
}

func appointmentFromForm(c *fiber.Ctx, household string) appliance.Appointment {
	return appliance.Appointment{Household: household, Service: strings.TrimSpace(c.FormValue("service")), Kind: c.FormValue("kind"),
		Date: c.FormValue("date"), Time: c.FormValue("time"), Staff: c.FormValue("staff"), Note: strings.TrimSpace(c.FormValue("note"))}
}

func (s *Server) submitAppointment(c *fiber.Ctx) error {
	id := c.Params("id")
	if _, _, err := s.householdInScope(c, id); err != nil {
		return err
	}
	a := appointmentFromForm(c, id)
	if _, err := s.Store.SetAppointment(c.UserContext(), actor(c), a); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Locals("apptForm", a)
		c.Locals("apptErr", err)
		return s.householdPage(c, id, nil)
	}
	return c.Redirect("/staff/households/"+id+"#appointments", fiber.StatusSeeOther)
}

// submitAppointmentStatus marks an appointment done or cancelled.
func (s *Server) submitAppointmentStatus(c *fiber.Ctx) error {
	a, err := s.Store.Appointment(c.Params("id"))
	if err != nil {
		return err
	}
	if _, _, err := s.householdInScope(c, a.Household); err != nil {
		return err
	}
	switch st := c.FormValue("status"); st {
	case appliance.ApptDone, appliance.ApptCancelled, appliance.ApptScheduled:
		a.Status = st
	default:
		return appliance.FieldError("status", "预约状态错误")
	}
	if _, err := s.Store.SetAppointment(c.UserContext(), actor(c), a); err != nil {
		return err
	}
	return c.Redirect("/staff/households/"+a.Household+"#appointments", fiber.StatusSeeOther)
}

// householdAppointments is the data of the household page's appointment
// section: the list, the form and a refused form's error.
func (s *Server) householdAppointments(c *fiber.Ctx, household string, data fiber.Map) error {
	list, err := s.Store.HouseholdAppointments(household, "", false)
	if err != nil {
		return err
	}
	staff, err := s.nodeStaff()
	if err != nil {
		return err
	}
	form, _ := c.Locals("apptForm").(appliance.Appointment)
	if form.Kind == "" {
		form = appliance.Appointment{Kind: "上门服务", Date: s.now().AddDate(0, 0, 1).Format("2006-01-02")}
	}
	data["Appointments"] = list
	data["ApptForm"] = form
	data["ApptStaff"] = staff
	data["ApptKinds"] = appliance.ServiceKinds
	data["ApptLabels"] = appliance.ApptStatusLabels
	data["Services"] = s.Config.Services
	data["CanBook"] = currentUser(c).Can(appliance.PermEditArchive)
	if err, ok := c.Locals("apptErr").(error); ok {
		c.Status(statusOf[appliance.ErrorCode(err)])
		data["ApptError"] = appliance.ErrorMessage(err)
		data["ApptField"] = appliance.ErrorField(err)
	}
	return nil
}

func (s *Server) apiAppointments(c *fiber.Ctx) error {
	if _, _, err := s.householdInScope(c, c.Params("id")); err != nil {
		return err
	}
	list, err := s.Store.HouseholdAppointments(c.Params("id"), c.Query("from"), c.Query("scheduled") == "1")
	if err != nil {
		return err
	}
	return c.JSON(page[appliance.Appointment]{Items: append([]appliance.Appointment{}, list...)})
}

func (s *Server) apiSetAppointment(c *fiber.Ctx) error {
	var a appliance.Appointment
	if err := bindJSON(c, &a); err != nil {
		return err
	}
	if _, _, err := s.householdInScope(c, a.Household); err != nil {
		return err
	}
	a, err := s.Store.SetAppointment(c.UserContext(), actor(c), a)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}
