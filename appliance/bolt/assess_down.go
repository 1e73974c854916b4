package bolt

import (
	"bytes"
	"encoding/json"

	"gridbox/appliance"
)

// A town's rule tables go down to every village, its findings to the
// village they concern, as copies on the downward feeds (down_copy.go):
// the village then scores by the same rules and findings as the town.

// assessCopyKey is where a copy of a rule table or a finding folds at the
// child, "" when the copy is not the child's to take.
func assessCopyKey(c appliance.DownCopy, d appliance.DownFeed) (bucket, key string) {
	town := appliance.TownOf(d.Child)
	switch c.Kind {
	case appliance.KindAssessRules:
		var t appliance.RuleTable
		if json.Unmarshal(c.Body, &t) != nil || t.Validate() != nil || t.Town != town {
			return "", ""
		}
		return bucketAssessRules, ruleTableKey(&t)
	case appliance.KindAssessFinding:
		var f appliance.Finding
		if json.Unmarshal(c.Body, &f) != nil || f.Validate() != nil || f.Town != town || f.Village != d.Child {
			return "", ""
		}
		return bucketAssessFindings, f.Key()
	}
	return "", ""
}

// assessCopies offers this town's rule tables and child's findings to
// consider (downCopyDrafts).
func assessCopies(tx *Tx, node appliance.Node, child string, consider func(kind, key string, raw []byte, want func(*appliance.DownCopy) []byte) error) error {
	prefix := []byte(node.Code + "/")
	c := tx.Bucket(bucketAssessRules).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) < stampSize {
			continue
		}
		body := append([]byte(nil), v[stampSize:]...)
		if err := consider(appliance.KindAssessRules, string(k), v, func(*appliance.DownCopy) []byte { return body }); err != nil {
			return err
		}
	}
	c = tx.Bucket(bucketAssessFindings).Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var f appliance.Finding
		if len(v) < stampSize || json.Unmarshal(v[stampSize:], &f) != nil || f.Village != child {
			continue
		}
		body := append([]byte(nil), v[stampSize:]...)
		if err := consider(appliance.KindAssessFinding, string(k), v, func(*appliance.DownCopy) []byte { return body }); err != nil {
			return err
		}
	}
	return nil
}
