package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// runEnrol admits a child node on the parent. When the parent is serving,
// the request goes through its admin socket (the serving process holds the
// database); otherwise the file is opened directly.
func runEnrol(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("enrol", "--data DIR --key HEX --code CODE [--name NAME] [--revoke]")
	data := fs.String("data", "", "data folder of the parent node")
	key := fs.String("key", "", "the child's node key (hex; `gridbox replication --data DIR` shows it on the child)")
	code := fs.String("code", "", "the child's division code")
	name := fs.String("name", "", "the child's name")
	revoke := fs.Bool("revoke", false, "turn the child away from now on")
	if err := parse(fs, args, "data", "key", "code"); err != nil {
		return err
	}
	cfg, err := appliance.LoadConfig(filepath.Join(*data, appliance.ConfigFile))
	if err != nil {
		return err
	}
	en := appliance.Enrolment{Key: strings.ToLower(strings.TrimSpace(*key)), Code: *code, Name: *name, Role: childRoleOf(cfg.Node.Role), Revoked: *revoke}
	if err := en.Validate(); err != nil {
		return usageError{fmt.Sprintf("enrol: --%s: %s", appliance.ErrorField(err), appliance.ErrorMessage(err))}
	}
	if s, _, err := bolt.OpenDataDir(*data, nil); err == nil {
		err = s.Enrol(ctx, "", en)
		s.Close()
		if err != nil {
			return fmt.Errorf("enrol: %s", appliance.ErrorMessage(err))
		}
	} else if serr := postAdmin(*data, "/enrol", en); serr != nil {
		// The node is serving (or the file is unusable): the socket answers.
		return fmt.Errorf("enrol: %v (opening the data file directly: %v)", serr, err)
	}
	f, _ := appliance.ParseFeedID(*key)
	verb := "enrolled"
	if *revoke {
		verb = "revoked"
	}
	fmt.Fprintf(stdout, "%s %s %s %s\nfingerprint %s — compare it with the one the child shows\n", verb, en.Role, en.Code, en.Name, f.Fingerprint())
	return nil
}

func childRoleOf(role string) string {
	if role == appliance.NodeCity {
		return appliance.NodeTown
	}
	return appliance.NodeVillage
}

func init() {
	adminHandlers["/enrol"] = func(m *Main) http.HandlerFunc {
		s := m.Store
		return func(w http.ResponseWriter, r *http.Request) {
			var en appliance.Enrolment
			if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&en); err != nil {
				http.Error(w, "bad request", http.StatusBadRequest)
				return
			}
			if err := s.Enrol(r.Context(), "", en); err != nil {
				http.Error(w, appliance.ErrorMessage(err), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
}
