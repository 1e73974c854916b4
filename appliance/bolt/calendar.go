package bolt

import (
	"context"
	"encoding/json"
	"strconv"

	"gridbox/appliance"
)

// The working-day calendar as data: a year's arrangement is entered on the
// city's or a town's node (KindCalendarSet), folded into v_calendar by
// year (last writer wins), and goes down to the towns and villages as
// copies on their downward feeds (CopyDown), whoever entered it.

const bucketCalendar = "v_calendar" // year → CalendarYear (LWW)

// applyCalendar folds a year entered on a city's or a town's own feed.
func applyCalendar(tx *Tx, e *appliance.Entry) error {
	var y appliance.CalendarYear
	if !decodeOK(e, &y) {
		return nil
	}
	if role, derived := feedRoleOf(tx, e.Feed); derived || (role != appliance.NodeCity && role != appliance.NodeTown) {
		return nil // only a city or a town speaks for the calendar
	}
	_, err := tx.PutLWW(bucketCalendar, strconv.Itoa(y.Year), e, e.Body)
	return err
}

// SetCalendarYear records a year's arrangement; only a city or a town
// node enters one.
func (s *Store) SetCalendarYear(ctx context.Context, author string, y appliance.CalendarYear) error {
	node, err := s.Node()
	if err != nil {
		return err
	}
	if node.Role != appliance.NodeCity && node.Role != appliance.NodeTown {
		return appliance.Errorf(appliance.EFORBIDDEN, "节假日安排由市或乡镇录入，会自动下发到各村")
	}
	y.By = node.Code
	if err := y.Validate(); err != nil {
		return err
	}
	_, err = s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindCalendarSet, Version: 1, Body: y})
	return err
}

// CalendarYears returns the years entered as data, by year.
func (s *Store) CalendarYears() ([]appliance.CalendarYear, error) {
	var out []appliance.CalendarYear
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketCalendar, "", func(_ string, v []byte) error {
			var y appliance.CalendarYear
			if json.Unmarshal(v, &y) == nil {
				out = append(out, y)
			}
			return nil
		})
	})
	return out, err
}
