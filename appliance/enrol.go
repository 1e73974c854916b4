package appliance

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// KindNodeEnrol is a parent's ledger entry admitting (or revoking) a child
// node: only enrolled child keys may send entries to the parent.
const KindNodeEnrol = "node.enrol"

// Enrolment admits a child node by its key.
type Enrolment struct {
	Key     string `json:"key"` // hex of the child's node key (its feed id)
	Code    string `json:"code"`
	Name    string `json:"name,omitempty"`
	Role    string `json:"role"` // village under a town, town under a city
	Revoked bool   `json:"revoked,omitempty"`
}

// Feed returns the enrolled key as a feed id (zero if malformed).
func (e *Enrolment) Feed() FeedID {
	f, _ := ParseFeedID(e.Key)
	return f
}

// Validate checks an enrolment.
func (e *Enrolment) Validate() error {
	if _, err := ParseFeedID(e.Key); err != nil {
		return FieldError("key", "下级节点公钥应为64位十六进制数")
	}
	switch e.Role {
	case NodeVillage, NodeTown:
	default:
		return FieldError("role", "下级节点类型必须是 village 或 town")
	}
	if err := ValidateDivisionCode(e.Code, e.Role); err != nil {
		return err
	}
	if e.Name != "" {
		if err := requireText("name", "名称", e.Name, 40); err != nil {
			return err
		}
	}
	return nil
}

// Fingerprint is what two operators read to each other to compare a node
// key: the first 16 bytes of its SHA-256 in groups of four hex digits.
func (f FeedID) Fingerprint() string {
	sum := sha256.Sum256(f[:])
	h := strings.ToUpper(hex.EncodeToString(sum[:16]))
	parts := make([]string, 0, 8)
	for i := 0; i < len(h); i += 4 {
		parts = append(parts, h[i:i+4])
	}
	return strings.Join(parts, "-")
}
