package bolt_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const testPassword = "shuiku2026"

func mustCreateUser(tb testing.TB, s *bolt.Store, id, username string, mustChange bool) appliance.User {
	tb.Helper()
	u := appliance.User{ID: id, Username: username, Name: "张秀菊", Role: appliance.RoleGridLeader, Grid: "410184104201-03"}
	if err := s.CreateUser(context.Background(), "admin", u, testPassword, mustChange); err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestStore_Authenticate(t *testing.T) {
	ctx := context.Background()
	policy := bolt.LoginPolicy{LockAfter: 3, LockFor: time.Minute}

	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		want := mustCreateUser(t, s, "u1", "zhangxj", true)
		u, mustChange, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: " ZhangXJ ", Password: testPassword, Addr: "10.0.0.9"}, policy)
		if err != nil {
			t.Fatal(err)
		}
		if u != want || !mustChange {
			t.Fatalf("Authenticate=%+v, %v; want %+v, true", u, mustChange, want)
		}
		// The password and its hash never enter the ledger (it replicates).
		es, _ := s.Entries(s.Feed(), 1, 100)
		for _, e := range es {
			data, _ := e.MarshalBinary()
			if bytes.Contains(data, []byte(testPassword)) || bytes.Contains(data, []byte("argon2")) {
				t.Fatalf("entry %d carries the password or its hash", e.Seq)
			}
		}
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		u := appliance.User{ID: "u2", Username: "zhangxj", Name: "张三", Role: appliance.RoleDutyStaff}
		if err := s.CreateUser(ctx, "admin", u, testPassword, false); appliance.ErrorField(err) != "username" {
			t.Fatalf("CreateUser(same username)=%v, want a username field error", err)
		}
		u = appliance.User{ID: "u1", Username: "zhangsan", Name: "张三", Role: appliance.RoleDutyStaff}
		if err := s.CreateUser(ctx, "admin", u, testPassword, false); appliance.ErrorField(err) != "id" {
			t.Fatalf("CreateUser(same id)=%v, want an id field error", err)
		}
		if err := s.CreateUser(ctx, "admin", appliance.User{ID: "u3", Username: "lisi", Name: "李四", Role: appliance.RoleDutyStaff}, "short1", false); appliance.ErrorField(err) != "password" {
			t.Fatalf("CreateUser(short password)=%v, want a password field error", err)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		for _, tt := range []struct{ name, username, password string }{
			{"WrongPassword", "zhangxj", "shuiku2025"},
			{"EmptyPassword", "zhangxj", ""},
			{"UnknownUser", "nobody", testPassword},
		} {
			if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: tt.username, Password: tt.password, Addr: "10.0.0.9"}, policy); appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
				t.Fatalf("%s: Authenticate=%v, want %s", tt.name, err, appliance.EUNAUTHORIZED)
			}
		}
	})
	t.Run("ErrLocked", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		for i := 1; i <= 3; i++ {
			_, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: "wrong-pass-1", Addr: "10.0.0.9"}, policy)
			if want := i == 3; errors.Is(err, bolt.ErrLocked) != want {
				t.Fatalf("failure %d: Authenticate=%v, locked want %v", i, err, want)
			}
		}
		// Locked even with the right password.
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); appliance.ErrorCode(err) != appliance.ELOCKED {
			t.Fatalf("Authenticate(right password, locked)=%v, want %s", err, appliance.ELOCKED)
		}
		// The lock ends when its time has passed.
		if err := s.Update(func(tx *bolt.Tx) error {
			return tx.PutJSON("logins", "user/zhangxj", map[string]int64{"locked_until": time.Now().Add(-time.Second).Unix()})
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); err != nil {
			t.Fatalf("Authenticate after the lock ended=%v", err)
		}
		// An admin can unlock at once.
		for i := 0; i < 3; i++ {
			s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: "wrong-pass-1", Addr: "10.0.0.9"}, policy)
		}
		if err := s.UnlockLogin("zhangxj"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); err != nil {
			t.Fatalf("Authenticate after UnlockLogin=%v", err)
		}
	})
	t.Run("SuccessResetsFailures", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		for _, pw := range []string{"wrong-pass-1", "wrong-pass-1", testPassword, "wrong-pass-1", "wrong-pass-1"} {
			s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: pw, Addr: "10.0.0.9"}, policy)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); err != nil {
			t.Fatalf("Authenticate=%v; failures before a success must not count", err)
		}
	})
	t.Run("UnknownUserLocks", func(t *testing.T) {
		// Probing a username that does not exist behaves like a real one.
		s := MustOpenStore(t)
		var err error
		for i := 0; i < 3; i++ {
			_, _, err = s.Authenticate(ctx, bolt.LoginAttempt{Username: "nobody", Password: testPassword, Addr: "10.0.0.9"}, policy)
		}
		if !errors.Is(err, bolt.ErrLocked) {
			t.Fatalf("Authenticate(unknown, 3rd)=%v, want ErrLocked", err)
		}
	})
	t.Run("Delay", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", false)
		p := bolt.LoginPolicy{Delay: 30 * time.Millisecond}
		for i, want := range []time.Duration{30 * time.Millisecond, 60 * time.Millisecond} {
			start := time.Now()
			s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: "wrong-pass-1", Addr: "10.0.0.9"}, p)
			if got := time.Since(start); got < want {
				t.Fatalf("failure %d took %v, want at least %v", i+1, got, want)
			}
		}
	})
	t.Run("Disabled", func(t *testing.T) {
		s := MustOpenStore(t)
		u := mustCreateUser(t, s, "u1", "zhangxj", false)
		sess, err := s.CreateSession(u.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		u.Disabled = true
		if err := s.UpdateUser(ctx, "admin", u); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
			t.Fatalf("Authenticate(disabled)=%v, want %s", err, appliance.EUNAUTHORIZED)
		}
		if _, err := s.Session(sess.Token, time.Hour, time.Hour); !errors.Is(err, bolt.ErrNoSession) {
			t.Fatalf("Session of a disabled user=%v, want ErrNoSession", err)
		}
	})
	t.Run("SetPassword", func(t *testing.T) {
		s := MustOpenStore(t)
		mustCreateUser(t, s, "u1", "zhangxj", true)
		if err := s.SetPassword("u1", "xinmima2027", false, ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: testPassword, Addr: "10.0.0.9"}, policy); err == nil {
			t.Fatal("old password still works")
		}
		if _, mustChange, err := s.Authenticate(ctx, bolt.LoginAttempt{Username: "zhangxj", Password: "xinmima2027", Addr: "10.0.0.9"}, policy); err != nil || mustChange {
			t.Fatalf("Authenticate(new password)=%v, mustChange %v", err, mustChange)
		}
		if err := s.SetPassword("nobody", "xinmima2027", false, ""); appliance.ErrorCode(err) != appliance.ENOTFOUND {
			t.Fatalf("SetPassword(unknown)=%v, want %s", err, appliance.ENOTFOUND)
		}
	})
}

// backdateSession sets the stored session's LastSeen to ago before now.
// Sessions are stored under base64url(sha256(token)) in bucket "sessions".
func backdateSession(tb testing.TB, s *bolt.Store, token string, ago time.Duration) {
	tb.Helper()
	sum := sha256.Sum256([]byte(token))
	key := base64.RawURLEncoding.EncodeToString(sum[:])
	err := s.Update(func(tx *bolt.Tx) error {
		var sess appliance.Session
		if ok, err := tx.GetJSON("sessions", key, &sess); err != nil {
			return err
		} else if !ok {
			return errors.New("no stored session under the derived key")
		}
		sess.LastSeen = time.Now().Add(-ago).Unix()
		return tx.PutJSON("sessions", key, sess)
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestStore_Session(t *testing.T) {
	const idle, kioskIdle = 30 * time.Minute, 2 * time.Minute
	s := MustOpenStore(t)
	u := mustCreateUser(t, s, "u1", "zhangxj", false)

	t.Run("OK", func(t *testing.T) {
		sess, err := s.CreateSession(u.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(sess.Token, idle, kioskIdle)
		if err != nil {
			t.Fatal(err)
		}
		if got != sess {
			t.Fatalf("Session=%+v, want %+v", got, sess)
		}
		// Used after a while: still alive, and LastSeen moves on.
		backdateSession(t, s, sess.Token, 20*time.Minute)
		got, err = s.Session(sess.Token, idle, kioskIdle)
		if err != nil {
			t.Fatalf("Session after 20 min idle=%v", err)
		}
		if age := time.Since(time.Unix(got.LastSeen, 0)); age > time.Minute {
			t.Fatalf("LastSeen not refreshed: %v ago", age)
		}
		backdateSession(t, s, sess.Token, 20*time.Minute) // the stored one was refreshed too
		if _, err := s.Session(sess.Token, idle, kioskIdle); err != nil {
			t.Fatalf("Session after another 20 min idle=%v", err)
		}
	})
	t.Run("ErrIdle", func(t *testing.T) {
		sess, _ := s.CreateSession(u.ID, false)
		backdateSession(t, s, sess.Token, idle+time.Minute)
		if _, err := s.Session(sess.Token, idle, kioskIdle); !errors.Is(err, bolt.ErrNoSession) {
			t.Fatalf("Session after idle=%v, want ErrNoSession", err)
		}
		// The expired session was removed.
		sum := sha256.Sum256([]byte(sess.Token))
		s.Read(func(tx *bolt.Tx) error {
			if ok, _ := tx.GetJSON("sessions", base64.RawURLEncoding.EncodeToString(sum[:]), &appliance.Session{}); ok {
				t.Fatal("expired session still stored")
			}
			return nil
		})
	})
	t.Run("ErrKioskIdle", func(t *testing.T) {
		kiosk, _ := s.CreateSession(u.ID, true)
		staff, _ := s.CreateSession(u.ID, false)
		for _, tok := range []string{kiosk.Token, staff.Token} {
			backdateSession(t, s, tok, kioskIdle+time.Minute)
		}
		if _, err := s.Session(kiosk.Token, idle, kioskIdle); !errors.Is(err, bolt.ErrNoSession) {
			t.Fatalf("kiosk Session after kiosk idle=%v, want ErrNoSession", err)
		}
		if _, err := s.Session(staff.Token, idle, kioskIdle); err != nil {
			t.Fatalf("staff Session after the same idle=%v, want alive", err)
		}
	})
	t.Run("ErrNoSession", func(t *testing.T) {
		sess, _ := s.CreateSession(u.ID, false)
		if err := s.DeleteSession(sess.Token); err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{sess.Token, "", "not-a-token"} {
			if _, err := s.Session(tok, idle, kioskIdle); !errors.Is(err, bolt.ErrNoSession) {
				t.Fatalf("Session(%q)=%v, want ErrNoSession", tok, err)
			}
		}
	})
	t.Run("TokenNotStored", func(t *testing.T) {
		// A copy of the file must not hand out live sessions.
		sess, _ := s.CreateSession(u.ID, false)
		var buf bytes.Buffer
		if _, err := s.Backup(&buf); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(buf.Bytes(), []byte(sess.Token)) {
			t.Fatal("the session token is stored in the file")
		}
	})
}

func TestAuthorNameOnDerivedFeeds(t *testing.T) {
	// A town's steps on a village's case are on its downward feed; their
	// author is a user of the town's own feed.
	s := MustOpenStore(t)
	u := mustCreateUser(t, s, "u-town", "town", false)
	es, err := s.WriteDown(context.Background(), "410184104201", func(*bolt.Tx) ([]appliance.Draft, error) {
		return []appliance.Draft{{Author: u.ID, Kind: "bench.note", Version: 1, Body: map[string]string{"text": "已派单"}}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if last.Feed == s.Feed() {
		t.Fatal("written on the node's own feed")
	}
	s.Read(func(tx *bolt.Tx) error {
		if got := tx.AuthorName(last.Feed, u.ID); got != u.Name {
			t.Errorf("author on the downward feed: %q, want %q", got, u.Name)
		}
		if got := tx.AuthorName(last.Feed, "u-nobody"); got != "u-nobody" {
			t.Errorf("unknown author: %q", got)
		}
		return nil
	})
}
