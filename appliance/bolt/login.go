package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gridbox/appliance"
)

// Logins are slowed down and locked per account and per client address,
// and a lock never locks out the owner: the right password still opens a
// locked account from a browser that has logged into it before (a known
// device) or from the kiosk screen in the duty room. Before, five requests
// every 15 minutes kept the admin out for good.
//
// Every attempt is reserved, in one transaction with the check of the
// locks, before its password is hashed: it is counted as pending on the
// account and as a failure on the address (a success takes that back).
// No more attempts than LockAfter are checked or pending at once, so
// parallel guesses get no more tries than serial ones; the account locks
// on completed failures only, so colleagues logging into one account at
// the same moment wait their turn instead of locking it (they were counted
// as failures before, and the sixth was locked out).

// ErrLocked is returned while an account or address is locked after failed logins.
var ErrLocked = appliance.Errorf(appliance.ELOCKED, "登录失败次数过多，已暂时锁定，请稍后再试；在常用的电脑或值班室的触摸屏上用正确的密码可以直接登录，也可以请管理员解锁")

var errBadLogin = appliance.Errorf(appliance.EUNAUTHORIZED, "用户名或密码错误")

// errLoginBusy: attempts at the account were in flight for the whole wait.
var errLoginBusy = appliance.Errorf(appliance.ETOOMANY, "该账号正有多人同时登录，请稍后再试")

// loginState is the failed-login record of an account, an address or a device.
type loginState struct {
	Fails       int   `json:"fails"`
	LockedUntil int64 `json:"locked_until,omitempty"`
	Pending     int   `json:"pending,omitempty"`    // attempts being checked now
	PendingAt   int64 `json:"pending_at,omitempty"` // the latest reservation, unix ms
}

// pendingFor bounds how long a reservation counts: a process killed while
// hashing leaves its pending attempt behind.
const pendingFor = time.Minute

// busy reports whether another attempt may not be checked now: the
// completed failures and the attempts in flight make LockAfter.
func (st loginState) busy(now time.Time, lockAfter int) bool {
	pending := st.Pending
	if now.Sub(time.UnixMilli(st.PendingAt)) > pendingFor {
		pending = 0
	}
	return lockAfter > 0 && st.Fails+pending >= lockAfter
}

func (st loginState) locked(now time.Time) bool { return st.LockedUntil > now.Unix() }

// knownDevice is a browser that has logged in: which accounts, and its own failures.
type knownDevice struct {
	Users       []string `json:"users"`
	Fails       int      `json:"fails,omitempty"`
	LockedUntil int64    `json:"locked_until,omitempty"`
	Seen        int64    `json:"seen"`
}

// LoginPolicy is how failed logins are slowed down and locked.
type LoginPolicy struct {
	LockAfter     int           // failures in a row before the account locks
	LockAfterAddr int           // failures from one address before it locks (0: 4×LockAfter)
	LockFor       time.Duration // how long a lock lasts
	Delay         time.Duration // first delay after a failure; doubles each time
}

// LoginAttempt is one login: the account, the password and where it comes from.
type LoginAttempt struct {
	Username string
	Password string
	Addr     string // client address
	Device   string // the browser's device token, if it has one
	Screen   bool   // from the kiosk screen in the duty room
}

// Login keys in bucketLogins.
func loginUserKey(username string) string { return "user/" + username }
func loginAddrKey(addr string) string     { return "addr/" + addr }
func deviceKey(token string) string       { return "device/" + sessionKey(token) }

// Authenticate checks a login. It returns the user and whether a new
// password must be chosen; on failure ErrLocked or "wrong username or
// password", after a delay that grows with the account's failures.
func (s *Store) Authenticate(ctx context.Context, a LoginAttempt, policy LoginPolicy) (appliance.User, bool, error) {
	username := strings.ToLower(strings.TrimSpace(a.Username))
	now := time.Now()
	lockAddrAfter := policy.LockAfterAddr
	if lockAddrAfter <= 0 {
		lockAddrAfter = 4 * policy.LockAfter
	}
	var (
		u       appliance.User
		cred    credential
		known   bool
		user    loginState
		refused bool
	)
	// Reserve: check the locks, count this attempt as pending on the
	// account and as a failure on the address. While as many attempts as
	// LockAfter are failed or in flight, wait for the ones in flight.
	busy := false
	reserve := func(tx *Tx) error {
		busy, user = false, loginState{}
		var addr loginState
		var dev knownDevice
		if _, err := tx.GetJSON(string(bucketLogins), loginUserKey(username), &user); err != nil {
			return err
		}
		if _, err := tx.GetJSON(string(bucketLogins), loginAddrKey(a.Addr), &addr); err != nil {
			return err
		}
		hasDev := false
		if a.Device != "" {
			var err error
			if hasDev, err = tx.GetJSON(string(bucketLogins), deviceKey(a.Device), &dev); err != nil {
				return err
			}
		}
		if id := tx.Bucket(bucketUsernames).Get([]byte(s.Feed().String() + "/" + username)); id != nil {
			var err error
			if u, err = tx.User(string(id)); err != nil {
				return err
			}
			if known, err = tx.GetJSON(string(bucketCredentials), u.ID, &cred); err != nil {
				return err
			}
		}
		trusted := a.Screen || hasDev && known && contains(dev.Users, u.ID) && !(loginState{LockedUntil: dev.LockedUntil}).locked(now)
		if addr.locked(now) || user.locked(now) && !trusted {
			refused = true
			return nil
		}
		if !user.locked(now) && user.busy(now, policy.LockAfter) {
			busy = true
			return nil
		}
		if now.Sub(time.UnixMilli(user.PendingAt)) > pendingFor {
			user.Pending = 0
		}
		user.Pending++
		user.PendingAt = now.UnixMilli()
		addr.Fails++
		if lockAddrAfter > 0 && addr.Fails >= lockAddrAfter {
			addr.LockedUntil, addr.Fails = now.Add(policy.LockFor).Unix(), 0
		}
		if err := tx.PutJSON(string(bucketLogins), loginUserKey(username), user); err != nil {
			return err
		}
		if err := tx.PutJSON(string(bucketLogins), loginAddrKey(a.Addr), addr); err != nil {
			return err
		}
		if hasDev {
			dev.Fails++
			if policy.LockAfter > 0 && dev.Fails >= policy.LockAfter {
				dev.LockedUntil, dev.Fails = now.Add(policy.LockFor).Unix(), 0
			}
			return tx.PutJSON(string(bucketLogins), deviceKey(a.Device), dev)
		}
		return nil
	}
	err := s.Update(reserve)
	// A check takes a fraction of a second: wait for the ones in flight
	// (bounded), then say so.
	for tries := 0; err == nil && busy && tries < 200; tries++ { // 10 s
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return appliance.User{}, false, ctx.Err()
		}
		now = time.Now()
		err = s.Update(reserve)
	}
	if err != nil {
		return appliance.User{}, false, err
	}
	if refused {
		return appliance.User{}, false, ErrLocked
	}
	if busy {
		return appliance.User{}, false, errLoginBusy
	}
	// The hash costs the same for an unknown username as for a real one.
	hash := s.dummyHash()
	if known {
		hash = cred.Hash
	}
	ok := checkPassword(hash, a.Password) && known && !u.Disabled
	if !ok {
		// The failure completes: pending no more, counted, maybe locking.
		err := s.Update(func(tx *Tx) error {
			user = loginState{}
			if _, err := tx.GetJSON(string(bucketLogins), loginUserKey(username), &user); err != nil {
				return err
			}
			user.Pending = max(user.Pending-1, 0)
			user.Fails++
			if policy.LockAfter > 0 && user.Fails >= policy.LockAfter && !user.locked(now) {
				user.LockedUntil, user.Fails = now.Add(policy.LockFor).Unix(), 0
			}
			return tx.PutJSON(string(bucketLogins), loginUserKey(username), user)
		})
		if err != nil {
			return appliance.User{}, false, err
		}
		if user.locked(now) {
			return appliance.User{}, false, ErrLocked // this failure locked it
		}
		if d := policy.Delay << min(max(user.Fails-1, 0), 4); d > 0 && !user.locked(now) {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		return appliance.User{}, false, errBadLogin
	}
	// A hash made with other costs (an older default) is made again with
	// today's, now that the password is at hand.
	var rehash string
	if _, real := s.DummyHashCost(); hashCost(cred.Hash) != real {
		rehash = hashPassword(s.argonParams(), a.Password)
	}
	// Success: the account and the device start afresh; the address gets
	// back the attempt it was charged.
	err = s.Update(func(tx *Tx) error {
		if rehash != "" {
			cur := cred
			cur.Hash = rehash
			if err := tx.PutJSON(string(bucketCredentials), u.ID, cur); err != nil {
				return err
			}
		}
		// The account starts afresh; attempts still in flight stay pending.
		var st loginState
		if _, err := tx.GetJSON(string(bucketLogins), loginUserKey(username), &st); err != nil {
			return err
		}
		if st = (loginState{Pending: max(st.Pending-1, 0), PendingAt: st.PendingAt}); st.Pending == 0 {
			if err := tx.Bucket(string(bucketLogins)).Delete([]byte(loginUserKey(username))); err != nil {
				return err
			}
		} else if err := tx.PutJSON(string(bucketLogins), loginUserKey(username), st); err != nil {
			return err
		}
		var addr loginState
		if ok, err := tx.GetJSON(string(bucketLogins), loginAddrKey(a.Addr), &addr); err != nil {
			return err
		} else if ok && addr.Fails > 0 {
			addr.Fails--
			if err := tx.PutJSON(string(bucketLogins), loginAddrKey(a.Addr), addr); err != nil {
				return err
			}
		}
		if a.Device == "" {
			return nil
		}
		var dev knownDevice
		if _, err := tx.GetJSON(string(bucketLogins), deviceKey(a.Device), &dev); err != nil {
			return err
		}
		if !contains(dev.Users, u.ID) {
			dev.Users = append(dev.Users, u.ID)
		}
		dev.Fails, dev.LockedUntil, dev.Seen = 0, 0, now.Unix()
		return tx.PutJSON(string(bucketLogins), deviceKey(a.Device), dev)
	})
	if err != nil {
		return appliance.User{}, false, err
	}
	return u, cred.MustChange, nil
}

// CheckPassword tells whether password is the user's, without counting or
// locking (for a logged-in user confirming a change); it costs a hash.
func (s *Store) CheckPassword(userID, password string) (bool, error) {
	var cred credential
	var ok bool
	err := s.Read(func(tx *Tx) error {
		var err error
		ok, err = tx.GetJSON(string(bucketCredentials), userID, &cred)
		return err
	})
	if err != nil || !ok {
		return false, err
	}
	return checkPassword(cred.Hash, password), nil
}

// dummyHash is a hash with the store's costs, checked for unknown
// usernames so that they answer as slowly as real ones (before, a cheaper
// hash let anyone tell which usernames exist).
func (s *Store) dummyHash() string {
	s.dummy.once.Do(func() { s.dummy.hash = hashPassword(s.argonParams(), "no such user "+randomToken()) })
	return s.dummy.hash
}

// DummyHashCost returns the cost parameters of the hash checked for unknown
// usernames and those a new hash gets.
func (s *Store) DummyHashCost() (dummy, real string) {
	p := s.argonParams()
	return hashCost(s.dummyHash()), fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

// hashCost is the cost part of an encoded hash ("m=…,t=…,p=…").
func hashCost(h string) string {
	if parts := strings.Split(h, "$"); len(parts) == 6 {
		return parts[3]
	}
	return ""
}

// LockedLogins returns the usernames whose logins are locked at now, for
// the accounts page to offer 解除锁定 only where it applies.
func (s *Store) LockedLogins(now time.Time) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.Read(func(tx *Tx) error {
		c := tx.Bucket(string(bucketLogins)).Cursor()
		p := []byte(loginUserKey(""))
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			var st loginState
			if json.Unmarshal(v, &st) == nil && st.locked(now) {
				out[string(k[len(p):])] = true
			}
		}
		return nil
	})
	return out, err
}

// UnlockLogin lifts the lock of one account (admin action, or `gridbox
// unlock --user`); "" lifts every lock, of accounts, addresses and devices.
func (s *Store) UnlockLogin(username string) error {
	return s.Update(func(tx *Tx) error {
		b := tx.Bucket(string(bucketLogins))
		if username != "" {
			return b.Delete([]byte(loginUserKey(strings.ToLower(strings.TrimSpace(username)))))
		}
		var keys [][]byte
		b.ForEach(func(k, v []byte) error {
			if !strings.HasPrefix(string(k), "device/") {
				keys = append(keys, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		// Devices keep their accounts; only their locks go.
		var devs []struct {
			k []byte
			d knownDevice
		}
		c := b.Cursor()
		for k, _ := c.Seek([]byte("device/")); k != nil && strings.HasPrefix(string(k), "device/"); k, _ = c.Next() {
			var d knownDevice
			if ok, _ := tx.GetJSON(string(bucketLogins), string(k), &d); ok && (d.Fails > 0 || d.LockedUntil > 0) {
				d.Fails, d.LockedUntil = 0, 0
				devs = append(devs, struct {
					k []byte
					d knownDevice
				}{append([]byte(nil), k...), d})
			}
		}
		for _, dv := range devs {
			if err := tx.PutJSON(string(bucketLogins), string(dv.k), dv.d); err != nil {
				return err
			}
		}
		return nil
	})
}

// NewDeviceToken returns a token for a browser's device cookie: a login
// from it becomes known to the account (LoginAttempt.Device).
func NewDeviceToken() string { return randomToken() }

// SetPassword sets a user's password; mustChange forces a change at next
// login. Every session of the user but keepSession (a session token, or
// "") ends and every API token is revoked: a new password shuts out
// whoever knew the old one.
func (s *Store) SetPassword(userID, password string, mustChange bool, keepSession string) error {
	if err := appliance.ValidatePassword(password); err != nil {
		return err
	}
	hash := hashPassword(s.argonParams(), password)
	keep := ""
	if keepSession != "" {
		keep = sessionKey(keepSession)
	}
	return s.Update(func(tx *Tx) error {
		u, err := tx.User(userID)
		if err != nil {
			return err
		}
		if err := tx.PutJSON(string(bucketCredentials), userID, credential{Hash: hash, MustChange: mustChange, Changed: time.Now().Unix()}); err != nil {
			return err
		}
		if err := tx.deleteSessionsOf(userID, keep); err != nil {
			return err
		}
		if err := tx.revokeTokensOf(userID, ""); err != nil {
			return err
		}
		return tx.Bucket(string(bucketLogins)).Delete([]byte(loginUserKey(u.Username)))
	})
}

// UserByUsername finds an account of this node by its username.
func (s *Store) UserByUsername(username string) (appliance.User, error) {
	var u appliance.User
	err := s.Read(func(tx *Tx) error {
		id := tx.Bucket(bucketUsernames).Get([]byte(s.Feed().String() + "/" + strings.ToLower(strings.TrimSpace(username))))
		if id == nil {
			return appliance.Errorf(appliance.ENOTFOUND, "没有用户名为 %s 的账号", username)
		}
		var err error
		u, err = tx.User(string(id))
		return err
	})
	return u, err
}
