package ui

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// ReplicationPeer is another node as the replication page shows it; main
// fills it from the replicator (ui does not import replicate).
type ReplicationPeer struct {
	Role, Code, Name string
	Key              appliance.FeedID
	HTTP             string
	Relation         string // parent, child, none
	Alive            bool
	LastContact      time.Time
	Behind           uint64
	BytesSent        uint64
	BytesRecv        uint64
	EntriesSent      uint64
	EntriesRecv      uint64
	// Problem is what is wrong with the link, as replication names it:
	// key, unreachable, unenrolled, revoked, proof ("" if nothing);
	// ClockOffset how far the peer's clock is ahead of ours when far off.
	Problem     string
	ClockOffset time.Duration
}

// ReplicationNote is a link problem not tied to a known node: the parent
// cannot be reached or joined, or a host sends under another cluster key.
type ReplicationNote struct {
	Problem string
	Host    string
	Node    string // name and code when known
}

// ReplicationSource is what the page shows of the running replicator.
type ReplicationSource struct {
	Peers    func() []ReplicationPeer
	Rejected func() map[string]uint64
	Keys     func() []string // cluster key fingerprints, the encrypting key first
	Notes    func() []ReplicationNote
}

// Kept beside the Server rather than in it, so that this feature lives in
// its own file.
var replicationOf sync.Map // *Server → ReplicationSource

// SetReplication connects the replication page to a running replicator.
func SetReplication(s *Server, src ReplicationSource) {
	replicationOf.Store(s, src)
}

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/replication", Label: "数据同步", Perm: appliance.PermViewDashboard, Section: "系统", Primary: []appliance.Role{appliance.RoleAdmin}})
	registerRoutes(func(s *Server) {
		s.app.Get("/staff/replication", s.require(appliance.PermViewDashboard), s.showReplication)
		s.app.Post("/staff/replication/enrol", s.require(appliance.PermAdmin), s.submitEnrolment)
		s.app.Get("/api/v1/replication", s.require(appliance.PermViewDashboard), s.apiReplication)
	})
}

// childRow is an enrolled child with what replication knows of it.
type childRow struct {
	Enrolment appliance.Enrolment
	Peer      *ReplicationPeer
	Fprint    string
}

var rejectReasons = map[string]string{
	"signature": "签名错误", "chain": "哈希链断裂", "sequence": "序号不连续", "seal": "敏感部分不符",
	"malformed": "格式错误", "oversized": "超出大小限制", "unenrolled": "未登记节点", "unknown_peer": "来源不明",
	"scope": "超出范围", "overload": "繁忙丢弃", "invalid": "校验失败", "storage": "存储失败",
}

func (s *Server) replicationData() (fiber.Map, error) {
	self := s.Store.Feed()
	data := fiber.Map{
		"Title": "数据同步", "Key": self.String(), "Fingerprint": self.Fingerprint(),
		"Parent": s.Config.Node.Parent, "Bind": s.Config.Replicate.Bind,
	}
	if qr := keyQR(self.String()); qr != "" {
		data["QR"] = qr
	}
	var peers []ReplicationPeer
	var rejected map[string]uint64
	if v, ok := replicationOf.Load(s); ok {
		src := v.(ReplicationSource)
		peers, rejected = src.Peers(), src.Rejected()
		if src.Keys != nil {
			data["Keys"] = src.Keys()
		}
		if src.Notes != nil {
			data["Notes"] = src.Notes()
		}
		data["Running"] = true
	}
	ens, err := s.Store.Enrolments()
	if err != nil {
		return nil, err
	}
	byKey := map[appliance.FeedID]*ReplicationPeer{}
	for i := range peers {
		byKey[peers[i].Key] = &peers[i]
	}
	var children []childRow
	for _, en := range ens {
		children = append(children, childRow{Enrolment: en, Peer: byKey[en.Feed()], Fprint: en.Feed().Fingerprint()})
		delete(byKey, en.Feed())
	}
	var parent *ReplicationPeer
	var strangers []ReplicationPeer
	for i := range peers {
		p := &peers[i]
		if p.Relation == "parent" {
			parent = p
		} else if _, ok := byKey[p.Key]; ok && p.Role == childRoleName(s.Config.Node.Role) {
			strangers = append(strangers, *p)
		}
	}
	type reason struct {
		Label string
		Count uint64
	}
	var reasons []reason
	for k, n := range rejected {
		if n > 0 {
			reasons = append(reasons, reason{rejectReasons[k], n})
		}
	}
	data["Children"], data["ParentPeer"], data["Strangers"], data["Rejected"] = children, parent, strangers, reasons
	data["ChildLabel"] = map[string]string{appliance.NodeTown: "村", appliance.NodeCity: "乡镇"}[s.Config.Node.Role]
	return data, nil
}

func childRoleName(role string) string {
	switch role {
	case appliance.NodeTown:
		return appliance.NodeVillage
	case appliance.NodeCity:
		return appliance.NodeTown
	}
	return ""
}

func (s *Server) showReplication(c *fiber.Ctx) error {
	return s.renderReplication(c, nil, appliance.Enrolment{})
}

func (s *Server) renderReplication(c *fiber.Ctx, formErr error, form appliance.Enrolment) error {
	data, err := s.replicationData()
	if err != nil {
		return err
	}
	data["Form"] = form
	data["Admin"] = currentUser(c).Can(appliance.PermAdmin)
	setFormError(c, data, formErr)
	return s.render(c, "staff_replication", data)
}

func (s *Server) submitEnrolment(c *fiber.Ctx) error {
	en := appliance.Enrolment{
		Key:     strings.ToLower(strings.TrimSpace(c.FormValue("key"))),
		Code:    strings.TrimSpace(c.FormValue("code")),
		Name:    strings.TrimSpace(c.FormValue("name")),
		Role:    childRoleName(s.Config.Node.Role),
		Revoked: c.FormValue("revoke") == "1",
	}
	if en.Role == "" {
		return appliance.Errorf(appliance.EINVALID, "村级节点没有下级节点")
	}
	if err := s.Store.Enrol(c.UserContext(), actor(c), en); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderReplication(c, err, en)
	}
	return c.Redirect("/staff/replication", fiber.StatusSeeOther)
}

// apiReplication: GET /api/v1/replication — this node's key and its peers.
func (s *Server) apiReplication(c *fiber.Ctx) error {
	type peerJSON struct {
		Role        string `json:"role"`
		Code        string `json:"code"`
		Name        string `json:"name"`
		Key         string `json:"key"`
		Relation    string `json:"relation"`
		Enrolled    bool   `json:"enrolled"`
		Revoked     bool   `json:"revoked,omitempty"`
		Alive       bool   `json:"alive"`
		LastContact string `json:"last_contact,omitempty"`
		Behind      uint64 `json:"behind"`
		BytesSent   uint64 `json:"bytes_sent"`
		BytesRecv   uint64 `json:"bytes_received"`
		EntriesSent uint64 `json:"entries_sent"`
		EntriesRecv uint64 `json:"entries_received"`
		Problem     string `json:"problem,omitempty"`
		ClockOffset int64  `json:"clock_offset_seconds,omitempty"`
	}
	data, err := s.replicationData()
	if err != nil {
		return err
	}
	conv := func(p *ReplicationPeer, pj *peerJSON) {
		if p == nil {
			return
		}
		pj.Relation, pj.Alive, pj.Behind = p.Relation, p.Alive, p.Behind
		pj.BytesSent, pj.BytesRecv, pj.EntriesSent, pj.EntriesRecv = p.BytesSent, p.BytesRecv, p.EntriesSent, p.EntriesRecv
		pj.Problem, pj.ClockOffset = p.Problem, int64(p.ClockOffset/time.Second)
		if !p.LastContact.IsZero() {
			pj.LastContact = p.LastContact.UTC().Format(time.RFC3339)
		}
	}
	var out []peerJSON
	if p, _ := data["ParentPeer"].(*ReplicationPeer); p != nil {
		pj := peerJSON{Role: p.Role, Code: p.Code, Name: p.Name, Key: p.Key.String()}
		conv(p, &pj)
		out = append(out, pj)
	}
	for _, ch := range data["Children"].([]childRow) {
		pj := peerJSON{Role: ch.Enrolment.Role, Code: ch.Enrolment.Code, Name: ch.Enrolment.Name, Key: ch.Enrolment.Key,
			Relation: "child", Enrolled: !ch.Enrolment.Revoked, Revoked: ch.Enrolment.Revoked}
		conv(ch.Peer, &pj)
		pj.Relation = "child" // a revoked child's relation is none: the row says it was enrolled
		out = append(out, pj)
	}
	for _, p := range data["Strangers"].([]ReplicationPeer) {
		pj := peerJSON{Role: p.Role, Code: p.Code, Name: p.Name, Key: p.Key.String()}
		conv(&p, &pj)
		out = append(out, pj)
	}
	type noteJSON struct {
		Problem string `json:"problem"`
		Host    string `json:"host"`
		Node    string `json:"node,omitempty"`
	}
	notes := []noteJSON{}
	ns, _ := data["Notes"].([]ReplicationNote)
	for _, n := range ns {
		notes = append(notes, noteJSON{n.Problem, n.Host, n.Node})
	}
	return c.JSON(fiber.Map{"key": data["Key"], "fingerprint": data["Fingerprint"], "running": data["Running"] == true, "peers": out, "problems": notes})
}

// Link problems as people read them, from this node's side: the parent's
// (what the parent said of us, or what we found) and a child's.
var (
	parentProblems = map[string]string{
		"key":         "集群密钥不一致：上级节点无法解密本节点的消息。请核对两边“集群密钥”指纹，按 docs/replication.md 更换密钥。",
		"unreachable": "无法连接上级节点：网络不通或上级节点未运行。联网后自动补传。",
		"unenrolled":  "上级节点尚未登记本节点：请上级管理员在其“数据同步”页面登记本节点公钥（核对指纹）。",
		"revoked":     "上级节点已停用本节点的登记，不再接收本节点的数据。",
		"proof":       "上级节点未能证明其节点密钥，已拒绝与其同步。",
	}
	childProblems = map[string]string{
		"key":        "集群密钥不一致：无法解密该节点的消息。",
		"unenrolled": "该节点尚未登记，其数据不被接收。",
		"revoked":    "该节点已停用，但仍在尝试同步：其数据不被接收。",
		"proof":      "该节点未能证明其节点密钥（可能是冒充），已拒绝。",
	}
)

// ProblemText says what is wrong with the link to p, "" if nothing.
func (p ReplicationPeer) ProblemText() string {
	var out []string
	if p.Relation == "parent" && p.Problem != "" {
		out = append(out, parentProblems[p.Problem])
	} else if p.Problem != "" {
		out = append(out, childProblems[p.Problem])
	}
	if p.ClockOffset != 0 {
		out = append(out, clockText(p.ClockOffset))
	}
	return strings.Join(out, " ")
}

// clockText says how far another node's clock is from ours.
func clockText(d time.Duration) string {
	dir := "快"
	if d < 0 {
		dir, d = "慢", -d
	}
	var amount string
	switch {
	case d >= 48*time.Hour:
		amount = fmt.Sprintf("%d天", int(d.Hours()/24))
	case d >= time.Hour:
		amount = fmt.Sprintf("%.1f小时", d.Hours())
	default:
		amount = fmt.Sprintf("%d分钟", int(d.Minutes()))
	}
	return fmt.Sprintf("对方时钟比本机%s约%s：请校准时间较差的一方（设置 NTP 或手动校时）。", dir, amount)
}

// Text says what the note means, for the page.
func (n ReplicationNote) Text() string {
	who := n.Host
	if n.Node != "" {
		who = n.Node + "（" + n.Host + "）"
	}
	switch n.Problem {
	case "key":
		return "地址 " + who + " 的节点使用了本节点没有的集群密钥，双方无法通信。请核对两边“集群密钥”指纹。"
	case "unreachable":
		return "无法连接上级节点 " + who + "：网络不通或上级节点未运行。联网后自动补传。"
	}
	return n.Problem + " " + who
}

// SentLabel and RecvLabel show byte counts for people.
func (p ReplicationPeer) SentLabel() string { return bytesLabel(p.BytesSent) }
func (p ReplicationPeer) RecvLabel() string { return bytesLabel(p.BytesRecv) }

func bytesLabel(n uint64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
