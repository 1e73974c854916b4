package bolt_test

import (
	"context"
	"path/filepath"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestInitMemoryByRole: a town or city node is made with a larger soft
// memory limit than a village (it takes batches from many children at
// once); a limit given by the caller is kept.
func TestInitMemoryByRole(t *testing.T) {
	for _, c := range []struct {
		role, code  string
		given, want int
	}{
		{appliance.NodeVillage, "410184104201", 0, 96},
		{appliance.NodeTown, "410184104000", 0, appliance.TownMemoryMiB},
		{appliance.NodeCity, "410100000000", 0, appliance.TownMemoryMiB},
		{appliance.NodeTown, "410184104000", 300, 300},
	} {
		dir := filepath.Join(t.TempDir(), "n")
		opts := bolt.InitOptions{AdminPassword: "admin-pass-123"}
		if c.given != 0 {
			cfg := appliance.DefaultConfig()
			cfg.Limits.MemoryMiB = c.given
			opts.Config = &cfg
		}
		if _, err := bolt.InitDataDir(context.Background(), dir, appliance.Node{Role: c.role, Code: c.code, Name: "测试"}, opts); err != nil {
			t.Fatal(err)
		}
		cfg, err := appliance.LoadConfig(filepath.Join(dir, appliance.ConfigFile))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Limits.MemoryMiB != c.want {
			t.Errorf("%s given %d: memory_mib %d, want %d", c.role, c.given, cfg.Limits.MemoryMiB, c.want)
		}
	}
}
