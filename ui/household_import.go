package ui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func init() {
	registerRoutes(func(s *Server) {
		view, edit := s.require(appliance.PermViewArchive), s.require(appliance.PermEditArchive)
		a := s.app
		a.Get("/staff/households/import/:token/refused.xlsx", edit, s.downloadRefusedRows)
		api := s.app.Group("/api/v1")
		api.Post("/import/dry-run", edit, s.apiImport(false))
		api.Post("/import/commit", edit, s.apiImport(true))
		api.Get("/import/mapping", edit, s.apiImportMapping)
		api.Put("/import/mapping", edit, s.apiSetImportMapping)
		api.Get("/import/:token/refused.xlsx", edit, s.downloadRefusedRows)
		api.Get("/export.xlsx", view, s.exportHouseholds)
	})
}

// pendingImport is an uploaded sheet between its dry run and its commit;
// it lives in memory only, for a short while, for the user who sent it,
// with the columns the clerk chose for it.
type pendingImport struct {
	user   string
	name   string
	data   []byte
	chosen map[string]string
	added  time.Time
}

var (
	pendingMu      sync.Mutex
	pendingImports = map[string]*pendingImport{}
)

const (
	pendingImportTTL = 30 * time.Minute
	maxPendingBytes  = 48 << 20 // sheets held at once, in all; the oldest go first
)

func keepImport(p *pendingImport) string {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	pendingMu.Lock()
	defer pendingMu.Unlock()
	for {
		oldest, total := "", len(p.data)
		for k, q := range pendingImports {
			if time.Since(q.added) > pendingImportTTL {
				delete(pendingImports, k)
				continue
			}
			total += len(q.data)
			if oldest == "" || q.added.Before(pendingImports[oldest].added) {
				oldest = k
			}
		}
		if total <= maxPendingBytes || oldest == "" {
			break
		}
		delete(pendingImports, oldest)
	}
	p.added = time.Now()
	pendingImports[token] = p
	return token
}

func findImport(user, token string) (*pendingImport, bool) {
	pendingMu.Lock()
	defer pendingMu.Unlock()
	p, ok := pendingImports[token]
	if !ok || p.user != user || time.Since(p.added) > pendingImportTTL {
		return nil, false
	}
	return p, true
}

// maxImportBytes bounds an uploaded sheet.
const maxImportBytes = 20 << 20

// importTitle is the page's title.
const importTitle = "导入户籍表格"

func (s *Server) showHouseholdImport(c *fiber.Ctx) error {
	return s.render(c, "household_import", fiber.Map{"Title": importTitle})
}

// readUpload returns the uploaded file of field "file".
func readUpload(c *fiber.Ctx) (string, []byte, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, appliance.FieldError("file", "请选择要导入的表格文件（.xlsx、.xls 或 .csv）")
	}
	if fh.Size > maxImportBytes {
		return "", nil, appliance.FieldError("file", "文件太大（最大20MB），请分开导入")
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	return fh.Filename, data, err
}

// chosenColumns reads the column choices of a form: col.<letter> (or
// col.<sheet>!<letter>) = field. "auto" leaves a column to recognition.
func chosenColumns(c *fiber.Ctx) (map[string]string, error) {
	out := map[string]string{}
	var err error
	visit := func(k, v string) {
		if !strings.HasPrefix(k, "col.") || err != nil {
			return
		}
		k, v = strings.TrimPrefix(k, "col."), strings.TrimSpace(v)
		if v == "auto" || v == "" {
			return
		}
		if appliance.ImportFieldLabel(v) == "" {
			err = appliance.FieldError("col."+k, "第%s列的对应项“%s”不是可导入的项目", k, v)
			return
		}
		out[k] = v
	}
	if mf, e := c.MultipartForm(); e == nil && mf != nil {
		for k, vs := range mf.Value {
			for _, v := range vs {
				visit(k, v)
			}
		}
	} else {
		c.Context().PostArgs().VisitAll(func(k, v []byte) { visit(string(k), string(v)) })
	}
	if len(out) > 200 {
		return nil, appliance.FieldError("col", "列对应太多")
	}
	return out, err
}

// planImport parses a pending sheet and plans it: a dry run, or the commit.
func (s *Server) planImport(c *fiber.Ctx, p *pendingImport, commit bool) (*appliance.ImportSheet, bolt.ImportPlan, error) {
	u := currentUser(c)
	groups, err := s.groupsInScope(u)
	if err != nil {
		return nil, bolt.ImportPlan{}, err
	}
	remembered, err := s.Store.ImportMapping()
	if err != nil {
		return nil, bolt.ImportPlan{}, err
	}
	sheet, err := appliance.ParseImportSheet(p.name, p.data, appliance.ImportOptions{Groups: groups, Remembered: remembered, Chosen: p.chosen})
	if err != nil {
		return nil, bolt.ImportPlan{}, err
	}
	var plan bolt.ImportPlan
	if commit {
		plan, err = s.Store.CommitImport(c.UserContext(), actor(c), sheet, scopeOf(u))
	} else {
		plan, err = s.Store.DryRunImport(sheet, scopeOf(u))
	}
	return sheet, plan, err
}

// submitHouseholdImport is the dry run of a new file, a dry run again
// with the clerk's column choices, or the commit of the file kept.
func (s *Server) submitHouseholdImport(c *fiber.Ctx) error {
	u := currentUser(c)
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Status(statusOf[appliance.ErrorCode(err)])
		return s.render(c, "household_import", fiber.Map{"Title": importTitle, "Error": appliance.ErrorMessage(err)})
	}
	var p *pendingImport
	token := c.FormValue("token")
	if token != "" {
		var ok bool
		if p, ok = findImport(u.ID, token); !ok {
			return fail(appliance.Errorf(appliance.EINVALID, "预览已过期，请重新上传文件"))
		}
	} else {
		name, data, err := readUpload(c)
		if err != nil {
			return fail(err)
		}
		p = &pendingImport{user: u.ID, name: name, data: data}
		token = keepImport(p)
	}
	chosen, err := chosenColumns(c)
	if err != nil {
		return fail(err)
	}
	if c.FormValue("action") == "remap" || len(chosen) > 0 {
		pendingMu.Lock()
		p.chosen = chosen
		pendingMu.Unlock()
	}
	commit := c.FormValue("action") == "commit"
	_, plan, err := s.planImport(c, p, commit)
	if err != nil {
		return fail(err)
	}
	return s.render(c, "household_import", fiber.Map{"Title": importTitle, "Plan": plan, "Done": commit, "Token": token,
		"FileName": p.name, "Fields": appliance.ImportFields, "Problems": problemRows(plan)})
}

// problemRows are the rows a clerk must look at: refused, held, warned.
func problemRows(plan bolt.ImportPlan) []bolt.RowOutcome {
	var out []bolt.RowOutcome
	for _, r := range plan.Rows {
		if r.Status == bolt.OutcomeRefused || r.Status == bolt.OutcomeHeld || len(r.Issues) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// downloadRefusedRows sends the rows that did not go in as .xlsx, with a
// reason column, to fix in Excel and import again.
func (s *Server) downloadRefusedRows(c *fiber.Ctx) error {
	p, ok := findImport(currentUser(c).ID, c.Params("token"))
	if !ok {
		return appliance.Errorf(appliance.ENOTFOUND, "预览已过期，请重新上传文件")
	}
	sheet, plan, err := s.planImport(c, p, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := appliance.WriteRefusedXLSX(&buf, sheet.Sheets, plan.Refused()); err != nil {
		return err
	}
	name := "未导入的行-" + strings.TrimSuffix(p.name, fileExt(p.name)) + ".xlsx"
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="refused.xlsx"; filename*=UTF-8''%s`, urlEscape(name)))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

func fileExt(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return name[i:]
	}
	return ""
}

// importAnswer is the API's answer: the plan and the token that commits
// it or downloads its refused rows.
type importAnswer struct {
	Token string `json:"token"`
	bolt.ImportPlan
}

// apiImport takes a multipart upload (field "file", or "token" of an
// earlier dry run; col.<letter>=field for column choices) and answers the
// plan; with commit, everything that can go in is written in one step.
func (s *Server) apiImport(commit bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		var p *pendingImport
		token := c.FormValue("token")
		if token != "" {
			var ok bool
			if p, ok = findImport(u.ID, token); !ok {
				return appliance.FieldError("token", "预览已过期，请重新上传文件")
			}
		} else {
			name, data, err := readUpload(c)
			if err != nil {
				return err
			}
			p = &pendingImport{user: u.ID, name: name, data: data}
			token = keepImport(p)
		}
		chosen, err := chosenColumns(c)
		if err != nil {
			return err
		}
		if len(chosen) > 0 {
			pendingMu.Lock()
			p.chosen = chosen
			pendingMu.Unlock()
		}
		_, plan, err := s.planImport(c, p, commit)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(importAnswer{token, plan})
	}
}

func (s *Server) apiImportMapping(c *fiber.Ctx) error {
	m, err := s.Store.ImportMapping()
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"columns": m, "fields": appliance.ImportFields})
}

func (s *Server) apiSetImportMapping(c *fiber.Ctx) error {
	var m appliance.ImportMapping
	if err := bindJSON(c, &m); err != nil {
		return err
	}
	norm := map[string]string{}
	for h, f := range m.Columns {
		norm[appliance.NormalizeHeader(h)] = f
	}
	m.Columns = norm
	if err := s.Store.RememberImportMapping(c.UserContext(), actor(c), m); err != nil {
		return err
	}
	return s.apiImportMapping(c)
}

// exportHouseholds sends the archive in scope as .xlsx: ID numbers and
// phones masked unless the user may see them (?full=1), which is logged.
func (s *Server) exportHouseholds(c *fiber.Ctx) error {
	u := currentUser(c)
	data, err := s.exportXLSX(c, u, c.Query("full") == "1")
	if err != nil {
		return err
	}
	name := fmt.Sprintf("户籍档案-%s.xlsx", s.today())
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="households.xlsx"; filename*=UTF-8''%s`, urlEscape(name)))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(data)
}

func (s *Server) exportXLSX(c *fiber.Ctx, u *appliance.User, full bool) ([]byte, error) {
	if full && !u.Can(appliance.PermRevealPersonal) {
		return nil, appliance.Errorf(appliance.EFORBIDDEN, "您的账号（%s）不能导出完整身份证号", u.Role.Label())
	}
	scope := scopeOf(u)
	rows, err := s.Store.ExportRows(scope)
	if err != nil {
		return nil, err
	}
	if full {
		if err := s.Store.LogBulkReveal(c.UserContext(), actor(c), len(rows), "导出户籍表格"); err != nil {
			return nil, err
		}
	} else {
		for i := range rows {
			rows[i].Person = rows[i].Person.Masked()
		}
	}
	st, err := s.Store.ArchiveStats(scope, s.now())
	if err != nil {
		return nil, err
	}
	groups, err := s.groupsInScope(u)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := appliance.WriteArchiveXLSX(&buf, rows, st, groupNames(groups)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func urlEscape(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
