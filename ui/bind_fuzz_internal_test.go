package ui

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"gridbox/appliance"
)

// FuzzBindJSON: the API's one JSON decoder never panics, refuses in words
// (a user error, never an internal one), and what it accepts is exactly
// one UTF-8 JSON object of the target's shape under a JSON content type.
func FuzzBindJSON(f *testing.F) {
	for _, seed := range []struct{ ctype, body string }{
		{"application/json", `{"code":"NE42-47D7","pin":"1645"}`},
		{"application/json; charset=utf-8", `{"code":"NE42-47D7","pin":"1645","rating":"satisfied","words":"谢谢"}`},
		{"application/json", `{"code":"NE42-47D7","pin":"1645"} {"x":1}`},
		{"application/json", `{"code":"NE42-47D7","pin":1645}`},
		{"application/json", `{"code":"\xff"}`},
		{"application/json", `{"cod":"x"}`},
		{"application/json", `[1,2,3]`},
		{"application/json", `null`},
		{"application/json", ``},
		{"text/plain", `{"code":"x"}`},
		{"application/x-www-form-urlencoded", `code=x&pin=1234`},
		{"application/json", "{\"words\":\"\u202eevil\"}"},
		{"application/json", `{"code":"` + string(bytes.Repeat([]byte("a"), 5000)) + `"}`},
	} {
		f.Add(seed.ctype, []byte(seed.body))
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.Header.SetContentType(ctype)
		fctx.Request.SetBody(body)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		var got trackRequest
		err := bindJSON(c, &got)
		if err != nil {
			if code := appliance.ErrorCode(err); code == appliance.EINTERNAL || appliance.ErrorMessage(err) == "" {
				t.Fatalf("refusal %v is not a user error", err)
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8 %q", body)
		}
		// What it accepted, the standard decoder reads to the same value.
		var want trackRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil || want != got {
			t.Fatalf("accepted %q as %+v; encoding/json says %+v, %v", body, got, want, err)
		}
		if dec.More() {
			t.Fatalf("accepted %q with more after the value", body)
		}
	})
}
