package appliance

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Grid levels.
const (
	LevelTown    = 1 // 一级网格
	LevelVillage = 2 // 二级网格
	LevelGroup   = 3 // 三级网格
)

// Node roles: which platform a node is.
const (
	NodeVillage = "village"
	NodeTown    = "town"
	NodeCity    = "city"
)

// Entry kinds of the foundation.
const (
	KindNodeInit  = "node.init"
	KindGridSet   = "grid.set"
	KindStaffSet  = "staff.set"
	KindUserSet   = "user.set"
	KindDutySet   = "duty.set"
	KindNoticeSet = "notice.set"
)

// Node describes the node itself; it is the first entry of its feed.
type Node struct {
	Role   string `json:"role"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"` // host:port of the parent node
}

func (n *Node) Validate() error {
	switch n.Role {
	case NodeVillage, NodeTown, NodeCity:
	default:
		return FieldError("role", "节点类型必须是 village、town 或 city")
	}
	if err := ValidateDivisionCode(n.Code, n.Role); err != nil {
		return err
	}
	if err := requireText("name", "名称", n.Name, 40); err != nil {
		return err
	}
	if n.Parent != "" && !hostPortRE.MatchString(n.Parent) {
		return FieldError("parent", "上级节点地址格式应为 主机:端口")
	}
	return nil
}

var hostPortRE = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]+:[0-9]{1,5}$`)

var divisionRE = regexp.MustCompile(`^[1-8][0-9]{11}$`)

// ValidateDivisionCode checks a 12-digit statistical division code for the
// level of node (city: ends in 00000000 after 4 digits, town: 000 after 9,
// village: neither).
func ValidateDivisionCode(code, role string) error {
	if !divisionRE.MatchString(code) {
		return FieldError("code", "行政区划代码应为12位数字")
	}
	town := strings.HasSuffix(code, "000")
	city := strings.HasSuffix(code, "00000000")
	switch {
	case role == NodeCity && !city:
		return FieldError("code", "市级代码应以 00000000 结尾")
	case role == NodeTown && (city || !town):
		return FieldError("code", "乡镇代码应为9位乡镇代码加 000")
	case role == NodeVillage && town:
		return FieldError("code", "村级代码的最后三位不能是 000")
	}
	return nil
}

// Grid is one cell of the grid tree.
type Grid struct {
	Code   string `json:"code"`           // division code; groups: village code + "-" + two digits
	Level  int    `json:"level"`          // LevelTown, LevelVillage, LevelGroup
	Name   string `json:"name"`           // e.g. 第三村民组
	Parent string `json:"parent"`         // code of the parent grid, "" for the top
	Kind   string `json:"kind,omitempty"` // groups: 村组 / 楼院 / 街区 / 单位
	Note   string `json:"note,omitempty"`
}

// GroupCode returns the code of group n of a village.
func GroupCode(village string, n int) string { return fmt.Sprintf("%s-%02d", village, n) }

// GroupNumber returns the number of a group code, 0 if it is not one.
func GroupNumber(code string) int {
	i := strings.LastIndexByte(code, '-')
	if i < 0 {
		return 0
	}
	n, _ := strconv.Atoi(code[i+1:])
	return n
}

// GroupKinds are the kinds of level-3 grids.
var GroupKinds = []string{"村组", "楼院", "街区", "单位"}

func (g *Grid) Validate() error {
	switch g.Level {
	case LevelTown:
		if err := ValidateDivisionCode(g.Code, NodeTown); err != nil {
			return err
		}
	case LevelVillage:
		if err := ValidateDivisionCode(g.Code, NodeVillage); err != nil {
			return err
		}
		if g.Parent != "" && g.Parent[:9] != g.Code[:9] {
			return FieldError("parent", "村的上级必须是其所属乡镇")
		}
	case LevelGroup:
		n := GroupNumber(g.Code)
		if n < 1 || n > 99 || len(g.Code) != 15 || g.Parent != g.Code[:12] {
			return FieldError("code", "网格编号应为 村代码-两位组号，如 410184104201-03")
		}
		if g.Kind != "" && !contains(GroupKinds, g.Kind) {
			return FieldError("kind", "网格类型应为 村组、楼院、街区 或 单位")
		}
	default:
		return FieldError("level", "网格级别应为 1、2 或 3")
	}
	if err := requireText("name", "网格名称", g.Name, 40); err != nil {
		return err
	}
	return optionalText("note", "备注", g.Note, 500)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// requireText checks a required single-line text field of at most max characters.
func requireText(field, label, s string, max int) error {
	if strings.TrimSpace(s) == "" {
		return FieldError(field, "请填写%s", label)
	}
	return optionalText(field, label, s, max)
}

func optionalText(field, label, s string, max int) error {
	if !utf8.ValidString(s) {
		return FieldError(field, "%s含有无效字符", label)
	} else if n := utf8.RuneCountInString(s); n > max {
		return FieldError(field, "%s不能超过%d个字（现有%d个）", label, max, n)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return FieldError(field, "%s含有控制字符", label)
		}
		if isBidiControl(r) {
			return FieldError(field, "%s含有改变文字方向的隐藏字符，请重新输入", label)
		}
	}
	return nil
}

// isBidiControl reports the invisible characters that reorder text on
// screen (U+202E shows "gnp.exe" as "exe.png"): never in names or notes.
func isBidiControl(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// GridFilter selects grids.
type GridFilter struct {
	Parent *string
	Level  *int
}
