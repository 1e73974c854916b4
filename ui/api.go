package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// page is the shape of every list answer: items and the cursor of the next page.
type page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// paginate cuts a sorted list by ?limit=&after= (after is the key of the
// last item of the previous page).
func paginate[T any](c *fiber.Ctx, items []T, key func(T) string) (page[T], error) {
	limit, err := queryLimit(c, 100)
	if err != nil {
		return page[T]{}, err
	}
	start := 0
	if after := c.Query("after"); after != "" {
		start = len(items)
		for i, it := range items {
			if key(it) > after {
				start = i
				break
			}
		}
	}
	items = items[start:]
	p := page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.Next = key(items[limit-1])
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p, nil
}

// queryLimit is ?limit= of every list: 1 to 1000, def when absent; anything
// else is refused, never ignored.
func queryLimit(c *fiber.Ctx, def int) (int, error) {
	v := c.Query("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, appliance.FieldError("limit", "limit 应为 1 到 1000 之间的整数")
	}
	return n, nil
}

// bindJSON decodes a JSON request body strictly: the one decoder of the
// API. It refuses another Content-Type, invalid UTF-8 (which encoding/json
// would silently replace), unknown fields and anything after the value,
// and names the field at fault.
func bindJSON(c *fiber.Ctx, v any) error {
	if mt, _, err := mime.ParseMediaType(string(c.Request().Header.ContentType())); err != nil || mt != fiber.MIMEApplicationJSON {
		return appliance.Errorf(appliance.EUNSUPPORTED, "请求内容须为 JSON（Content-Type: application/json）")
	}
	body := c.Body()
	if !utf8.Valid(body) {
		return appliance.Errorf(appliance.EINVALID, "请求内容含有无效的 UTF-8 字符")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return appliance.Errorf(appliance.EINVALID, "请求内容在 JSON 之后还有多余的内容")
	}
	return nil
}

// jsonError turns a decoding error into one that says which field.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return appliance.Errorf(appliance.EINVALID, "请求内容应为 JSON 对象")
		}
		return appliance.FieldError(typeErr.Field, "字段 %s 的类型不对（应为%s）", typeErr.Field, jsonTypeName(typeErr.Type.Kind()))
	case errors.As(err, &syntaxErr):
		return appliance.Errorf(appliance.EINVALID, "请求内容不是有效的 JSON（第%d个字节附近）", syntaxErr.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return appliance.Errorf(appliance.EINVALID, "请求内容为空或不完整")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return appliance.FieldError(f, "未知字段 %s", f)
	}
	return appliance.Errorf(appliance.EINVALID, "请求内容不是有效的 JSON")
}

func jsonTypeName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "字符串"
	case reflect.Bool:
		return "true 或 false"
	case reflect.Slice, reflect.Array:
		return "数组"
	case reflect.Map, reflect.Struct:
		return "对象"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "整数"
	case reflect.Float32, reflect.Float64:
		return "数字"
	}
	return k.String()
}

func (s *Server) apiNode(c *fiber.Ctx) error {
	n := s.Config.Node
	return c.JSON(fiber.Map{"role": n.Role, "code": n.Code, "name": n.Name, "feed": s.Store.Feed().String(), "duty_phone": s.Config.DutyPhone})
}

func (s *Server) apiMe(c *fiber.Ctx) error { return c.JSON(currentUser(c)) }

func (s *Server) apiGrids(c *fiber.Ctx) error {
	var f appliance.GridFilter
	if p := c.Query("parent"); p != "" {
		f.Parent = &p
	}
	if l := c.Query("level"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return appliance.FieldError("level", "网格级别应为 1、2 或 3")
		}
		f.Level = &n
	}
	grids, err := s.Store.FindGrids(f)
	if err != nil {
		return err
	}
	p, err := paginate(c, grids, func(g appliance.Grid) string { return g.Code })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiStaff(c *fiber.Ctx) error {
	var f appliance.StaffFilter
	if g := c.Query("grid"); g != "" {
		f.Grid = &g
	}
	if d := c.Query("duty"); d != "" {
		f.Duty = &d
	}
	staff, err := s.Store.FindStaff(f)
	if err != nil {
		return err
	}
	p, err := paginate(c, staff, func(m appliance.StaffMember) string { return m.Grid + "/" + m.ID })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiDuty(c *fiber.Ctx) error {
	from, to := c.Query("from", s.today()), c.Query("to", s.today())
	shifts, err := s.Store.FindDuty(s.Config.Node.Code, from, to)
	if err != nil {
		return err
	}
	p, err := paginate(c, shifts, func(d appliance.DutyShift) string { return d.Key() })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiNotices(c *fiber.Ctx) error {
	notices, err := s.Store.FindNotices(s.noticeGrids()...)
	if err != nil {
		return err
	}
	return c.JSON(page[appliance.Notice]{Items: append([]appliance.Notice{}, notices...)})
}

func (s *Server) apiLedgerStats(c *fiber.Ctx) error {
	st, err := s.Store.Stats()
	if err != nil {
		return err
	}
	kinds, err := s.Store.KindCounts()
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"entries": st.Entries, "feeds": st.Feeds, "file_bytes": st.FileSize, "by_kind": kinds})
}

func (s *Server) apiSetDuty(c *fiber.Ctx) error {
	var d appliance.DutyShift
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	d.Grid = s.Config.Node.Code
	if d.StaffID != "" && d.Name == "" {
		if m, err := s.Store.Staff(d.StaffID); err == nil {
			d.Name, d.Phone = m.Name, m.Phone
		}
	}
	if err := s.Store.SetDuty(c.UserContext(), actor(c), d); err != nil {
		return err
	}
	s.copyDown(c.UserContext())
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) apiSetNotice(c *fiber.Ctx) error {
	var n appliance.Notice
	if err := bindJSON(c, &n); err != nil {
		return err
	}
	n.Grid = s.Config.Node.Code
	if n.ID == "" {
		n.ID = "n" + strconv.FormatUint(uint64(s.Store.Clock().Next()), 10)
	}
	if n.Published == "" {
		n.Published = s.today()
	}
	n.From = ""
	if s.Config.Node.Role == appliance.NodeTown {
		if err := s.checkNoticeTo("", n.To); err != nil {
			return err
		}
	}
	if err := s.Store.SetNotice(c.UserContext(), actor(c), n); err != nil {
		return err
	}
	s.copyDown(c.UserContext())
	return c.Status(fiber.StatusCreated).JSON(n)
}
