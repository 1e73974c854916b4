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
}

// ReplicationSource is what the page shows of the running replicator.
type ReplicationSource struct {
	Peers    func() []ReplicationPeer
	Rejected func() map[string]uint64
	Keys     func() []string // cluster key fingerprints, the encrypting key first
}

// Kept beside the Server rather than in it, so that this feature lives in
// its own file.
var replicationOf sync.Map // *Server → ReplicationSource

// SetReplication connects the replication page to a running replicator.
func SetReplication(s *Server, src ReplicationSource) {
	replicationOf.Store(s, src)
}

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/replication", Label: "数据同步", Perm: appliance.PermViewDashboard})
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
		pj := peerJSON{Role: ch.Enrolment.Role, Code: ch.Enrolment.Code, Name: ch.Enrolment.Name, Key: ch.Enrolment.Key, Relation: "child", Enrolled: true, Revoked: ch.Enrolment.Revoked}
		conv(ch.Peer, &pj)
		out = append(out, pj)
	}
	for _, p := range data["Strangers"].([]ReplicationPeer) {
		pj := peerJSON{Role: p.Role, Code: p.Code, Name: p.Name, Key: p.Key.String()}
		conv(&p, &pj)
		out = append(out, pj)
	}
	return c.JSON(fiber.Map{"key": data["Key"], "fingerprint": data["Fingerprint"], "running": data["Running"] == true, "peers": out})
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
