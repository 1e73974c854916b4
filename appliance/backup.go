package appliance

import "time"

// BackupState is what the node knows of its nightly backups: kept in the
// node's local state, shown on the system page.
type BackupState struct {
	LastOK      time.Time `json:"last_ok,omitempty"`      // when the last good backup was written and checked
	LastFile    string    `json:"last_file,omitempty"`    // its path
	LastBytes   int64     `json:"last_bytes,omitempty"`   // its size
	LastAttempt time.Time `json:"last_attempt,omitempty"` // the last try, good or not
	LastError   string    `json:"last_error,omitempty"`   // why the last try failed; "" when it succeeded
	Kept        []string  `json:"kept,omitempty"`         // the copies in the folder after the last pruning
}

// BackupStateKey is where BackupState is kept in the local state.
const BackupStateKey = "backup/state"

// BackupStale is how old the last good backup may be before staff are warned.
const BackupStale = 48 * time.Hour

// Stale reports whether staff must be warned: backups are configured and
// none good was made in BackupStale.
func (b BackupState) Stale(now time.Time) bool {
	return b.LastOK.IsZero() || now.Sub(b.LastOK) > BackupStale
}
