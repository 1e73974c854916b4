package bolt

import "gridbox/appliance"

// ParentKey is the node key of this node's parent: the one configured
// (replicate.parent_key), else the one replication pinned when it first met
// the parent (replicate/replicate.go keeps it under this name).
func (s *Store) ParentKey(configured string) (appliance.FeedID, bool) {
	if k, err := appliance.ParseFeedID(configured); err == nil {
		return k, true
	}
	var hexKey string
	s.Read(func(tx *Tx) error {
		_, err := tx.GetJSON("local", "replicate/parent_key", &hexKey)
		return err
	})
	k, err := appliance.ParseFeedID(hexKey)
	return k, err == nil
}

// ParentQRSecret is the token secret this node shares with its parent
// (appliance.Signer.QRSecret): QR codes that the parent is to answer are
// signed with it.
func (s *Store) ParentQRSecret(parentKey string) ([]byte, error) {
	k, ok := s.ParentKey(parentKey)
	if !ok {
		return nil, appliance.FieldError("parent_key", "本机还不知道乡镇平台的节点公钥：请先与乡镇同步一次，或在配置 replicate.parent_key 中填写")
	}
	return s.signer.QRSecret(k)
}

// QRSecrets are the token secrets this node shares with its parent and its
// enrolled children: a node accepts QR codes signed with any.
func (s *Store) QRSecrets(parentKey string) [][]byte {
	var out [][]byte
	if b, err := s.ParentQRSecret(parentKey); err == nil {
		out = append(out, b)
	}
	ens, _ := s.Enrolments()
	for _, en := range ens {
		if en.Revoked {
			continue
		}
		if b, err := s.signer.QRSecret(en.Feed()); err == nil {
			out = append(out, b)
		}
	}
	return out
}
