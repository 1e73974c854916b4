package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// gridbox passwd and gridbox unlock are the way back in for whoever sits at
// the box, the admin included, when no one can log in: they need the data
// folder, which only root on the box can reach. Like enrol, they open the
// file directly, or go through the serving node's admin socket.

type accountRequest struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"` // passwd: the new one-time password
}

func runPasswd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("passwd", "--data DIR --user USERNAME")
	data := fs.String("data", "", "data folder of the node")
	user := fs.String("user", "", "username whose password to reset (e.g. admin)")
	if err := parse(fs, args, "data", "user"); err != nil {
		return err
	}
	req := accountRequest{Username: *user, Password: bolt.RandomPassword()}
	if err := onNodeOrSocket(*data, "/passwd", req, func(s *bolt.Store) error { return resetPassword(s, req) }); err != nil {
		return fmt.Errorf("passwd: %w", err)
	}
	fmt.Fprintf(stdout, "account %s: one-time password %s  (shown once; it must be changed at the next login)\n", req.Username, req.Password)
	fmt.Fprintln(stdout, "every session and API token of the account has ended; its lock is lifted")
	return nil
}

func runUnlock(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("unlock", "--data DIR [--user USERNAME]")
	data := fs.String("data", "", "data folder of the node")
	user := fs.String("user", "", "username to unlock; without it every account, address and device lock is lifted")
	if err := parse(fs, args, "data"); err != nil {
		return err
	}
	req := accountRequest{Username: *user}
	if err := onNodeOrSocket(*data, "/unlock", req, func(s *bolt.Store) error { return unlock(s, req) }); err != nil {
		return fmt.Errorf("unlock: %w", err)
	}
	if *user == "" {
		fmt.Fprintln(stdout, "every login lock lifted")
	} else {
		fmt.Fprintf(stdout, "account %s unlocked\n", *user)
	}
	return nil
}

func resetPassword(s *bolt.Store, req accountRequest) error {
	u, err := s.UserByUsername(req.Username)
	if err != nil {
		return err
	}
	return s.SetPassword(u.ID, req.Password, true, "")
}

func unlock(s *bolt.Store, req accountRequest) error {
	if req.Username != "" {
		if _, err := s.UserByUsername(req.Username); err != nil {
			return err
		}
	}
	return s.UnlockLogin(req.Username)
}

// onNodeOrSocket runs fn on the node's store: opened directly when no
// process serves it, else through the admin socket at path.
func onNodeOrSocket(data, path string, req any, fn func(*bolt.Store) error) error {
	s, _, err := bolt.OpenDataDir(data, nil)
	if err == nil {
		defer s.Close()
		if err := fn(s); err != nil {
			return fmt.Errorf("%s", appliance.ErrorMessage(err))
		}
		return nil
	}
	if serr := postAdmin(data, path, req); serr != nil {
		return fmt.Errorf("%v (opening the data file directly: %v)", serr, err)
	}
	return nil
}

func init() {
	for path, fn := range map[string]func(*bolt.Store, accountRequest) error{"/passwd": resetPassword, "/unlock": unlock} {
		adminHandlers[path] = func(m *Main) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				var req accountRequest
				if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
					http.Error(w, "bad request", http.StatusBadRequest)
					return
				}
				if err := fn(m.Store, req); err != nil {
					http.Error(w, appliance.ErrorMessage(err), http.StatusBadRequest)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}
		}
	}
}
