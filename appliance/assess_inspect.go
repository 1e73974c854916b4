package appliance

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// KindAssessPlan is an inspection planned by the town's inspection group:
// a scheduled one, a random draw (its seed recorded, so anyone can redo
// it), or an unannounced visit. Plans stay at the town: nothing of them
// goes down, so a village learns of an inspection when it comes.
const KindAssessPlan = "assess.plan"

// Inspection states.
const (
	InspectionPlanned   = "planned"
	InspectionDone      = "done"
	InspectionCancelled = "cancelled"
)

// InspectionStateLabels are their Chinese names.
var InspectionStateLabels = map[string]string{InspectionPlanned: "待督查", InspectionDone: "已督查", InspectionCancelled: "已取消"}

// Draw is a random draw of what to inspect: Picked is DrawInspection(Pool,
// N, Seed), which anyone holding the entry can check.
type Draw struct {
	Seed   string   `json:"seed"` // 16 hex digits
	Pool   []string `json:"pool"` // the candidates (grid codes), sorted
	N      int      `json:"n"`
	Picked []string `json:"picked"` // sorted
}

// Inspection is a planned inspection.
type Inspection struct {
	ID      string   `json:"id"`
	Town    string   `json:"town"`
	Way     string   `json:"way"` // one of InspectionWays
	Date    string   `json:"date"`
	Grids   []string `json:"grids"` // villages or groups to inspect (a random one: the draw's picks)
	Subject string   `json:"subject"`
	Topic   string   `json:"topic"` // what is checked (台账、值班、走访…)
	Draw    *Draw    `json:"draw,omitempty"`
	State   string   `json:"state"`
	Note    string   `json:"note,omitempty"`
}

// Key of an inspection in views.
func (p *Inspection) Key() string { return p.Town + "/" + p.ID }

func (p *Inspection) Validate() error {
	if !idRE.MatchString(p.ID) {
		return FieldError("id", "督查计划编号格式错误")
	}
	if len(p.Town) != 12 {
		return FieldError("town", "乡镇代码应为12位")
	}
	if !contains(InspectionWays, p.Way) {
		return FieldError("way", "请选择督查方式")
	}
	if _, err := time.Parse(time.DateOnly, p.Date); err != nil {
		return FieldError("date", "督查日期格式应为 年-月-日")
	}
	if p.Subject != SubjectVillage && p.Subject != SubjectGroup {
		return FieldError("subject", "督查对象应为村或村民组")
	}
	if err := requireText("topic", "督查内容", p.Topic, 200); err != nil {
		return err
	}
	if _, ok := InspectionStateLabels[p.State]; !ok {
		return FieldError("state", "督查计划状态错误")
	}
	if err := optionalText("note", "备注", p.Note, 1000); err != nil {
		return err
	}
	if len(p.Grids) == 0 || len(p.Grids) > 200 {
		return FieldError("grids", "请选择要督查的村或村民组")
	}
	for _, g := range p.Grids {
		if TownOf(villageOfGrid(g)) != p.Town || (p.Subject == SubjectVillage) != (len(g) == 12) {
			return FieldError("grids", "%s 不是本乡镇的%s", g, SubjectLabels[p.Subject])
		}
	}
	if p.Way == WayRandom {
		if p.Draw == nil {
			return FieldError("draw", "随机抽查须记录抽签")
		}
		if _, err := strconv.ParseUint(p.Draw.Seed, 16, 64); err != nil || len(p.Draw.Seed) != 16 {
			return FieldError("draw", "抽签种子格式错误")
		}
		if !slices.IsSorted(p.Draw.Pool) || p.Draw.N < 1 || p.Draw.N > len(p.Draw.Pool) {
			return FieldError("draw", "抽签范围或数量错误")
		}
		seed, _ := strconv.ParseUint(p.Draw.Seed, 16, 64)
		if want := DrawInspection(p.Draw.Pool, p.Draw.N, seed); !slices.Equal(want, p.Draw.Picked) || !slices.Equal(want, p.Grids) {
			return FieldError("draw", "抽签结果与种子不符")
		}
	} else if p.Draw != nil {
		return FieldError("draw", "只有随机抽查有抽签")
	}
	return nil
}

// DrawInspection picks n of pool with a generator seeded by seed, sorted:
// the same pool, n and seed give the same picks on every node. The
// shuffle is written here (Fisher–Yates over PCG-DXSM's raw output, whose
// sequence is fixed) rather than rand.Shuffle, whose use of the source
// a later Go release could change.
func DrawInspection(pool []string, n int, seed uint64) []string {
	c := slices.Clone(pool)
	slices.Sort(c)
	src := rand.NewPCG(seed, 0x6772696462_6f78) // "gridbox"
	for i := len(c) - 1; i > 0; i-- {
		j := int(src.Uint64() % uint64(i+1))
		c[i], c[j] = c[j], c[i]
	}
	out := c[:min(n, len(c))]
	slices.Sort(out)
	return out
}

// SeedText is a seed as recorded.
func SeedText(seed uint64) string { return fmt.Sprintf("%016x", seed) }
