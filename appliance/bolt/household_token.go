package bolt

import (
	"gridbox/appliance"
)

// TokenHousehold is the token kind of the QR code on a household's service
// card (明白卡). The id it signs is the household's record id, which is made
// from the node's feed and a clock (NewRecordID), never from a name or an ID
// number.
const TokenHousehold = 'H'

// HouseholdByToken returns the household a service card's QR token names.
func (s *Store) HouseholdByToken(signer *appliance.TokenSigner, token string) (appliance.Household, error) {
	kind, id, err := signer.Verify(token)
	if err != nil {
		return appliance.Household{}, err
	}
	if kind != TokenHousehold {
		return appliance.Household{}, appliance.FieldError("token", "这不是服务明白卡上的二维码")
	}
	var h appliance.Household
	err = s.Read(func(tx *Tx) error {
		var ok bool
		var err error
		if h, ok, err = tx.Household(id); err != nil {
			return err
		} else if !ok || h.Closed != "" {
			return appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		return nil
	})
	return h, err
}

// HouseholdCases returns the cases registered for a household in its
// village, newest first (at most limit; open ones only when open is set).
func (cs *Cases) HouseholdCases(h appliance.Household, open bool, limit int) ([]*appliance.Case, error) {
	village := h.Village()
	f := CaseFilter{Village: &village, Limit: 1000}
	if open {
		f.Open = &open
	}
	var out []*appliance.Case
	for {
		page, next, err := cs.FindCases(f)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if c.Household == h.ID {
				out = append(out, c)
				if limit > 0 && len(out) >= limit {
					return out, nil
				}
			}
		}
		if next == "" || len(page) == 0 {
			return out, nil
		}
		f.Before = next
	}
}
