package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

// Node returns this node's description (its node.init entry).
func (s *Store) Node() (appliance.Node, error) {
	var n appliance.Node
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketNodes, s.Feed().String(), &n)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "节点尚未初始化")
		}
		return err
	})
	return n, err
}

// Nodes returns every node known to this one, by feed id.
func (s *Store) Nodes() (map[appliance.FeedID]appliance.Node, error) {
	out := map[appliance.FeedID]appliance.Node{}
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketNodes, "", func(k string, v []byte) error {
			f, err := appliance.ParseFeedID(k)
			if err != nil {
				return nil
			}
			var n appliance.Node
			if json.Unmarshal(v, &n) == nil {
				out[f] = n
			}
			return nil
		})
	})
	return out, err
}

// SetGrid creates or changes a grid cell.
func (s *Store) SetGrid(ctx context.Context, author string, g appliance.Grid) error {
	if err := g.Validate(); err != nil {
		return err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if g.Parent != "" {
			var p appliance.Grid
			if ok, err := tx.LWWJSON(bucketGrids, g.Parent, &p); err != nil {
				return nil, err
			} else if !ok {
				return nil, appliance.FieldError("parent", "上级网格不存在")
			} else if p.Level != g.Level-1 {
				return nil, appliance.FieldError("parent", "上级网格级别不对")
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindGridSet, Version: 1, Body: g}}, nil
	})
	return err
}

// Grid returns the grid with code.
func (s *Store) Grid(code string) (appliance.Grid, error) {
	var g appliance.Grid
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketGrids, code, &g)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "网格 %s 不存在", code)
		}
		return err
	})
	return g, err
}

// GridTx reads a grid inside a transaction.
func (tx *Tx) Grid(code string) (appliance.Grid, bool, error) {
	var g appliance.Grid
	ok, err := tx.LWWJSON(bucketGrids, code, &g)
	return g, ok, err
}

// FindGrids returns grids matching filter, sorted by code.
func (s *Store) FindGrids(f appliance.GridFilter) ([]appliance.Grid, error) {
	var out []appliance.Grid
	err := s.Read(func(tx *Tx) error {
		if f.Parent != nil {
			prefix := *f.Parent + "/"
			c := tx.Bucket(bucketGridTree).Cursor()
			for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
				g, ok, err := tx.Grid(string(k[len(prefix):]))
				if err != nil {
					return err
				} else if ok && (f.Level == nil || g.Level == *f.Level) {
					out = append(out, g)
				}
			}
			return nil
		}
		return tx.EachLWW(bucketGrids, "", func(_ string, v []byte) error {
			var g appliance.Grid
			if err := json.Unmarshal(v, &g); err != nil {
				return err
			}
			if f.Level == nil || g.Level == *f.Level {
				out = append(out, g)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, err
}

// SetStaff creates or changes a person on the grid. Staff ids are one
// namespace at the town and the city (v_staff is keyed by id and every
// village's feed folds there), so a node creates staff only with ids
// starting with its own division code and "-" (e.g.
// "410184104201-s07"); changing a person already held keeps working
// whatever the id. A store without a node record (bare test stores) is
// not checked.
func (s *Store) SetStaff(ctx context.Context, author string, m appliance.StaffMember) error {
	m.Phone = appliance.NormalizePhone(m.Phone)
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if _, ok, err := tx.Grid(m.Grid); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.FieldError("grid", "所在网格不存在")
		}
		var node appliance.Node
		if ok, err := tx.LWWJSON(bucketNodes, s.Feed().String(), &node); err != nil {
			return nil, err
		} else if ok && node.Code != "" && !strings.HasPrefix(m.ID, node.Code+"-") {
			var old appliance.StaffMember
			if had, err := tx.LWWJSON(bucketStaff, m.ID, &old); err != nil {
				return nil, err
			} else if !had {
				return nil, appliance.FieldError("id", "人员编号应以本节点行政区划代码加“-”开头，如 %s-s01", node.Code)
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindStaffSet, Version: 1, Body: m}}, nil
	})
	return err
}

// Staff returns the person with id.
func (s *Store) Staff(id string) (appliance.StaffMember, error) {
	var m appliance.StaffMember
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketStaff, id, &m)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "人员不存在")
		}
		return err
	})
	return m, err
}

// FindStaff returns people matching filter; with Grid set, those of that
// grid and of the grids below it. Sorted by grid, then id.
func (s *Store) FindStaff(f appliance.StaffFilter) ([]appliance.StaffMember, error) {
	var out []appliance.StaffMember
	err := s.Read(func(tx *Tx) error {
		prefix := ""
		if f.Grid != nil {
			prefix = *f.Grid
		}
		c := tx.Bucket(bucketStaffGrid).Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, _ = c.Next() {
			id := string(k[strings.LastIndexByte(string(k), '/')+1:])
			var m appliance.StaffMember
			if ok, err := tx.LWWJSON(bucketStaff, id, &m); err != nil {
				return err
			} else if !ok || m.Retired || (f.Duty != nil && m.Duty != *f.Duty) {
				continue
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// SetDuty adds, changes or (with Removed) takes off a duty shift.
func (s *Store) SetDuty(ctx context.Context, author string, d appliance.DutyShift) error {
	d.Phone = appliance.NormalizePhone(d.Phone)
	if err := d.Validate(); err != nil {
		return err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindDutySet, Version: 1, Body: d})
	return err
}

// FindDuty returns the shifts of grid from date from to date to (inclusive,
// YYYY-MM-DD), in date order.
func (s *Store) FindDuty(grid, from, to string) ([]appliance.DutyShift, error) {
	var out []appliance.DutyShift
	err := s.Read(func(tx *Tx) (err error) {
		out, err = shiftsTx(tx, grid, from, to) // duty_week.go
		return err
	})
	return out, err
}

// SetNotice publishes, changes or withdraws a notice.
func (s *Store) SetNotice(ctx context.Context, author string, n appliance.Notice) error {
	if err := n.Validate(); err != nil {
		return err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindNoticeSet, Version: 1, Body: n})
	return err
}

// FindNotices returns the notices of the given grids that are not
// withdrawn: pinned first, then newest first.
func (s *Store) FindNotices(grids ...string) ([]appliance.Notice, error) {
	var out []appliance.Notice
	err := s.Read(func(tx *Tx) error {
		seen := map[string]bool{}
		for _, g := range grids {
			if seen[g] {
				continue
			}
			seen[g] = true
			err := tx.EachLWW(bucketNotices, g+"/", func(_ string, v []byte) error {
				var n appliance.Notice
				if err := json.Unmarshal(v, &n); err != nil {
					return err
				}
				if n.Grid == g && !n.Withdrawn {
					out = append(out, n)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Pinned != out[j].Pinned {
			return out[i].Pinned
		}
		if out[i].Published != out[j].Published {
			return out[i].Published > out[j].Published
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// Notice returns one notice of the grid that issued it: notice ids are
// chosen per grid, so two villages' "n-demo-1" are two notices at their
// town.
func (s *Store) Notice(grid, id string) (appliance.Notice, error) {
	var n appliance.Notice
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucketNotices, grid+"/"+id, &n)
		if err == nil && (!ok || n.Withdrawn) {
			err = appliance.Errorf(appliance.ENOTFOUND, "公告不存在或已撤回")
		}
		return err
	})
	return n, err
}

// KindCounts returns how many entries of each kind the views have folded.
func (s *Store) KindCounts() (map[string]int64, error) {
	var out map[string]int64
	err := s.Read(func(tx *Tx) error { out = tx.Counters(bucketCounts, "entries/"); return nil })
	return out, err
}
