package ui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"mime"
	"sync"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Idempotency keys on the API's creates (docs/api.md, "Retries"): a POST
// with an Idempotency-Key header, or a JSON body with a top-level
// client_ref, is done once; a retry with the same key and body gets the
// first answer again (Idempotent-Replayed: true) and writes nothing. The
// key is the caller's: it counts per account (per browser, by its CSRF
// cookie, for requests without a login) and route. appliance/bolt/idempotency.go keeps it in
// the write's own transaction, so it survives restarts and crashes.

// idemMaxAnswer bounds a kept answer; a bigger one is not replayed.
const idemMaxAnswer = 256 << 10

// idemRefused are the POSTs that take no key: their answers are secrets
// that must not be kept, or they change nothing that could be doubled.
var idemRefused = map[string]bool{"/api/v1/token": true, "/api/v1/password": true}

// idemLocks serialises requests with the same key, so a retry sent while
// the first is still running waits for its answer.
type idemLocks struct {
	mu    sync.Mutex
	locks map[string]*idemLock
}

type idemLock struct {
	mu   sync.Mutex
	refs int
}

func (l *idemLocks) lock(key string) func() {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*idemLock{}
	}
	k := l.locks[key]
	if k == nil {
		k = &idemLock{}
		l.locks[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock()
	return func() {
		k.mu.Unlock()
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.locks, key)
		}
		l.mu.Unlock()
	}
}

var idempotencyLocks idemLocks

func (s *Server) idempotent(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost || !isAPI(c) {
		return c.Next()
	}
	key := c.Get("Idempotency-Key")
	ref, body, err := clientRef(c)
	if err != nil {
		return err
	}
	if key == "" && ref == "" {
		return c.Next()
	}
	field := "Idempotency-Key"
	switch {
	case key == "":
		key, field = ref, "client_ref"
	case ref != "" && ref != key:
		return appliance.FieldError("client_ref", "client_ref 与请求头 Idempotency-Key 不一致")
	}
	if !validIdemKey(key) {
		return appliance.FieldError(field, "%s 应为1到100个可见的 ASCII 字符（如 UUID）", field)
	}
	if idemRefused[c.Path()] {
		return appliance.FieldError(field, "此接口不接受 %s", field)
	}
	who := "-" + anonDevice(c) // without a login: this browser's (its signed CSRF token), never another's
	if u := currentUser(c); u != nil {
		who = u.ID
	}
	full := who + "|" + c.Path() + "|" + key
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.Path() + "?" + string(c.Request().URI().QueryString()) + "\n"))
	if isJSON(c) {
		h.Write(body) // a multipart body differs by its boundary on every retry: not compared
	}
	hash := hex.EncodeToString(h.Sum(nil))

	unlock := idempotencyLocks.lock(full)
	defer unlock()
	rec, ok, err := s.Store.IdempotentRecord(full)
	if err != nil {
		return err
	}
	if ok {
		switch {
		case rec.Hash != hash:
			return appliance.FieldError(field, "该 %s 已用于另一个内容不同的请求；新的请求请换一个新的值", field)
		case rec.Status == 0:
			return appliance.Errorf(appliance.ECONFLICT, "该请求已经处理过，但当时的答复没有保存下来（如中途断电）；请查询结果，不要再次提交")
		}
		c.Set("Idempotent-Replayed", "true")
		c.Set(fiber.HeaderContentType, rec.ContentType)
		return c.Status(rec.Status).Send(rec.Body)
	}
	if ref != "" {
		c.Request().SetBody(body)
	}
	c.SetUserContext(bolt.WithIdempotencyKey(c.UserContext(), full, hash))
	if err := c.Next(); err != nil {
		return err
	}
	resp := c.Response()
	if st := resp.StatusCode(); st >= 200 && st < 300 && len(resp.Body()) <= idemMaxAnswer {
		ans := bolt.IdemRecord{Hash: hash, Status: st, ContentType: string(resp.Header.ContentType()), Body: append([]byte(nil), resp.Body()...)}
		if err := s.Store.SaveAnswer(full, ans); err != nil {
			s.Log.Error("idempotency: keep answer", "route", c.Route().Path, "err", err)
		}
	}
	return nil
}

// anonDevice names a browser without a login by its CSRF token (a
// signed, random cookie), hashed.
func anonDevice(c *fiber.Ctx) string {
	sum := sha256.Sum256([]byte(csrfToken(c)))
	return hex.EncodeToString(sum[:8])
}

func validIdemKey(k string) bool {
	if len(k) == 0 || len(k) > 100 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

func isJSON(c *fiber.Ctx) bool {
	mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	return err == nil && mt == fiber.MIMEApplicationJSON
}

// clientRef takes a top-level "client_ref" string out of a JSON object
// body; it returns the body without it (others are left as they are: the
// handler's strict decoding judges them).
func clientRef(c *fiber.Ctx) (string, []byte, error) {
	body := c.Body()
	if !isJSON(c) || !utf8.Valid(body) || !bytes.Contains(body, []byte(`"client_ref"`)) {
		return "", body, nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return "", body, nil
	}
	raw, ok := obj["client_ref"]
	if !ok {
		return "", body, nil
	}
	var ref string
	if err := json.Unmarshal(raw, &ref); err != nil || ref == "" {
		return "", nil, appliance.FieldError("client_ref", "client_ref 应为非空字符串")
	}
	delete(obj, "client_ref")
	out, err := json.Marshal(obj)
	return ref, out, err
}
