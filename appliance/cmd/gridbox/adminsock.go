package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"gridbox/appliance/bolt"

	bbolt "go.etcd.io/bbolt"
)

type boltTx = bbolt.Tx

// The serving process holds bbolt's lock on the file, so maintenance
// commands that must run while it serves (backup) reach it through a unix
// socket in the data folder; the folder's permissions are its access control.
const adminSocket = "gridbox.sock"

// serveAdminSocket answers maintenance requests from local commands.
func serveAdminSocket(ctx context.Context, m *Main) (func(), error) {
	s := m.Store
	path := filepath.Join(m.Data, adminSocket)
	os.Remove(path) // left by a killed process
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("admin socket: %w", err)
	}
	os.Chmod(path, 0o600)
	mux := http.NewServeMux()
	mux.HandleFunc("/backup", func(w http.ResponseWriter, r *http.Request) {
		err := s.DB().View(func(tx *boltTx) error {
			w.Header().Set("Content-Length", strconv.FormatInt(tx.Size(), 10))
			_, err := tx.WriteTo(w)
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "gridbox: backup over admin socket:", err)
		}
	})
	for path, h := range adminHandlers {
		mux.HandleFunc(path, h(m))
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close(); os.Remove(path) }, nil
}

// adminHandlers are further admin socket requests, added by commands' files.
var adminHandlers = map[string]func(*Main) http.HandlerFunc{}

// postAdmin sends a JSON request to the serving node's admin socket; a
// refusal comes back as the error's text.
func postAdmin(data, path string, req any) error {
	sock := filepath.Join(data, adminSocket)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	body, _ := json.Marshal(req)
	resp, err := c.Post("http://gridbox"+path, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return errors.New(string(bytes.TrimSpace(msg)))
	}
	return nil
}

// backupSource is where a backup's database copy comes from: the serving
// process, or the file itself when no process serves it.
type backupSource struct {
	store  *bolt.Store
	client *http.Client
}

func openForBackup(data string) (*backupSource, error) {
	path := filepath.Join(data, adminSocket)
	if conn, err := net.DialTimeout("unix", path, time.Second); err == nil {
		conn.Close()
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
		return &backupSource{client: c}, nil
	}
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		return nil, err
	}
	return &backupSource{store: s}, nil
}

func (b *backupSource) writeDB(tw *tar.Writer) (int64, error) {
	if b.store != nil {
		var n int64
		err := b.store.DB().View(func(tx *boltTx) error {
			if err := tw.WriteHeader(&tar.Header{Name: bolt.DBFile, Mode: 0o600, Size: tx.Size(), ModTime: time.Now()}); err != nil {
				return err
			}
			var err error
			n, err = tx.WriteTo(tw)
			return err
		})
		return n, err
	}
	resp, err := b.client.Get("http://gridbox/backup")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength < 0 {
		return 0, errors.New("the serving node refused the backup")
	}
	if err := tw.WriteHeader(&tar.Header{Name: bolt.DBFile, Mode: 0o600, Size: resp.ContentLength, ModTime: time.Now()}); err != nil {
		return 0, err
	}
	return io.Copy(tw, resp.Body)
}

func (b *backupSource) close() {
	if b.store != nil {
		b.store.Close()
	}
}
