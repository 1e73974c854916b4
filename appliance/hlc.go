package appliance

import (
	"sync"
	"time"
)

// HLC is a hybrid logical clock time: milliseconds since the Unix epoch in
// the upper 48 bits and a logical counter in the lower 16. Cheap boxes have
// no real-time clock and may boot in 1970; the HLC never goes backwards.
type HLC uint64

const hlcLogicalBits = 16

// MaxHLC is the latest time an entry may carry, the end of year 9999:
// later than any clock, yet far enough below the top of the range that a
// clock which observed it still counts up instead of wrapping to 1970.
var MaxHLC = HLCFromTime(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) - 1

// HLCFromTime returns the HLC of a wall-clock time with counter zero.
func HLCFromTime(t time.Time) HLC { return HLC(uint64(t.UnixMilli()) << hlcLogicalBits) }

// Time returns the physical part as a time.
func (h HLC) Time() time.Time { return time.UnixMilli(int64(h >> hlcLogicalBits)).UTC() }

// Clock hands out strictly increasing HLC times.
type Clock struct {
	mu   sync.Mutex
	last HLC
	Now  func() time.Time // wall clock; time.Now when nil
}

// Next returns a time after every time handed out or observed.
func (c *Clock) Next() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	wall := HLCFromTime(now())
	if wall > c.last {
		c.last = wall
	} else {
		c.last++
	}
	return c.last
}

// Observe moves the clock past t (a time stored or received).
func (c *Clock) Observe(t HLC) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t > c.last {
		c.last = t
	}
}

// Last returns the latest time handed out or observed.
func (c *Clock) Last() HLC {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}
