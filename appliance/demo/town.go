package demo

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The town above a demo village. Its steps on the village's escalated cases
// are written in the demo's simulated time by a town store of their own in
// a temporary folder: not the town's own file, whose clock may already stand
// at the end of another village's month. They are signed with the town's
// key, so they land on the feed that town writes for this village: a
// throwaway key for a village alone, or the key of the town node given in
// Options.TownDir, which then receives the village's feed and that downward
// feed (make demo-cluster), as replication would bring them.

// Town accounts of a demo town (GenerateTown), password Password.
var townAccounts = []struct {
	username, name string
	role           appliance.Role
	dept           string
}{
	{"town", "刘振华", appliance.RoleTownOperator, ""},
	{"dept", "赵秀英", appliance.RoleDepartment, "镇自然资源所"},
	{"inspector", "孙德胜", appliance.RoleInspector, ""},
}

// Departments the demo dispatches to, offered on a demo town's dispatch form.
var townDepartments = []string{"镇自然资源所", "镇安监站", "派出所", "市场监管所", "综治办"}

// GenerateTown creates a demo town node in dir: its admin and one account
// per town role (password Password), and the demo's departments. It holds
// no cases of its own; demo villages made with Options.TownDir = dir bring
// theirs. opts.Code is the town's code (default 410184104000).
func GenerateTown(ctx context.Context, dir string, opts Options) (appliance.Config, []bolt.DemoAccount, error) {
	if opts.Code == "" {
		opts.Code, opts.Name = "410184104000", "龙湖镇"
	}
	cfg := appliance.DefaultConfig()
	cfg.DutyRoom = opts.Name + "综治中心值班室"
	cfg.Cases.Departments = townDepartments
	node := appliance.Node{Role: appliance.NodeTown, Code: opts.Code, Name: opts.Name}
	if _, err := bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{Force: opts.Force, AdminPassword: Password, Config: &cfg}); err != nil {
		return cfg, nil, err
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		return cfg, nil, err
	}
	defer s.Close()
	accounts := []bolt.DemoAccount{{Username: "admin", RoleLabel: appliance.RoleAdmin.Label(), Password: Password}}
	for _, a := range townAccounts {
		u := appliance.User{ID: "u-" + a.username, Username: a.username, Name: a.name, Role: a.role, Grid: opts.Code, Department: a.dept}
		if err := s.CreateUser(ctx, "u-admin", u, Password, false); err != nil {
			return cfg, nil, err
		}
		accounts = append(accounts, bolt.DemoAccount{Username: a.username, RoleLabel: a.role.Label(), Password: Password})
	}
	return cfg, accounts, s.SetDemoAccounts(accounts)
}

type town struct {
	cfg   appliance.Config // the town's, for the case rules
	key   ed25519.PrivateKey
	store *bolt.Store // the town node of Options.TownDir; nil for a throwaway key
}

// openTown checks and opens the town of opts, before the village is made.
func openTown(opts Options) (*town, error) {
	if err := appliance.ValidateDivisionCode(opts.Code, appliance.NodeVillage); err != nil {
		return nil, err
	}
	if opts.TownDir == "" {
		cfg := appliance.DefaultConfig()
		cfg.Node = appliance.Node{Role: appliance.NodeTown, Code: opts.Code[:9] + "000", Name: opts.Town}
		if cfg.Node.Name == "" {
			cfg.Node.Name = "龙湖镇"
		}
		_, key, err := ed25519.GenerateKey(rand.Reader)
		return &town{cfg: cfg, key: key}, err
	}
	s, cfg, err := bolt.OpenDataDir(opts.TownDir, &bolt.Options{NoSync: true})
	if err != nil {
		return nil, fmt.Errorf("town: %w", err)
	}
	t := &town{cfg: cfg, store: s}
	switch {
	case cfg.Node.Role != appliance.NodeTown:
		err = fmt.Errorf("%s is not a town node (role %s)", opts.TownDir, cfg.Node.Role)
	case cfg.Node.Code[:9] != opts.Code[:9]:
		err = fmt.Errorf("village %s is not in town %s (%s)", opts.Code, cfg.Node.Name, cfg.Node.Code)
	}
	if err == nil {
		var nodes map[appliance.FeedID]appliance.Node
		nodes, err = s.Nodes()
		for _, n := range nodes {
			if n.Code == opts.Code && err == nil {
				err = fmt.Errorf("the town in %s already holds village %s: build the demo cluster afresh", opts.TownDir, opts.Code)
			}
		}
	}
	if err == nil {
		t.key, err = appliance.ReadNodeKey(filepath.Join(opts.TownDir, bolt.KeyFile))
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return t, nil
}

// cases opens the store that writes the town's steps during the demo; done
// closes and removes it.
func (t *town) cases(v *Village) (tcs *bolt.Cases, done func(), err error) {
	dir, err := os.MkdirTemp("", "gridbox-demo-town-")
	if err != nil {
		return nil, nil, err
	}
	clock := &appliance.Clock{Now: v.Now}
	ts, err := bolt.Open(filepath.Join(dir, bolt.DBFile), t.key, &bolt.Options{NoSync: true, Clock: clock})
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	done = func() { ts.Close(); os.RemoveAll(dir) }
	ts.Signer().Rand = v.Rand2()
	// The demo's history has a city above the town (cases went up to it),
	// whether or not the demo town's file names one.
	cfg := t.cfg
	if cfg.Node.Parent == "" && cfg.Replicate.ParentKey == "" {
		cfg.Node.Parent = "city.demo:7946"
	}
	if tcs, err = bolt.NewCases(ts, cfg); err != nil {
		done()
		return nil, nil, err
	}
	tcs.Now = v.Now
	return tcs, done, nil
}

// join gives the town node what replication would: the village's feed and
// the town's downward feed for it (the village holds both, and only these).
func (t *town) join(village *bolt.Store) error {
	if t.store == nil {
		return nil
	}
	if err := copyFeeds(village, t.store); err != nil {
		return fmt.Errorf("town: %w", err)
	}
	return t.store.DB().Sync()
}

func (t *town) close() {
	if t.store != nil {
		t.store.Close()
	}
}
