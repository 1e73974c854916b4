// Package demo builds a realistic, fictional village box for trying gridbox
// out: its grid tree, people, accounts, duty roster and notices, and (from
// the feature files beside this one) households, visits and cases over the
// past month. Everything is drawn from a fixed seed: the same day gives the
// same data.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Password is the password of every demo account (demo data only).
const Password = "demo1234"

// Seed is the fixed seed of the demo.
const Seed = 20261128

// Options tune Generate.
type Options struct {
	Code  string    // village division code
	Name  string    // village name
	Town  string    // town name
	Now   time.Time // the demo ends at this time; zero: now
	Force bool
	Seed  uint64 // zero: Seed
	// TownDir is the data folder of a town node (GenerateTown) for the
	// village's escalated cases: the town's steps are signed with that
	// town's key, and the village's feed and the town's downward feed for
	// it go into the town, so both nodes show the same cases (make
	// demo-cluster). Empty: a throwaway town key.
	TownDir string
}

// Village is the demo being built; feature files add their data to it.
type Village struct {
	Store  *bolt.Store
	Config appliance.Config
	Rand   *rand.Rand
	Start  time.Time // a month before End
	End    time.Time
	Loc    *time.Location

	Code   string
	Groups []appliance.Grid
	Staff  []appliance.StaffMember
	Users  map[appliance.Role]appliance.User

	Entries uint64 // ledger entries written

	// Waiting are the cases waiting at the town (escalated, not yet
	// dispatched), with what their reporters hold.
	Waiting []Receipt

	clock time.Time // the simulated wall clock
	town  *town     // the town the cases go up to
}

// Receipt is what a case's reporter holds: the receipt code, its PIN and
// the token of its QR code (the kiosk shows progress at /scan?token=).
type Receipt struct {
	Code, PIN, Token string
}

// At moves the simulated clock to t (never backwards) for the next writes.
func (v *Village) At(t time.Time) {
	if t.After(v.clock) {
		v.clock = t
	}
}

// Now is the simulated wall clock.
func (v *Village) Now() time.Time { return v.clock }

// Leader returns the grid leader of a group.
func (v *Village) Leader(group string) appliance.StaffMember {
	for _, m := range v.Staff {
		if m.Grid == group && m.Duty == appliance.DutyGridLeader {
			return m
		}
	}
	return appliance.StaffMember{}
}

// Step is a part of the demo added by a feature; steps run in order of
// registration after the foundation's.
type Step struct {
	Name string
	Run  func(ctx context.Context, v *Village) error
}

var steps []Step

// Register adds a feature's step; call it from init.
func Register(s Step) { steps = append(steps, s) }

// Generate creates a demo village node in dir.
func Generate(ctx context.Context, dir string, opts Options) (*Village, []bolt.DemoAccount, error) {
	if opts.Code == "" {
		opts.Code, opts.Name, opts.Town = "410184104201", "杏花村", "龙湖镇"
	}
	if opts.Seed == 0 {
		opts.Seed = Seed
	}
	// A town given is checked before anything is written.
	tw, err := openTown(opts)
	if err != nil {
		return nil, nil, err
	}
	defer tw.close()
	cfg := appliance.DefaultConfig()
	loc := cfg.Location()
	end := opts.Now
	if end.IsZero() {
		end = time.Now()
	}
	end = end.In(loc)
	// Start at midnight a month back so the same day gives the same data.
	day := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, loc)
	v := &Village{
		Rand:  rand.New(rand.NewPCG(opts.Seed, hash(opts.Code))),
		Start: day.AddDate(0, -1, 0),
		End:   end,
		Loc:   loc,
		Code:  opts.Code,
		Users: map[appliance.Role]appliance.User{},
		town:  tw,
	}
	v.clock = v.Start
	cfg.DutyPhone = "0371-6258" + fmt.Sprintf("%04d", v.Rand.IntN(10000))
	cfg.DutyRoom = opts.Name + "村委会一楼值班室"
	clock := &appliance.Clock{Now: v.Now}
	node := appliance.Node{Role: appliance.NodeVillage, Code: opts.Code, Name: opts.Name}
	_, err = bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{Force: opts.Force, AdminPassword: Password, Config: &cfg, Clock: clock})
	if err != nil {
		return nil, nil, err
	}
	// Demo writes skip fsync per entry; one sync at the end makes them durable.
	s, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true, Clock: clock})
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	s.Signer().Rand = v.Rand2()
	v.Store, v.Config = s, cfg
	accounts, err := v.foundation(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("demo: %w", err)
	}
	for _, st := range steps {
		if err := st.Run(ctx, v); err != nil {
			return nil, nil, fmt.Errorf("demo %s: %w", st.Name, err)
		}
	}
	if v.Waiting, err = v.waitingAtTown(); err != nil {
		return nil, nil, err
	}
	if err := s.SetDemoAccounts(accounts); err != nil {
		return nil, nil, err
	}
	if err := s.DB().Sync(); err != nil {
		return nil, nil, err
	}
	if err := tw.join(s); err != nil {
		return nil, nil, err
	}
	st, err := s.Stats()
	v.Entries = st.Entries
	return v, accounts, nil
}

// Rand2 returns a byte stream drawn from the demo's seed (for salts).
func (v *Village) Rand2() *seeded {
	return &seeded{r: rand.New(rand.NewPCG(v.Rand.Uint64(), v.Rand.Uint64()))}
}

type seeded struct{ r *rand.Rand }

func (s *seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

func hash(s string) uint64 {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
