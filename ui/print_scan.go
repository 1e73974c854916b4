package ui

import (
	"sync"
	"time"
)

// QR codes a village prints for phones may point at its town node, which
// is reachable from outside when the village box is not ([print] town_url,
// docs/print.md). Such codes are signed with a secret the village and the
// town share (bolt.Store.QRSecrets); /scan accepts them besides the node's
// own, the town its villages', a village its own printed for the town.

// qrSecrets gives those shared secrets, read again at most every 30
// seconds, so a newly enrolled village's codes work soon and a forged code
// costs no key agreement per request.
func (s *Server) qrSecrets() func() [][]byte {
	var (
		mu     sync.Mutex
		at     time.Time
		cached [][]byte
	)
	return func() [][]byte {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) > 30*time.Second {
			cached, at = s.Store.QRSecrets(s.Config.Replicate.ParentKey), time.Now()
		}
		return cached
	}
}
