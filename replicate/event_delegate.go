package replicate

import "github.com/hashicorp/memberlist"

// eventDelegate forwards membership changes to the replicator.
type eventDelegate struct{ r *Replicator }

func (d eventDelegate) NotifyJoin(n *memberlist.Node)   { d.r.memberEvent(n, true) }
func (d eventDelegate) NotifyLeave(n *memberlist.Node)  { d.r.memberEvent(n, false) }
func (d eventDelegate) NotifyUpdate(n *memberlist.Node) { d.r.memberEvent(n, true) }
