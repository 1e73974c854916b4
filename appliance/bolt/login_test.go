package bolt_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func TestLoginLockout(t *testing.T) {
	ctx := context.Background()
	policy := bolt.LoginPolicy{LockAfter: 3, LockAfterAddr: 6, LockFor: time.Hour}
	attacker := bolt.LoginAttempt{Username: "zhangxj", Password: "wrong-pass-1", Addr: "192.168.1.66"}

	t.Run("OwnerNotLockedOut", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		device := bolt.NewDeviceToken()
		owner := bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "192.168.1.20", Device: device}
		if _, _, err := s.Authenticate(ctx, owner, policy); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			s.Authenticate(ctx, attacker, policy)
		}
		// Locked for the attacker and any unknown browser, right password or not…
		right := attacker
		right.Password = testPassword
		if _, _, err := s.Authenticate(ctx, right, policy); !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("right password from an unknown browser while locked: %v, want ErrLocked", err)
		}
		stranger := owner
		stranger.Device = bolt.NewDeviceToken()
		if _, _, err := s.Authenticate(ctx, stranger, policy); !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("right password from a new device while locked: %v, want ErrLocked", err)
		}
		// …but not for the owner's own browser, nor at the kiosk screen.
		if _, _, err := s.Authenticate(ctx, owner, policy); err != nil {
			t.Fatalf("owner's known browser while locked: %v", err)
		}
		for i := 0; i < 3; i++ {
			s.Authenticate(ctx, attacker, policy)
		}
		screen := bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "127.0.0.1", Screen: true}
		if _, _, err := s.Authenticate(ctx, screen, policy); err != nil {
			t.Fatalf("right password at the kiosk screen while locked: %v", err)
		}
		// A known browser is no key for a wrong password.
		for i := 0; i < 3; i++ {
			s.Authenticate(ctx, attacker, policy)
		}
		wrongOwner := owner
		wrongOwner.Password = "wrong-pass-2"
		for i := 0; i < 3; i++ {
			if _, _, err := s.Authenticate(ctx, wrongOwner, policy); err == nil {
				t.Fatal("wrong password accepted")
			}
		}
		// After three failures of its own the device is trusted no more.
		if _, _, err := s.Authenticate(ctx, owner, policy); !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("device after its own failures: %v, want ErrLocked", err)
		}
	})

	t.Run("AddressLocks", func(t *testing.T) {
		// Guessing across many usernames from one address locks the address.
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		for _, name := range []string{"admin", "lead", "duty", "town", "leader", "wang"} {
			s.Authenticate(ctx, bolt.LoginAttempt{Username: name, Password: "123456ab", Addr: "192.168.1.66"}, policy)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "192.168.1.66"}, policy); !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("right password from a locked address: %v, want ErrLocked", err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "192.168.1.20"}, policy); err != nil {
			t.Fatalf("another address: %v", err)
		}
		// The admin's unlock lifts every lock.
		if err := s.UnlockLogin(""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "192.168.1.66"}, policy); err != nil {
			t.Fatalf("after UnlockLogin(\"\"): %v", err)
		}
	})

	t.Run("CheckAndCountAtOnce", func(t *testing.T) {
		// Twenty attempts at once: exactly LockAfter are checked; the rest
		// are refused as locked without a hash, the right password among them.
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		var wg gosync.WaitGroup
		var mu gosync.Mutex
		counts := map[string]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				a := attacker
				a.Addr = "10.0.0." + string(rune('a'+i)) // no address lock in play
				_, _, err := s.Authenticate(ctx, a, policy)
				mu.Lock()
				counts[appliance.ErrorCode(err)]++
				mu.Unlock()
			}(i)
		}
		wg.Wait()
		if counts[appliance.EUNAUTHORIZED]+1 != policy.LockAfter || counts[appliance.ELOCKED] != 20-policy.LockAfter+1 {
			t.Fatalf("outcomes %v: want %d checked (the last of them locking) and the rest locked", counts, policy.LockAfter)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.1.1"}, policy); !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("right password after the race: %v, want ErrLocked", err)
		}
	})

	t.Run("ColleaguesAtOnce", func(t *testing.T) {
		// Eight people log into one shared account at the same moment
		// (more than LockAfter): each waits its turn; none is refused and
		// the account is not locked.
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		var wg gosync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				_, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.2." + string(rune('a'+i))}, policy)
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("a colleague's login: %v", err)
			}
		}
		if locked, err := s.LockedLogins(time.Now()); err != nil || locked["zhangxj"] {
			t.Fatalf("locked after eight right logins: %v %v", locked, err)
		}
		// Two wrong ones after them still count from zero: not locked.
		for i := 0; i < policy.LockAfter-1; i++ {
			s.Authenticate(ctx, attacker, policy)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.3.1"}, policy); err != nil {
			t.Fatalf("right password after %d failures: %v", policy.LockAfter-1, err)
		}
	})

	t.Run("UnknownUsernameSameCost", func(t *testing.T) {
		s := MustOpenStore(t)
		s.SetArgon2(bolt.Argon2Params{Time: 2, Memory: 32 * 1024, Threads: 1})
		if dummy, real := s.DummyHashCost(); dummy != real || dummy == "" {
			t.Fatalf("hash for unknown usernames costs %q, a real one %q", dummy, real)
		}
	})
}

func TestSetPasswordEndsSessionsAndTokens(t *testing.T) {
	s := MustOpenStore(t)
	u := mustCreateUser(t, s, "u1", "zhangxj", false)
	other := mustCreateUser(t, s, "u2", "lisi", false)
	here, _ := s.CreateSession(u.ID, false)
	there, _ := s.CreateSession(u.ID, false)
	theirs, _ := s.CreateSession(other.ID, false)
	tok, _ := s.CreateAPIToken(u.ID)
	theirTok, _ := s.CreateAPIToken(other.ID)
	if err := s.SetPassword(u.ID, "xinmima-2027", false, here.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(here.Token, time.Hour, time.Hour); err != nil {
		t.Fatalf("the session that changed it ended: %v", err)
	}
	if _, err := s.Session(there.Token, time.Hour, time.Hour); !errors.Is(err, bolt.ErrNoSession) {
		t.Fatalf("another session of the user: %v, want ended", err)
	}
	if _, err := s.APITokenUser(tok); appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
		t.Fatalf("the user's token: %v, want revoked", err)
	}
	if _, err := s.Session(theirs.Token, time.Hour, time.Hour); err != nil {
		t.Fatalf("another user's session: %v", err)
	}
	if _, err := s.APITokenUser(theirTok); err != nil {
		t.Fatalf("another user's token: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	s := MustOpenStore(t)
	u := mustCreateUser(t, s, "u1", "zhangxj", false)
	tok, info, err := s.CreateNamedAPIToken(u.ID, "乡镇对接脚本", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.APITokenUser(tok); err != nil || got.ID != u.ID {
		t.Fatalf("APITokenUser=%v, %v", got, err)
	}
	list, _ := s.APITokens(u.ID)
	if len(list) != 1 || list[0].ID != info.ID || list[0].Name != "乡镇对接脚本" || list[0].LastUsed == 0 {
		t.Fatalf("APITokens=%+v", list)
	}
	t.Run("Expires", func(t *testing.T) {
		old, _, _ := s.CreateNamedAPIToken(u.ID, "old", time.Hour)
		key := "apitoken/" + sha256Key(old)
		s.Update(func(tx *bolt.Tx) error {
			var stored bolt.APIToken
			if ok, err := tx.GetJSON("local", key, &stored); !ok || err != nil {
				t.Fatalf("token not stored under %s: %v", key, err)
			}
			stored.Expires = time.Now().Add(-time.Minute).Unix()
			return tx.PutJSON("local", key, stored)
		})
		if _, err := s.APITokenUser(old); appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
			t.Fatalf("expired token: %v", err)
		}
	})
	t.Run("LegacyRefused", func(t *testing.T) {
		// Before tokens expired they were stored as a bare user id.
		legacy := "gbt_legacytoken0000000000000000000000000000"
		sum := sha256Key(legacy)
		s.Update(func(tx *bolt.Tx) error { return tx.Bucket("local").Put([]byte("apitoken/"+sum), []byte(u.ID)) })
		if _, err := s.APITokenUser(legacy); appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
			t.Fatalf("legacy token: %v, want refused", err)
		}
	})
	t.Run("Revoke", func(t *testing.T) {
		other := mustCreateUser(t, s, "u2", "lisi", false)
		if err := s.RevokeAPIToken(other.ID, info.ID); appliance.ErrorCode(err) != appliance.ENOTFOUND {
			t.Fatalf("revoking another user's token: %v", err)
		}
		if err := s.RevokeAPIToken(u.ID, info.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APITokenUser(tok); err == nil {
			t.Fatal("revoked token still works")
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		var err error
		for i := 0; i < 12 && err == nil; i++ {
			_, _, err = s.CreateNamedAPIToken(u.ID, "", time.Hour)
		}
		if appliance.ErrorCode(err) != appliance.ECONFLICT {
			t.Fatalf("the 11th live token: %v, want refused", err)
		}
	})
}

// sha256Key is how tokens are keyed: base64url(sha256(token)).
func sha256Key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestRehashOnLogin: a hash made with older costs is made again with
// today's at the next right login.
func TestRehashOnLogin(t *testing.T) {
	s := MustOpenStore(t)
	s.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 64 * 1024, Threads: 2}) // the old default
	u := mustCreateUser(t, s, "u1", "zhangxj", false)
	s.SetArgon2(bolt.Argon2Params{Time: 2, Memory: 16 * 1024, Threads: 1})
	stored := func() string {
		var cred struct{ Hash string }
		s.Read(func(tx *bolt.Tx) error { _, err := tx.GetJSON("credentials", u.ID, &cred); return err })
		return cred.Hash
	}
	if !strings.Contains(stored(), "m=65536,t=1,p=2") {
		t.Fatalf("stored %s", stored())
	}
	if _, _, err := s.Authenticate(context.Background(), bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.1"}, bolt.LoginPolicy{LockAfter: 5}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stored(), "m=16384,t=2,p=1") {
		t.Fatalf("after login the hash is %s, want today's costs", stored())
	}
	if _, _, err := s.Authenticate(context.Background(), bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.1"}, bolt.LoginPolicy{LockAfter: 5}); err != nil {
		t.Fatalf("login with the new hash: %v", err)
	}
}
