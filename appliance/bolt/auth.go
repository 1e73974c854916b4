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

// Argon2Params are the password hashing costs. The defaults (t=1, 64 MiB,
// p=2) take ~120 ms on a box; at most two hashes run at once so that a burst
// of logins cannot exhaust a 1 GB box.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 is used unless the store is told otherwise.
var DefaultArgon2 = Argon2Params{Time: 1, Memory: 64 * 1024, Threads: 2}

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
			if err := tx.deleteSessionsOf(u.ID); err != nil {
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

// ErrLocked is returned while an account is locked after failed logins.
var ErrLocked = appliance.Errorf(appliance.ELOCKED, "登录失败次数过多，账号已暂时锁定，请稍后再试或联系管理员")

var errBadLogin = appliance.Errorf(appliance.EUNAUTHORIZED, "用户名或密码错误")

type loginState struct {
	Fails       int   `json:"fails"`
	LockedUntil int64 `json:"locked_until,omitempty"`
}

// LoginPolicy is how failed logins are slowed down and locked.
type LoginPolicy struct {
	LockAfter int
	LockFor   time.Duration
	Delay     time.Duration // first delay after a failure; doubles each time
}

// Authenticate checks a username and password. Failures are slowed down
// (a growing delay) and lock the username after policy.LockAfter in a row.
// It returns the user and whether a new password must be chosen.
func (s *Store) Authenticate(ctx context.Context, username, password string, policy LoginPolicy) (appliance.User, bool, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := time.Now()
	var st loginState
	var u appliance.User
	var cred credential
	var known bool
	err := s.Read(func(tx *Tx) error {
		if _, err := tx.GetJSON(string(bucketLogins), username, &st); err != nil {
			return err
		}
		id := tx.Bucket(bucketUsernames).Get([]byte(s.Feed().String() + "/" + username))
		if id == nil {
			return nil
		}
		var err error
		if u, err = tx.User(string(id)); err != nil {
			return err
		}
		known, err = tx.GetJSON(string(bucketCredentials), u.ID, &cred)
		return err
	})
	if err != nil {
		return u, false, err
	}
	if st.LockedUntil > now.Unix() {
		return appliance.User{}, false, ErrLocked
	}
	ok := known && !u.Disabled && checkPassword(cred.Hash, password)
	if !known {
		// Spend the same time as a real check so usernames cannot be probed.
		checkPassword(dummyHash, password)
	}
	err = s.Update(func(tx *Tx) error {
		var cur loginState
		if _, err := tx.GetJSON(string(bucketLogins), username, &cur); err != nil {
			return err
		}
		if cur.LockedUntil > now.Unix() {
			// Locked by a failure that raced this attempt: the lock wins,
			// even over the right password.
			st, ok = cur, false
			return nil
		}
		if ok {
			return tx.Bucket(string(bucketLogins)).Delete([]byte(username))
		}
		cur.Fails++
		if policy.LockAfter > 0 && cur.Fails >= policy.LockAfter {
			cur.LockedUntil = now.Add(policy.LockFor).Unix()
			cur.Fails = 0
		}
		st = cur
		return tx.PutJSON(string(bucketLogins), username, cur)
	})
	if err != nil {
		return appliance.User{}, false, err
	}
	if !ok {
		if st.LockedUntil > now.Unix() {
			return appliance.User{}, false, ErrLocked
		}
		if d := policy.Delay << min(st.Fails-1, 4); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		return appliance.User{}, false, errBadLogin
	}
	return u, cred.MustChange, nil
}

var dummyHash = hashPassword(Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}, "dummy-password-1")

// UnlockLogin clears the failed-login state of a username (admin action).
func (s *Store) UnlockLogin(username string) error {
	return s.Update(func(tx *Tx) error { return tx.Bucket(string(bucketLogins)).Delete([]byte(username)) })
}

// SetPassword sets a user's password; mustChange forces a change at next login.
func (s *Store) SetPassword(userID, password string, mustChange bool) error {
	if err := appliance.ValidatePassword(password); err != nil {
		return err
	}
	hash := hashPassword(s.argonParams(), password)
	return s.Update(func(tx *Tx) error {
		if _, err := tx.User(userID); err != nil {
			return err
		}
		return tx.PutJSON(string(bucketCredentials), userID, credential{Hash: hash, MustChange: mustChange, Changed: time.Now().Unix()})
	})
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

func (tx *Tx) deleteSessionsOf(userID string) error {
	b := tx.Bucket(string(bucketSessions))
	var dead [][]byte
	b.ForEach(func(k, v []byte) error {
		var sess appliance.Session
		if json.Unmarshal(v, &sess) == nil && sess.UserID == userID {
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

// CreateAPIToken makes a new API token for scripts acting as the user; only
// its hash is kept. It replaces the user's previous token.
func (s *Store) CreateAPIToken(userID string) (string, error) {
	token := "gbt_" + randomToken()
	err := s.Update(func(tx *Tx) error {
		if _, err := tx.User(userID); err != nil {
			return err
		}
		b := tx.Bucket(string(bucketLocal))
		prefix := []byte("apitoken/")
		c := b.Cursor()
		var dead [][]byte
		for k, v := c.Seek(prefix); k != nil && strings.HasPrefix(string(k), string(prefix)); k, v = c.Next() {
			if string(v) == userID {
				dead = append(dead, append([]byte(nil), k...))
			}
		}
		for _, k := range dead {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put([]byte("apitoken/"+sessionKey(token)), []byte(userID))
	})
	return token, err
}

// APITokenUser returns the user an API token belongs to.
func (s *Store) APITokenUser(token string) (appliance.User, error) {
	var u appliance.User
	err := s.Read(func(tx *Tx) error {
		id := tx.Bucket(string(bucketLocal)).Get([]byte("apitoken/" + sessionKey(token)))
		if id == nil {
			return appliance.Errorf(appliance.EUNAUTHORIZED, "API 令牌无效")
		}
		var err error
		u, err = tx.User(string(id))
		return err
	})
	if err == nil && u.Disabled {
		err = appliance.Errorf(appliance.EUNAUTHORIZED, "账号已停用")
	}
	return u, err
}
