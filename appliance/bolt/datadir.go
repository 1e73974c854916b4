package bolt

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gridbox/appliance"
)

// Files in a node's data folder.
const (
	DBFile  = "gridbox.db"
	KeyFile = "node.key"
)

// InitOptions tune InitDataDir.
type InitOptions struct {
	Force         bool   // replace an existing node in the folder
	AdminPassword string // "" makes a one-time password that must be changed
	Config        *appliance.Config
	Clock         *appliance.Clock // demo data writes in simulated time
	// Key is the node key; nil makes a new one. Tests give fixed keys so
	// that messages captured from one run stay valid in the next.
	Key ed25519.PrivateKey
}

// InitResult is what a new node's operator must be told once.
type InitResult struct {
	Feed          appliance.FeedID
	AdminUsername string
	AdminPassword string
	OneTime       bool
	// TLSFingerprint is the SHA-256 of the box's HTTPS certificate, for
	// the staff to compare when their browser first warns about it.
	TLSFingerprint string
}

// InitDataDir creates a node: the folder, its key pair, its configuration,
// the bbolt file with the node's first entries, and an admin account.
func InitDataDir(ctx context.Context, dir string, node appliance.Node, opts InitOptions) (InitResult, error) {
	var res InitResult
	if err := node.Validate(); err != nil {
		return res, err
	}
	cfg := appliance.DefaultConfig()
	if opts.Config != nil {
		cfg = *opts.Config
	}
	if cfg.Limits.MemoryMiB == appliance.VillageMemoryMiB { // left at the default
		cfg.Limits.MemoryMiB = appliance.DefaultMemoryMiB(node.Role)
	}
	cfg.Node = node
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	files := []string{DBFile, KeyFile, appliance.ConfigFile, appliance.TLSCertFile, appliance.TLSKeyFile}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			if !opts.Force {
				return res, fmt.Errorf("%s already holds a gridbox node (%s); use --force to replace it", dir, f)
			}
		}
	}
	if opts.Force {
		for _, f := range files {
			if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return res, err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return res, fmt.Errorf("create data folder: %w", err)
	}
	key := opts.Key
	var err error
	if key == nil {
		key, err = appliance.GenerateNodeKey(filepath.Join(dir, KeyFile))
	} else {
		err = appliance.WriteNodeKey(filepath.Join(dir, KeyFile), key)
	}
	if err != nil {
		return res, err
	}
	if err := appliance.WriteConfig(filepath.Join(dir, appliance.ConfigFile), cfg); err != nil {
		return res, err
	}
	cert, err := appliance.EnsureTLSCert(dir, node.Name)
	if err != nil {
		return res, err
	}
	res.TLSFingerprint = appliance.CertFingerprint(cert)
	s, err := Open(filepath.Join(dir, DBFile), key, &Options{Clock: opts.Clock})
	if err != nil {
		return res, err
	}
	defer s.Close()
	res.Feed = s.Feed()
	top := appliance.Grid{Code: node.Code, Name: node.Name}
	switch node.Role {
	case appliance.NodeVillage:
		top.Level = appliance.LevelVillage
	case appliance.NodeTown:
		top.Level = appliance.LevelTown
	default:
		top.Level = 0 // a city is above the grid tree
	}
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		drafts := []appliance.Draft{{Kind: appliance.KindNodeInit, Version: 1, Body: node}}
		if top.Level != 0 {
			drafts = append(drafts, appliance.Draft{Kind: appliance.KindGridSet, Version: 1, Body: top})
		}
		return drafts, nil
	})
	if err != nil {
		return res, err
	}
	// Make the new files' names durable too, not only their contents.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	res.AdminUsername, res.AdminPassword, res.OneTime = "admin", opts.AdminPassword, opts.AdminPassword == ""
	if res.OneTime {
		res.AdminPassword = RandomPassword()
	}
	admin := appliance.User{ID: "u-admin", Username: "admin", Name: "系统管理员", Role: appliance.RoleAdmin, Grid: node.Code}
	if err := s.CreateUser(ctx, "", admin, res.AdminPassword, res.OneTime); err != nil {
		return res, err
	}
	return res, nil
}

// OpenDataDir opens the node in dir: its configuration, key and store.
func OpenDataDir(dir string, opts *Options) (*Store, appliance.Config, error) {
	cfg, err := appliance.LoadConfig(filepath.Join(dir, appliance.ConfigFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, cfg, fmt.Errorf("%s is not a gridbox data folder (run gridbox init first)", dir)
		}
		return nil, cfg, err
	}
	key, err := appliance.ReadNodeKey(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, cfg, err
	}
	if _, err := os.Stat(filepath.Join(dir, DBFile)); err != nil {
		return nil, cfg, fmt.Errorf("%s has no %s: %w", dir, DBFile, err)
	}
	s, err := Open(filepath.Join(dir, DBFile), key, opts)
	return s, cfg, err
}

// DemoAccount is a demo login printed at start (demo data only).
type DemoAccount struct {
	Username  string `json:"username"`
	RoleLabel string `json:"role"`
	Password  string `json:"password"`
}

var localDemoAccounts = []byte("demo/accounts")

// SetDemoAccounts records the demo logins so that serve can print them.
func (s *Store) SetDemoAccounts(accounts []DemoAccount) error {
	return s.Update(func(tx *Tx) error { return tx.PutJSON(string(bucketLocal), string(localDemoAccounts), accounts) })
}

// DemoAccounts returns the demo logins, none on a real node.
func (s *Store) DemoAccounts() ([]DemoAccount, error) {
	var out []DemoAccount
	err := s.Read(func(tx *Tx) error {
		_, err := tx.GetJSON(string(bucketLocal), string(localDemoAccounts), &out)
		return err
	})
	return out, err
}
