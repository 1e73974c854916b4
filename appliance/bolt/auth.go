package bolt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"

	"gridbox/appliance"
)

// Argon2Params are the password hashing costs. The defaults (t=2, 32 MiB,
// p=2) take ~120 ms on a box, as t=1 with 64 MiB did, with half the
// memory: at most two hashes run at once, so a burst of logins holds at
// most 64 MiB (ten logins at once took the box from 40 to 370 MiB before).
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is used unless the store is told otherwise.
var DefaultArgon2 = Argon2Params{Time: 2, Memory: 32 * 1024, Threads: 2}

var hashSlots = make(chan struct{}, 2)

type credential struct {
	Hash       string `json:"hash"` // $argon2id$v=19$m=..,t=..,p=..$salt$key
	MustChange bool   `json:"must_change,omitempty"`
	Changed    int64  `json:"changed"`
}

func hashPassword(p Argon2Params, pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	hashSlots <- struct{}{}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	<-hashSlots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func checkPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	hashSlots <- struct{}{}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	<-hashSlots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// SetArgon2 changes the hashing cost for new hashes (tests use a cheap one).
func (s *Store) SetArgon2(p Argon2Params) { s.argon = p }

func (s *Store) argonParams() Argon2Params {
	if s.argon.Time == 0 {
		return DefaultArgon2
	}
	return s.argon
}

// RandomPassword returns a one-time password that is easy to read out:
// letters and digits without look-alikes.
func RandomPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	b := make([]byte, 12)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	// Guarantee a digit so that ValidatePassword accepts it.
	b[11] = "23456789"[int(b[11])%8]
	return string(b)
}

// CreateUser adds an account with an initial password; mustChange makes the
// user choose a new one at first login.
func (s *Store) CreateUser(ctx context.Context, author string, u appliance.User, password string, mustChange bool) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if err := appliance.ValidatePassword(password); err != nil {
		return err
	}
	hash := hashPassword(s.argonParams(), password) // slow: outside the transaction
	feed := s.Feed().String()
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if tx.Bucket(bucketUsers).Get([]byte(feed+"/"+u.ID)) != nil {
			return nil, appliance.FieldError("id", "账号编号已存在")
		}
		if tx.Bucket(bucketUsernames).Get([]byte(feed+"/"+u.Username)) != nil {
			return nil, appliance.FieldError("username", "用户名 %s 已被使用", u.Username)
		}
		cred := credential{Hash: hash, MustChange: mustChange, Changed: time.Now().Unix()}
		if err := tx.PutJSON(string(bucketCredentials), u.ID, cred); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindUserSet, Version: 1, Body: u}}, nil
	})
	return err
}

// UpdateUser changes an account's name, role, grid or disabled flag.
func (s *Store) UpdateUser(ctx context.Context, author string, u appliance.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	feed := s.Feed().String()
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var old appliance.User
		if ok, err := tx.LWWJSON(bucketUsers, feed+"/"+u.ID, &old); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "账号不存在")
		}
		if id := tx.Bucket(bucketUsernames).Get([]byte(feed + "/" + u.Username)); id != nil && string(id) != u.ID {
			return nil, appliance.FieldError("username", "用户名 %s 已被使用", u.Username)
		}
		if u.Disabled {
			if err := tx.deleteSessionsOf(u.ID, ""); err != nil {
				return nil, err
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindUserSet, Version: 1, Body: u}}, nil
	})
	return err
}

// User returns an account of this node.
func (s *Store) User(id string) (appliance.User, error) {
	var u appliance.User
	err := s.Read(func(tx *Tx) error {
		var err error
		u, err = tx.User(id)
		return err
	})
	return u, err
}

// User reads an account of this node inside a transaction.
func (tx *Tx) User(id string) (appliance.User, error) {
	var u appliance.User
	ok, err := tx.LWWJSON(bucketUsers, tx.store.Feed().String()+"/"+id, &u)
	if err == nil && !ok {
		err = appliance.Errorf(appliance.ENOTFOUND, "账号不存在")
	}
	return u, err
}

// AuthorName returns the display name of the author of an entry of feed.
func (tx *Tx) AuthorName(feed appliance.FeedID, id string) string {
	if id == "" {
		return "系统"
	}
	var u appliance.User
	if ok, _ := tx.LWWJSON(bucketUsers, feed.String()+"/"+id, &u); ok {
		return u.Name
	}
	// A downward or upward feed is written by the users of the node that
	// owns it (a town's steps on its villages' cases).
	if e, err := tx.Entry(feed, 1); err == nil && (e.Kind == appliance.KindNodeDown || e.Kind == appliance.KindNodeUp) {
		var d appliance.DownFeed
		if e.DecodeBody(&d) == nil {
			if owner, err := appliance.ParseFeedID(d.Parent); err == nil && owner != feed {
				if ok, _ := tx.LWWJSON(bucketUsers, owner.String()+"/"+id, &u); ok {
					return u.Name
				}
			}
		}
	}
	return id
}

// Users returns the accounts of this node sorted by username.
func (s *Store) Users() ([]appliance.User, error) {
	var out []appliance.User
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketUsers, s.Feed().String()+"/", func(_ string, v []byte) error {
			var u appliance.User
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, err
}

// MustChangePassword reports whether the user still has a one-time password.
func (s *Store) MustChangePassword(userID string) (bool, error) {
	var cred credential
	err := s.Read(func(tx *Tx) error {
		_, err := tx.GetJSON(string(bucketCredentials), userID, &cred)
		return err
	})
	return cred.MustChange, err
}

// sessionTouchEvery is how stale LastSeen may get before it is rewritten.
const sessionTouchEvery = 10 * time.Second

// ErrNoSession is returned for an unknown or expired session.
var ErrNoSession = errors.New("no session")

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateSession starts a session for the user. Only a hash of the token is
// stored, so a copy of the file does not hand out live sessions.
func (s *Store) CreateSession(userID string, kiosk bool) (appliance.Session, error) {
	now := time.Now().Unix()
	sess := appliance.Session{Token: randomToken(), UserID: userID, Kiosk: kiosk, Created: now, LastSeen: now, CSRF: randomToken()}
	err := s.Update(func(tx *Tx) error {
		stored := sess
		stored.Token = ""
		return tx.PutJSON(string(bucketSessions), sessionKey(sess.Token), stored)
	})
	return sess, err
}

// Session returns the live session for token, extending it; sessions idle
// longer than idle (kioskIdle for kiosk sessions) end.
func (s *Store) Session(token string, idle, kioskIdle time.Duration) (appliance.Session, error) {
	var sess appliance.Session
	if token == "" {
		return sess, ErrNoSession
	}
	key := sessionKey(token)
	now := time.Now()
	var ok bool
	err := s.Read(func(tx *Tx) error {
		var err error
		ok, err = tx.GetJSON(string(bucketSessions), key, &sess)
		return err
	})
	if err != nil {
		return sess, err
	} else if !ok {
		return sess, ErrNoSession
	}
	limit := idle
	if sess.Kiosk {
		limit = kioskIdle
	}
	switch age := now.Sub(time.Unix(sess.LastSeen, 0)); {
	case age > limit:
		s.DeleteSession(token)
		return sess, ErrNoSession
	case age > sessionTouchEvery:
		// Writing on every request would cost an fsync per page view.
		sess.LastSeen = now.Unix()
		err = s.Update(func(tx *Tx) error { return tx.PutJSON(string(bucketSessions), key, sess) })
	}
	sess.Token = token
	return sess, err
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(token string) error {
	return s.Update(func(tx *Tx) error { return tx.Bucket(string(bucketSessions)).Delete([]byte(sessionKey(token))) })
}

// deleteSessionsOf ends every session of the user but the one stored under keep.
func (tx *Tx) deleteSessionsOf(userID, keep string) error {
	b := tx.Bucket(string(bucketSessions))
	var dead [][]byte
	b.ForEach(func(k, v []byte) error {
		var sess appliance.Session
		if json.Unmarshal(v, &sess) == nil && sess.UserID == userID && string(k) != keep {
			dead = append(dead, append([]byte(nil), k...))
		}
		return nil
	})
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
