package replicate

import (
	"encoding/json"
	"errors"

	"gridbox/appliance"
)

// MaxMetaSize is memberlist's limit on node metadata.
const MaxMetaSize = 512

// NodeMeta is what a node tells the cluster about itself in memberlist's
// node metadata: short keys, since it travels in every alive message.
type NodeMeta struct {
	Role string           `json:"r"`
	Code string           `json:"c"`
	Name string           `json:"n,omitempty"`
	Key  appliance.FeedID `json:"-"`
	KeyH string           `json:"k"`
	HTTP string           `json:"h,omitempty"` // host:port of the node's web pages
	// Nonce is new at every start: a peer signs it, with both names and its
	// own address, to prove its key without being challenged first.
	Nonce []byte `json:"o,omitempty"`
	// Wire is the newest batch encoding the node reads (wireVersion);
	// 0 for nodes that read only the first.
	Wire int `json:"w,omitempty"`
}

// Encode returns the metadata, refusing what memberlist would not carry.
func (m NodeMeta) Encode() ([]byte, error) {
	m.KeyH = m.Key.String()
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMetaSize {
		return nil, errors.New("node metadata longer than 512 bytes")
	}
	return b, nil
}

// DecodeMeta parses metadata from another node.
func DecodeMeta(b []byte) (NodeMeta, error) {
	var m NodeMeta
	if len(b) == 0 || len(b) > MaxMetaSize {
		return m, errors.New("no or oversized node metadata")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, err
	}
	k, err := appliance.ParseFeedID(m.KeyH)
	if err != nil {
		return m, err
	}
	m.Key = k
	switch m.Role {
	case appliance.NodeVillage, appliance.NodeTown, appliance.NodeCity:
	default:
		return m, errors.New("unknown role in node metadata")
	}
	return m, nil
}
