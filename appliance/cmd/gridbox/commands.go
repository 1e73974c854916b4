package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func runInit(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("init", "--data DIR --role village|town|city --code DIVISION_CODE --name NAME [--parent HOST:PORT] [--release-key HEX] [--backup-dir DIR] [--duty-phone PHONE] [--force]")
	data := fs.String("data", "", "data folder to create")
	role := fs.String("role", "", "node role: village, town or city")
	code := fs.String("code", "", "12-digit division code of the village, town or city")
	name := fs.String("name", "", "name of the village, town or city")
	parent := fs.String("parent", "", "address of the parent node (host:port)")
	force := fs.Bool("force", false, "replace a node that already exists in the folder")
	releaseKey := fs.String("release-key", "", "the county's release key (hex public key): only releases it signed are installed")
	backupDir := fs.String("backup-dir", "", "folder for the nightly backups, e.g. the backup stick's /media/gridbox-backup")
	dutyPhone := fs.String("duty-phone", "", "the duty room's phone")
	if err := parse(fs, args, "data", "role", "code", "name"); err != nil {
		return err
	}
	node := appliance.Node{Role: *role, Code: *code, Name: *name, Parent: *parent}
	if err := node.Validate(); err != nil {
		return usageError{fmt.Sprintf("init: --%s: %s", appliance.ErrorField(err), appliance.ErrorMessage(err))}
	}
	res, err := provisionNode(ctx, *data, node, provisionOptions{ReleaseKey: *releaseKey, BackupDir: *backupDir, DutyPhone: *dutyPhone, Force: *force})
	var bad invalidConfig
	if errors.As(err, &bad) {
		return usageError{fmt.Sprintf("init: %v", bad.error)}
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s node %s (%s) in %s\n", node.Role, node.Name, node.Code, *data)
	fmt.Fprintf(stdout, "node key: %s\n", res.Feed)
	fmt.Fprintf(stdout, "admin account: %s  one-time password: %s  (shown once; change it at first login)\n", res.AdminUsername, res.AdminPassword)
	fmt.Fprintf(stdout, "HTTPS certificate fingerprint (SHA-256): %s\n", res.TLSFingerprint)
	return nil
}

// provisionOptions are what a new node is given besides its identity.
type provisionOptions struct {
	ReleaseKey    string // hex public key of the county's release key
	BackupDir     string
	DutyPhone     string
	AdminPassword string // "" makes a one-time password
	Force         bool
}

// invalidConfig is a node's settings refused before anything is written.
type invalidConfig struct{ error }

func (e invalidConfig) Unwrap() error { return e.error }

// provisionNode creates a node in data: gridbox init and the setup page on
// a new box's screen both run it.
func provisionNode(ctx context.Context, data string, node appliance.Node, o provisionOptions) (bolt.InitResult, error) {
	cfg := appliance.DefaultConfig()
	cfg.Node, cfg.Upgrade.ReleaseKey, cfg.Backup.Dir = node, strings.ToLower(strings.TrimSpace(o.ReleaseKey)), o.BackupDir
	cfg.DutyPhone = appliance.NormalizePhone(o.DutyPhone)
	if err := cfg.Validate(); err != nil {
		return bolt.InitResult{}, invalidConfig{err}
	}
	return bolt.InitDataDir(ctx, data, node, bolt.InitOptions{Force: o.Force, Config: &cfg, AdminPassword: o.AdminPassword})
}

// onNode runs fn on the stopped node whose folder --data names; the
// maintenance commands that take only --data share it.
func onNode(name string, args []string, fn func(s *bolt.Store) error) error {
	fs := newFlags(name, "--data DIR")
	data := fs.String("data", "", "data folder of the node (the node must not be serving)")
	if err := parse(fs, args, "data"); err != nil {
		return err
	}
	s, _, err := bolt.OpenDataDir(*data, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

func runVerify(ctx context.Context, args []string, stdout io.Writer) error {
	return onNode("verify", args, func(s *bolt.Store) error {
		rep, err := s.Verify(ctx)
		if err != nil {
			return fmt.Errorf("verify failed: %w", err)
		}
		fmt.Fprintf(stdout, "ok: %d feeds, %d entries, %d views match the refold\n", rep.Feeds, rep.Entries, rep.Views)
		days, err := s.VerifyRegisters()
		if err != nil {
			return fmt.Errorf("verify failed: %w", err)
		}
		fmt.Fprintf(stdout, "ok: %d closed register days unchanged\n", days)
		return nil
	})
}

func runReindex(ctx context.Context, args []string, stdout io.Writer) error {
	return onNode("reindex", args, func(s *bolt.Store) error {
		start := time.Now()
		if err := s.Reindex(ctx); err != nil {
			return err
		}
		st, _ := s.Stats()
		fmt.Fprintf(stdout, "reindexed %d entries in %s\n", st.Entries, time.Since(start).Round(time.Millisecond))
		return nil
	})
}

// A backup is a tar file holding the node key, the configuration and a
// consistent copy of the database: all a replacement box needs.
func runBackup(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("backup", "--data DIR --out FILE")
	data := fs.String("data", "", "data folder of the node (may be serving)")
	out := fs.String("out", "", "backup file to write")
	if err := parse(fs, args, "data", "out"); err != nil {
		return err
	}
	n, err := backup(*data, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes of database)\n", *out, n)
	return nil
}

func backup(data, out string) (int64, error) {
	// The live database is copied through a read transaction of the serving
	// process's file: bbolt lets a second process read only if nobody holds
	// the write lock, so read it through the API when serving.
	s, err := openForBackup(data)
	if err != nil {
		return 0, err
	}
	defer s.close()
	return writeBackup(data, out, s)
}

// writeBackup writes the node key, the configuration and the database from
// s to out, through a .partial file that is fsync'd and then renamed; it
// never overwrites a file.
func writeBackup(data, out string, s *backupSource) (int64, error) {
	if _, err := os.Stat(out); err == nil {
		return 0, fmt.Errorf("backup: %s exists; choose another file", out)
	}
	tmp := out + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp)
	tw := tar.NewWriter(f)
	for _, name := range []string{bolt.KeyFile, appliance.ConfigFile} {
		b, err := os.ReadFile(filepath.Join(data, name))
		if err != nil {
			f.Close()
			return 0, err
		}
		if err := writeTarFile(tw, name, b); err != nil {
			f.Close()
			return 0, err
		}
	}
	n, err := s.writeDB(tw)
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return 0, err
	}
	syncDir(filepath.Dir(out))
	return n, nil
}

// syncDir makes a new name in dir durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func writeTarFile(tw *tar.Writer, name string, b []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: time.Now()}); err != nil {
		return err
	}
	_, err := tw.Write(b)
	return err
}

func runRestore(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("restore", "--data DIR --from FILE [--force]")
	data := fs.String("data", "", "data folder to restore into (the node must not be running)")
	from := fs.String("from", "", "backup file written by gridbox backup")
	force := fs.Bool("force", false, "replace a node that already exists in the folder")
	if err := parse(fs, args, "data", "from"); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(*data, bolt.DBFile)); err == nil && !*force {
		return fmt.Errorf("restore: %s already holds a node; use --force to replace it", *data)
	}
	staging, err := os.MkdirTemp(filepath.Dir(filepath.Clean(*data)), ".restore-")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(staging)
	if err := untar(*from, staging); err != nil {
		return fmt.Errorf("restore: %s: %w", *from, err)
	}
	// Check the backup before it replaces anything.
	s, _, err := bolt.OpenDataDir(staging, nil)
	if err != nil {
		return fmt.Errorf("restore: backup unusable: %w", err)
	}
	rep, err := s.Verify(ctx)
	s.Close()
	if err != nil {
		return fmt.Errorf("restore: backup does not verify: %w", err)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	// Move the database last: a folder without it is not a node yet.
	for _, name := range []string{bolt.KeyFile, appliance.ConfigFile, bolt.DBFile} {
		if err := os.Rename(filepath.Join(staging, name), filepath.Join(*data, name)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	fmt.Fprintf(stdout, "restored %d entries of %d feeds into %s\n", rep.Entries, rep.Feeds, *data)
	return nil
}

func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	want := map[string]bool{bolt.KeyFile: true, appliance.ConfigFile: true, bolt.DBFile: true}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			return err
		}
		if !want[h.Name] {
			return fmt.Errorf("unexpected file %q in backup", h.Name)
		}
		delete(want, h.Name)
		out, err := os.OpenFile(filepath.Join(dir, h.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
	for name := range want {
		return fmt.Errorf("backup lacks %s", name)
	}
	return nil
}
