package bolt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"gridbox/appliance"
)

// Staff cards (appliance/staff_card.go): each staff record's current card,
// and the card a scanned token names.

const bucketStaffCards = "v_staff_cards" // staff id → StaffCard (LWW)

// TokenStaffCard is the token kind of the QR code on a staff card (工作证).
// The id it signs is the staff record's id and the card's serial.
const TokenStaffCard = 'W'

type staffCardView struct{}

func (staffCardView) Name() string      { return "staff_cards" }
func (staffCardView) Buckets() []string { return []string{bucketStaffCards} }
func (staffCardView) Apply(tx *Tx, e *appliance.Entry) error {
	if e.Kind != appliance.KindStaffCard {
		return nil
	}
	return putLWWAs(tx, e, bucketStaffCards, func(c *appliance.StaffCard) string { return c.Staff })
}

func init() { RegisterView(staffCardView{}) }

// StaffCardTokenID is what a card's QR token signs: the record and serial.
func StaffCardTokenID(c appliance.StaffCard) string { return c.Staff + "." + c.Serial }

// IssueStaffCard issues a new card to a staff member of this node (补办
// when they had one: the old card stops working).
func (s *Store) IssueStaffCard(ctx context.Context, author, staff, today string) (appliance.StaffCard, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return appliance.StaffCard{}, appliance.Errorf(appliance.EINTERNAL, "random: %v", err)
	}
	c := appliance.StaffCard{Staff: staff, Serial: hex.EncodeToString(b[:]), Issued: today}
	if err := c.Validate(); err != nil {
		return c, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var m appliance.StaffMember
		if ok, err := tx.LWWJSON(bucketStaff, staff, &m); err != nil {
			return nil, err
		} else if !ok || m.Retired {
			return nil, appliance.FieldError("staff", "人员不存在或已离任")
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindStaffCard, Version: 1, Body: c}}, nil
	})
	return c, err
}

// RevokeStaffCard stops a staff member's card (lost, or they left).
func (s *Store) RevokeStaffCard(ctx context.Context, author, staff, today string) error {
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var c appliance.StaffCard
		if ok, err := tx.LWWJSON(bucketStaffCards, staff, &c); err != nil {
			return nil, err
		} else if !ok || c.Revoked != "" {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这个人没有在用的工作证")
		}
		c.Revoked = today
		return []appliance.Draft{{Author: author, Kind: appliance.KindStaffCard, Version: 1, Body: c}}, nil
	})
	return err
}

// StaffCards returns every staff member's current card by staff id.
func (s *Store) StaffCards() (map[string]appliance.StaffCard, error) {
	out := map[string]appliance.StaffCard{}
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketStaffCards, "", func(k string, v []byte) error {
			var c appliance.StaffCard
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			out[k] = c
			return nil
		})
	})
	return out, err
}

// StaffByCard returns the holder of a scanned staff card, refusing, in
// Chinese, a code that is not a staff card, a revoked card and a card
// replaced by a newer one.
func (s *Store) StaffByCard(signer *appliance.TokenSigner, token string) (appliance.StaffMember, error) {
	kind, id, err := signer.Verify(token)
	if err != nil {
		return appliance.StaffMember{}, err
	}
	staff, serial, ok := strings.Cut(id, ".")
	if kind != TokenStaffCard || !ok {
		return appliance.StaffMember{}, appliance.FieldError("token", "这不是工作证上的二维码")
	}
	var m appliance.StaffMember
	err = s.Read(func(tx *Tx) error {
		var c appliance.StaffCard
		if ok, err := tx.LWWJSON(bucketStaffCards, staff, &c); err != nil {
			return err
		} else if !ok {
			return appliance.FieldError("token", "这张工作证没有登记，请到村负责人处办理")
		}
		if c.Serial != serial {
			return appliance.FieldError("token", "这张工作证已作废（已补办新证），请用新证签到")
		}
		if c.Revoked != "" {
			return appliance.FieldError("token", "这张工作证已于%s停用，请到村负责人处补办", c.Revoked)
		}
		if ok, err := tx.LWWJSON(bucketStaff, staff, &m); err != nil {
			return err
		} else if !ok || m.Retired {
			return appliance.FieldError("token", "持证人已离任，这张工作证不能再用")
		}
		return nil
	})
	return m, err
}
