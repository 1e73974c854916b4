package replicate

import (
	"errors"

	"gridbox/appliance"
)

// SendRaw sends msg to the member named to, as a faulty or hostile node would.
func (r *Replicator) SendRaw(to string, msg []byte) error {
	for _, n := range r.ml.Members() {
		if n.Name == to {
			return r.ml.SendReliable(n, msg)
		}
	}
	return errors.New("no such member")
}

// EncodeBatch frames entries as a batch from r.
func (r *Replicator) EncodeBatch(entries []*appliance.Entry) []byte {
	b, _, err := encodeBatch(r.name, r.self, entries)
	if err != nil {
		panic(err)
	}
	return b
}
