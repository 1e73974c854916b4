package ui

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// pendingImport is an uploaded sheet waiting for its commit after the dry
// run; it lives in memory only, for a short while, for the user who sent it.
type pendingImport struct {
	user  string
	name  string
	data  []byte
	added time.Time
}

var (
	pendingMu      sync.Mutex
	pendingImports = map[string]pendingImport{}
)

const pendingImportTTL = 30 * time.Minute

func keepImport(user, name string, data []byte) string {
	b := make([]byte, 16)
	rand.Read(b)
	token := hex.EncodeToString(b)
	pendingMu.Lock()
	defer pendingMu.Unlock()
	for k, p := range pendingImports {
		if time.Since(p.added) > pendingImportTTL {
			delete(pendingImports, k)
		}
	}
	pendingImports[token] = pendingImport{user: user, name: name, data: data, added: time.Now()}
	return token
}

func takeImport(user, token string) (pendingImport, bool) {
	pendingMu.Lock()
	defer pendingMu.Unlock()
	p, ok := pendingImports[token]
	if !ok || p.user != user || time.Since(p.added) > pendingImportTTL {
		return p, false
	}
	delete(pendingImports, token)
	return p, true
}

// maxImportBytes bounds an uploaded sheet.
const maxImportBytes = 20 << 20

func (s *Server) showHouseholdImport(c *fiber.Ctx) error {
	return s.render(c, "household_import", fiber.Map{"Title": "导入户籍表格"})
}

// readUpload returns the uploaded file of field "file".
func readUpload(c *fiber.Ctx) (string, []byte, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return "", nil, appliance.FieldError("file", "请选择要导入的 .xlsx 或 .csv 文件")
	}
	if fh.Size > maxImportBytes {
		return "", nil, appliance.FieldError("file", "文件太大（最大20MB）")
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	return fh.Filename, data, err
}

// importSheet parses a sheet against the groups the user may see.
func (s *Server) importSheet(u *appliance.User, name string, data []byte) (*appliance.ImportSheet, error) {
	groups, err := s.groupsInScope(u)
	if err != nil {
		return nil, err
	}
	return appliance.ParseImportSheet(name, data, groups)
}

// submitHouseholdImport is the dry run (a file) or the commit (a token of
// the file the dry run kept).
func (s *Server) submitHouseholdImport(c *fiber.Ctx) error {
	u := currentUser(c)
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Status(statusOf[appliance.ErrorCode(err)])
		return s.render(c, "household_import", fiber.Map{"Title": "导入户籍表格", "Error": appliance.ErrorMessage(err)})
	}
	if token := c.FormValue("token"); token != "" {
		p, ok := takeImport(u.ID, token)
		if !ok {
			return fail(appliance.Errorf(appliance.EINVALID, "预览已过期，请重新上传文件"))
		}
		sheet, err := s.importSheet(u, p.name, p.data)
		if err != nil {
			return fail(err)
		}
		plan, err := s.Store.CommitImport(c.UserContext(), actor(c), sheet, scopeOf(u))
		if err != nil {
			return fail(err)
		}
		return s.render(c, "household_import", fiber.Map{"Title": "导入户籍表格", "Plan": plan, "Done": true})
	}
	name, data, err := readUpload(c)
	if err != nil {
		return fail(err)
	}
	sheet, err := s.importSheet(u, name, data)
	if err != nil {
		return fail(err)
	}
	plan, err := s.Store.DryRunImport(sheet, scopeOf(u))
	if err != nil {
		return fail(err)
	}
	return s.render(c, "household_import", fiber.Map{"Title": "导入户籍表格", "Plan": plan, "Token": keepImport(u.ID, name, data), "FileName": name})
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
