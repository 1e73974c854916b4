package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

// The service desk (docs/week.md, "Services"): the catalogue and requests.
const (
	bucketServiceItems    = "v_service_items"    // grid "/" id → CatalogItem (LWW)
	bucketServiceRequests = "v_service_requests" // grid "/" id → ServiceRequest (LWW)
	bucketServiceContacts = "v_service_contacts" // grid "/" id → ServiceContact (only where the sealed part is held)
)

type serviceView struct{}

func (serviceView) Name() string { return "services" }
func (serviceView) Buckets() []string {
	return []string{bucketServiceItems, bucketServiceRequests, bucketServiceContacts}
}

func (serviceView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindServiceItem:
		return putLWWAs(tx, e, bucketServiceItems, func(c *appliance.CatalogItem) string { return c.Grid + "/" + c.ID })
	case appliance.KindServiceRequest:
		var r appliance.ServiceRequest
		if !decodeOK(e, &r) {
			return nil
		}
		key := r.Grid + "/" + r.ID
		if _, err := tx.PutLWW(bucketServiceRequests, key, e, e.Body); err != nil {
			return err
		}
		var ct appliance.ServiceContact
		if ok, err := e.DecodeSealed(&ct); err == nil && ok {
			return tx.PutJSON(bucketServiceContacts, key, ct)
		}
	}
	return nil
}

func init() { RegisterView(serviceView{}) }

// SetCatalogItem adds, changes or (Withdrawn) takes off a catalogue entry.
func (s *Store) SetCatalogItem(ctx context.Context, author string, c appliance.CatalogItem) (appliance.CatalogItem, error) {
	if c.ID == "" {
		c.ID = s.NewRecordID("c")
	}
	c.Name, c.Procedure, c.Where = strings.TrimSpace(c.Name), strings.TrimSpace(c.Procedure), strings.TrimSpace(c.Where)
	if err := c.Validate(); err != nil {
		return c, err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindServiceItem, Version: 1, Body: c})
	return c, err
}

// Catalog returns grid's catalogue (not withdrawn), by name; ok is false
// when the catalogue was never kept in the ledger (the configuration's
// services stand in for it).
func (s *Store) Catalog(grid string) (items []appliance.CatalogItem, ok bool, err error) {
	err = s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketServiceItems, grid+"/", func(_ string, v []byte) error {
			ok = true
			var c appliance.CatalogItem
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if !c.Withdrawn {
				items = append(items, c)
			}
			return nil
		})
	})
	sort.SliceStable(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	return items, ok, err
}

// AskService records a new request with its contact (sealed).
func (s *Store) AskService(ctx context.Context, author string, r appliance.ServiceRequest, contact appliance.ServiceContact) (appliance.ServiceRequest, error) {
	if r.ID == "" {
		r.ID = appliance.NewReceiptCode(nil)
	}
	r.State, r.Summary = appliance.RequestAsked, strings.TrimSpace(r.Summary)
	contact.Phone, contact.Name = appliance.NormalizePhone(contact.Phone), strings.TrimSpace(contact.Name)
	if err := r.Validate(); err != nil {
		return r, err
	}
	if err := appliance.ValidatePhone("phone", contact.Phone, r.Source == "kiosk"); err != nil {
		return r, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if tx.GetLWW(bucketServiceRequests, r.Grid+"/"+r.ID) != nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "服务申请编号重复，请重新提交")
		}
		if r.Household != "" {
			if _, ok, err := tx.Household(r.Household); err != nil {
				return nil, err
			} else if !ok {
				return nil, appliance.FieldError("household", "没有这一户")
			}
		}
		d := appliance.Draft{Author: author, Kind: appliance.KindServiceRequest, Version: 1, Body: r}
		if contact.Phone != "" || contact.Name != "" {
			d.Sealed = contact
		}
		return []appliance.Draft{d}, nil
	})
	return r, err
}

// UpdateService changes a request: scheduled, papers taken and returned,
// done with its outcome, feedback. Where it came from and when stay.
func (s *Store) UpdateService(ctx context.Context, author string, r appliance.ServiceRequest) (appliance.ServiceRequest, error) {
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var old appliance.ServiceRequest
		if ok, err := tx.LWWJSON(bucketServiceRequests, r.Grid+"/"+r.ID, &old); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "没有这个服务申请")
		}
		r.Source, r.Asked = old.Source, old.Asked
		if r.Staff != "" {
			var m appliance.StaffMember
			if ok, err := tx.LWWJSON(bucketStaff, r.Staff, &m); err != nil {
				return nil, err
			} else if !ok {
				return nil, appliance.FieldError("staff", "没有这个负责人")
			}
			r.StaffName = m.Name
		}
		if err := r.Validate(); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindServiceRequest, Version: 1, Body: r}}, nil
	})
	return r, err
}

// ServiceRequest returns one request.
func (s *Store) ServiceRequest(grid, id string) (appliance.ServiceRequest, error) {
	return lwwOne[appliance.ServiceRequest](s, bucketServiceRequests, grid+"/"+id, "没有这个服务申请")
}

// ServiceContact returns the sealed contact of a request; ENOTFOUND where
// this node does not hold it.
func (s *Store) ServiceContact(grid, id string) (appliance.ServiceContact, error) {
	var c appliance.ServiceContact
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.GetJSON(bucketServiceContacts, grid+"/"+id, &c)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "本节点没有申请人的联系方式")
		}
		return err
	})
	return c, err
}

// FindServiceRequests returns the requests of grids starting with prefix
// asked from from on (or open still), open ones first, then newest.
func (s *Store) FindServiceRequests(prefix, from string) ([]appliance.ServiceRequest, error) {
	var out []appliance.ServiceRequest
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketServiceRequests, prefix, func(_ string, v []byte) error {
			var r appliance.ServiceRequest
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			open := r.State == appliance.RequestAsked || r.State == appliance.RequestScheduled || r.PapersOut()
			if open || r.Asked >= from {
				out = append(out, r)
			}
			return nil
		})
	})
	rank := func(r appliance.ServiceRequest) int {
		switch r.State {
		case appliance.RequestAsked:
			return 0
		case appliance.RequestScheduled:
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := rank(out[i]), rank(out[j]); a != b {
			return a < b
		}
		return out[i].Asked > out[j].Asked
	})
	return out, err
}
