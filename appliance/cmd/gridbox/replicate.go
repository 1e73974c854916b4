package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate"
	"gridbox/ui"
)

// startReplication joins the cluster when replicate.bind is set, and hooks
// its figures into /metrics and the replication pages.
func (m *Main) startReplication(ctx context.Context) error {
	rc := m.Config.Replicate
	if rc.Bind == "" {
		return nil
	}
	keys, err := replicate.ParseKeys(rc.Keys)
	if err != nil {
		return err
	}
	var parentKey appliance.FeedID
	if rc.ParentKey != "" {
		if parentKey, err = appliance.ParseFeedID(rc.ParentKey); err != nil {
			return fmt.Errorf("replicate.parent_key: %w", err)
		}
	}
	r, err := replicate.New(replicate.Config{
		Store: m.Store, Node: m.Config.Node, Bind: rc.Bind, Advertise: rc.Advertise, Keys: keys,
		ParentKey: parentKey, HTTPAddr: m.Addr.String(), Log: m.Log, Fast: rc.Fast, SealedUp: rc.SealedUp,
	})
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return err
	}
	m.Replicator = r
	m.closers = append(m.closers, func() { r.Close() })
	m.Server.Registry().MustRegister(r.Collector())
	ui.SetReplication(m.Server, ui.ReplicationSource{
		Peers: func() []ui.ReplicationPeer {
			var out []ui.ReplicationPeer
			for _, p := range r.Status() {
				out = append(out, ui.ReplicationPeer{
					Role: p.Role, Code: p.Code, Name: p.NodeName, Key: p.Key, HTTP: p.HTTP, Relation: p.Relation,
					Alive: p.Alive, LastContact: p.LastContact, Behind: p.Behind,
					BytesSent: p.BytesSent, BytesRecv: p.BytesRecv, EntriesSent: p.EntriesSent, EntriesRecv: p.EntriesRecv,
				})
			}
			return out
		},
		Rejected: r.Rejected,
		Keys:     r.Keys,
	})
	return nil
}

// runReplication shows the node key and changes the [replicate] settings.
func runReplication(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("replication", "--data DIR [--bind ADDR] [--parent HOST:PORT] [--keys K1,K2] [--parent-key HEX] [--fast]  |  --new-key")
	data := fs.String("data", "", "data folder of the node")
	bind := fs.String("bind", "", "memberlist address of this node, e.g. 0.0.0.0:7946")
	advertise := fs.String("advertise", "", "address other nodes reach this one at, if not --bind")
	parent := fs.String("parent", "", "memberlist address of the parent node (host:port)")
	keys := fs.String("keys", "", "cluster keyring: base64 keys separated by commas; the first encrypts")
	parentKey := fs.String("parent-key", "", "the parent's node key (hex), to pin it instead of trusting the first contact")
	fast := fs.Bool("fast", false, "short gossip intervals (several nodes on one machine)")
	sealedUp := fs.String("sealed-up", "", `sensitive parts to the parent: keep or strip ("" default: a village keeps them, a town strips them)`)
	newKey := fs.Bool("new-key", false, "print a new random cluster key and exit")
	showKey := fs.Bool("show-key", false, "print only this node's key (hex)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *newKey {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return err
		}
		fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(k))
		return nil
	}
	if *data == "" {
		fs.Usage()
		return usageError{"replication: --data is required"}
	}
	key, err := appliance.ReadNodeKey(filepath.Join(*data, bolt.KeyFile))
	if err != nil {
		return err
	}
	var feed appliance.FeedID
	copy(feed[:], key.Public().(ed25519.PublicKey))
	if *showKey {
		fmt.Fprintln(stdout, feed)
		return nil
	}
	path := filepath.Join(*data, appliance.ConfigFile)
	cfg, err := appliance.LoadConfig(path)
	if err != nil {
		return err
	}
	// keysSet: a serving node takes them at once; restart: the others.
	var keysSet, restart bool
	fs.Visit(func(f *flag.Flag) {
		restart = restart || (f.Name != "keys" && f.Name != "data")
		switch f.Name {
		case "bind":
			cfg.Replicate.Bind = *bind
		case "advertise":
			cfg.Replicate.Advertise = *advertise
		case "parent":
			cfg.Node.Parent = *parent
		case "keys":
			cfg.Replicate.Keys, keysSet = strings.Split(*keys, ","), true
		case "parent-key":
			cfg.Replicate.ParentKey = strings.ToLower(*parentKey)
		case "fast":
			cfg.Replicate.Fast = *fast
		case "sealed-up":
			cfg.Replicate.SealedUp = *sealedUp
		}
	})
	if keysSet || restart {
		if _, err := replicate.ParseKeys(cfg.Replicate.Keys); err != nil {
			return err
		}
		if cfg.Replicate.ParentKey != "" {
			if _, err := appliance.ParseFeedID(cfg.Replicate.ParentKey); err != nil {
				return fmt.Errorf("--parent-key: %w", err)
			}
		}
		if s := cfg.Replicate.SealedUp; s != "" && s != "keep" && s != "strip" {
			return usageError{"replication: --sealed-up must be keep, strip or empty"}
		}
		if err := appliance.ReplaceConfig(path, cfg); err != nil {
			return err
		}
		if keysSet {
			// A serving node takes a new keyring at once: rotating the
			// cluster key is three steps on every node (docs/replication.md).
			if err := postAdmin(*data, "/keys", cfg.Replicate.Keys); err == nil {
				fmt.Fprintln(stdout, "cluster keys saved and in use by the running node")
			} else if isNotServing(err) {
				fmt.Fprintln(stdout, "cluster keys saved; the node uses them when it starts")
			} else {
				return fmt.Errorf("cluster keys saved, but the running node refused them: %v", err)
			}
		}
		if restart {
			fmt.Fprintln(stdout, "replication settings saved; restart the node to apply them")
		}
	}
	fmt.Fprintf(stdout, "node key:    %s\nfingerprint: %s\n", feed, feed.Fingerprint())
	ring, _ := replicate.ParseKeys(cfg.Replicate.Keys)
	fmt.Fprintf(stdout, "role %s, code %s, parent %q, bind %q, cluster keys (fingerprints, the first encrypts): %s\n",
		cfg.Node.Role, cfg.Node.Code, cfg.Node.Parent, cfg.Replicate.Bind, strings.Join(replicate.KeyFingerprints(ring), " "))
	return nil
}

// isNotServing tells that no process listens on the admin socket.
func isNotServing(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNREFUSED)
}

func init() {
	adminHandlers["/keys"] = func(m *Main) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var in []string
			if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			keys, err := replicate.ParseKeys(in)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			if m.Replicator == nil {
				http.Error(w, "replication is off on this node (replicate.bind is empty); the keys apply when it starts", http.StatusConflict)
				return
			}
			if err := m.Replicator.SetKeys(keys); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
}
