package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

const (
	bucketAppointments = "v_appointments"      // id → Appointment (LWW)
	bucketApptByHH     = "v_appt_by_household" // household "/" date "/" id → ""
)

type appointmentView struct{}

func (appointmentView) Name() string      { return "appointments" }
func (appointmentView) Buckets() []string { return []string{bucketAppointments, bucketApptByHH} }

func (appointmentView) Apply(tx *Tx, e *appliance.Entry) error {
	if e.Kind != appliance.KindAppointmentSet {
		return nil
	}
	var a appliance.Appointment
	if !decodeOK(e, &a) {
		return nil
	}
	return putIndexed(tx, bucketAppointments, a.ID, e, a, bucketApptByHH, func(a appliance.Appointment) (string, string) {
		return a.Household + "/" + a.Date + "/" + a.ID, ""
	})
}

func init() { RegisterView(appointmentView{}) }

// SetAppointment books or changes an appointment of a household.
func (s *Store) SetAppointment(ctx context.Context, author string, a appliance.Appointment) (appliance.Appointment, error) {
	if a.ID == "" {
		a.ID = s.NewRecordID("a")
	}
	if a.Status == "" {
		a.Status = appliance.ApptScheduled
	}
	a.Service, a.Note = strings.TrimSpace(a.Service), strings.TrimSpace(a.Note)
	if err := a.Validate(); err != nil {
		return a, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if _, ok, err := tx.Household(a.Household); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.FieldError("household", "预约的户不存在")
		}
		if a.Staff != "" {
			var m appliance.StaffMember
			if ok, err := tx.LWWJSON(bucketStaff, a.Staff, &m); err != nil {
				return nil, err
			} else if !ok {
				return nil, appliance.FieldError("staff", "服务人员不存在")
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindAppointmentSet, Version: 1, Body: a}}, nil
	})
	return a, err
}

// Appointment returns one appointment.
func (s *Store) Appointment(id string) (appliance.Appointment, error) {
	var a appliance.Appointment
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketAppointments, id, &a)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "预约不存在")
		}
		return err
	})
	return a, err
}

// HouseholdAppointments returns a household's appointments on or after
// date from (all when empty), in date order; scheduledOnly leaves out those
// done or cancelled.
func (s *Store) HouseholdAppointments(household, from string, scheduledOnly bool) ([]appliance.Appointment, error) {
	var out []appliance.Appointment
	err := s.Read(func(tx *Tx) error {
		prefix := household + "/"
		c := tx.Bucket(bucketApptByHH).Cursor()
		for k, _ := c.Seek([]byte(prefix + from)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
			id := string(k[strings.LastIndexByte(string(k), '/')+1:])
			data := tx.GetLWW(bucketAppointments, id)
			var a appliance.Appointment
			if data == nil || json.Unmarshal(data, &a) != nil {
				continue
			}
			if scheduledOnly && a.Status != appliance.ApptScheduled {
				continue
			}
			out = append(out, a)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date+out[i].Time < out[j].Date+out[j].Time })
	return out, err
}
