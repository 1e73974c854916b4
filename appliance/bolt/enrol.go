package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

// bucketEnrolled holds the child nodes each parent admits:
// parent feed hex "/" child feed hex → Enrolment (LWW). Keyed by the
// enrolling feed so that the fold does not depend on which node folds it.
const bucketEnrolled = "v_enrolled"

type enrolView struct{}

func (enrolView) Name() string      { return "enrol" }
func (enrolView) Buckets() []string { return []string{bucketEnrolled} }

func (enrolView) Apply(tx *Tx, e *appliance.Entry) error {
	if e.Kind != appliance.KindNodeEnrol {
		return nil
	}
	var en appliance.Enrolment
	if !decodeOK(e, &en) || en.Validate() != nil {
		return nil
	}
	_, err := tx.PutLWW(bucketEnrolled, e.Feed.String()+"/"+strings.ToLower(en.Key), e, e.Body)
	return err
}

func init() { RegisterView(enrolView{}) }

// Enrol admits (or, with Revoked, turns away) a child node.
func (s *Store) Enrol(ctx context.Context, author string, en appliance.Enrolment) error {
	en.Key = strings.ToLower(strings.TrimSpace(en.Key))
	if err := en.Validate(); err != nil {
		return err
	}
	if en.Key == s.Feed().String() {
		return appliance.FieldError("key", "不能登记本节点自己的公钥")
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindNodeEnrol, Version: 1, Body: en})
	return err
}

// Enrolled reports whether feed is an enrolled, not revoked, child node.
func (s *Store) Enrolled(feed appliance.FeedID) (appliance.Enrolment, bool) {
	en, ok := s.Enrolment(feed)
	return en, ok && !en.Revoked
}

// Enrolment returns this node's enrolment of feed, revoked or not.
func (s *Store) Enrolment(feed appliance.FeedID) (appliance.Enrolment, bool) {
	var en appliance.Enrolment
	var ok bool
	s.Read(func(tx *Tx) error {
		var err error
		ok, err = tx.LWWJSON(bucketEnrolled, s.Feed().String()+"/"+feed.String(), &en)
		ok = ok && err == nil
		return nil
	})
	return en, ok
}

// Enrolments returns this node's enrolments, revoked ones included, by code.
func (s *Store) Enrolments() ([]appliance.Enrolment, error) {
	var out []appliance.Enrolment
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketEnrolled, s.Feed().String()+"/", func(k string, v []byte) error {
			var en appliance.Enrolment
			if json.Unmarshal(v, &en) == nil {
				out = append(out, en)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, err
}
