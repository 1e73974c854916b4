package bolt

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
)

// API tokens let scripts act as a user. Only a hash of each is kept; each
// expires, can be listed and revoked, and all of a user's end when the
// password changes.

// DefaultTokenTTL is how long a token lives unless told otherwise.
const DefaultTokenTTL = 90 * 24 * time.Hour

// maxTokensPerUser bounds the live tokens of one account.
const maxTokensPerUser = 10

// tokenTouchEvery is how stale LastUsed may get before it is rewritten.
const tokenTouchEvery = time.Hour

// APIToken describes a token without the token itself.
type APIToken struct {
	ID       string `json:"id"` // public handle for listing and revoking
	UserID   string `json:"user"`
	Name     string `json:"name"`
	Created  int64  `json:"created"`
	Expires  int64  `json:"expires"`
	LastUsed int64  `json:"last_used,omitempty"`
}

const tokenPrefix = "apitoken/"

func tokenKey(token string) []byte { return []byte(tokenPrefix + sessionKey(token)) }

// tokenID is the public handle of the token stored under key.
func tokenID(key []byte) string { return string(key[len(tokenPrefix):])[:12] }

// CreateAPIToken makes a token with the default lifetime.
func (s *Store) CreateAPIToken(userID string) (string, error) {
	token, _, err := s.CreateNamedAPIToken(userID, "", DefaultTokenTTL)
	return token, err
}

// CreateNamedAPIToken makes a new token for the user; the token is shown
// once, only its hash is kept.
func (s *Store) CreateNamedAPIToken(userID, name string, ttl time.Duration) (string, APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API"
	}
	if n := len([]rune(name)); n > 30 {
		return "", APIToken{}, appliance.FieldError("name", "令牌名称不能超过30个字")
	}
	if ttl <= 0 || ttl > 400*24*time.Hour {
		return "", APIToken{}, appliance.FieldError("days", "有效期应为1到400天")
	}
	token := "gbt_" + randomToken()
	now := time.Now()
	t := APIToken{ID: tokenID(tokenKey(token)), UserID: userID, Name: name, Created: now.Unix(), Expires: now.Add(ttl).Unix()}
	err := s.Update(func(tx *Tx) error {
		if _, err := tx.User(userID); err != nil {
			return err
		}
		live := 0
		if err := tx.eachToken(func(_ []byte, o APIToken) error {
			if o.UserID == userID && o.Expires > now.Unix() {
				live++
			}
			return nil
		}); err != nil {
			return err
		}
		if live >= maxTokensPerUser {
			return appliance.Errorf(appliance.ECONFLICT, "每个账号最多%d个有效令牌，请先吊销不用的", maxTokensPerUser)
		}
		return tx.PutJSON(string(bucketLocal), string(tokenKey(token)), t)
	})
	if err != nil {
		return "", APIToken{}, err
	}
	return token, t, nil
}

var errBadToken = appliance.Errorf(appliance.EUNAUTHORIZED, "API 令牌无效或已过期，请重新生成")

// APITokenUser returns the user a live token belongs to.
func (s *Store) APITokenUser(token string) (appliance.User, error) {
	var u appliance.User
	var t APIToken
	now := time.Now()
	err := s.Read(func(tx *Tx) error {
		v := tx.Bucket(string(bucketLocal)).Get(tokenKey(token))
		if v == nil || json.Unmarshal(v, &t) != nil || t.Expires <= now.Unix() {
			return errBadToken // tokens of before expiry (a bare user id) are refused too
		}
		var err error
		u, err = tx.User(t.UserID)
		return err
	})
	if err != nil {
		return u, err
	}
	if u.Disabled {
		return u, appliance.Errorf(appliance.EUNAUTHORIZED, "账号已停用")
	}
	if now.Sub(time.Unix(t.LastUsed, 0)) > tokenTouchEvery {
		// Writing on every request would cost an fsync per call.
		s.Update(func(tx *Tx) error {
			var cur APIToken
			if ok, err := tx.GetJSON(string(bucketLocal), string(tokenKey(token)), &cur); !ok || err != nil {
				return err
			}
			cur.LastUsed = now.Unix()
			return tx.PutJSON(string(bucketLocal), string(tokenKey(token)), cur)
		})
	}
	return u, nil
}

// APITokens lists the tokens of userID ("": of every user), newest first;
// expired ones are included so that their owners see them end.
func (s *Store) APITokens(userID string) ([]APIToken, error) {
	var out []APIToken
	err := s.Read(func(tx *Tx) error {
		return tx.eachToken(func(_ []byte, t APIToken) error {
			if userID == "" || t.UserID == userID {
				out = append(out, t)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created > out[j].Created })
	return out, err
}

// RevokeAPIToken ends the token with the public id; userID limits it to
// that user's tokens ("" for an admin).
func (s *Store) RevokeAPIToken(userID, id string) error {
	return s.Update(func(tx *Tx) error {
		var key []byte
		tx.eachToken(func(k []byte, t APIToken) error {
			if t.ID == id && (userID == "" || t.UserID == userID) {
				key = append([]byte(nil), k...)
			}
			return nil
		})
		if key == nil {
			return appliance.Errorf(appliance.ENOTFOUND, "没有这个令牌")
		}
		return tx.Bucket(string(bucketLocal)).Delete(key)
	})
}

// RevokeAPITokens ends every token of the user.
func (s *Store) RevokeAPITokens(userID string) error {
	return s.Update(func(tx *Tx) error { return tx.revokeTokensOf(userID, "") })
}

func (tx *Tx) revokeTokensOf(userID, keepID string) error {
	var dead [][]byte
	b := tx.Bucket(string(bucketLocal))
	c := b.Cursor()
	for k, v := c.Seek([]byte(tokenPrefix)); k != nil && strings.HasPrefix(string(k), tokenPrefix); k, v = c.Next() {
		var t APIToken
		if json.Unmarshal(v, &t) != nil || t.UserID == userID && t.ID != keepID {
			dead = append(dead, append([]byte(nil), k...)) // unreadable ones (before expiry) go too
		}
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (tx *Tx) eachToken(fn func(key []byte, t APIToken) error) error {
	c := tx.Bucket(string(bucketLocal)).Cursor()
	for k, v := c.Seek([]byte(tokenPrefix)); k != nil && strings.HasPrefix(string(k), tokenPrefix); k, v = c.Next() {
		var t APIToken
		if json.Unmarshal(v, &t) != nil {
			continue
		}
		if err := fn(k, t); err != nil {
			return err
		}
	}
	return nil
}
