package ui

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The OpenAPI 3.1 document of /api/v1, served at /api/v1/openapi.json. It
// is made from apiOps below and the Go types the handlers read and write
// (openapi_schema.go), so a field in it is a field of the code;
// TestOpenAPI checks that every route served is in it (and nothing else),
// and validates real answers against it.

// apiOp documents one route.
type apiOp struct {
	Method, Path string   // as registered in fiber (":id")
	Summary      string   // Chinese for people, as the pages
	Access       string   // "public", "staff" (any account) or a permission
	Query        []string // query parameters
	Body         any      // a value of the JSON body's type; nil: none
	Multipart    bool     // the body is (or may be) a multipart form
	Status       int      // of success; 0: 200
	Answer       any      // a value of the answer's type; a media type string for files; nil: no content
	Loose        bool     // the answer is an object this document does not detail yet
}

// Answers written as fiber.Map by their handlers, documented by these
// types of the same shape (TestOpenAPI holds them to it).
type (
	tokenCreatedDoc struct {
		Token   string    `json:"token"`
		ID      string    `json:"id"`
		Name    string    `json:"name"`
		Expires time.Time `json:"expires"`
	}
	phrasesDoc struct {
		Phrases map[string][]string `json:"phrases"`
	}
	statsDoc struct {
		Sentence string              `json:"sentence"`
		Stats    appliance.CaseStats `json:"stats"`
	}
	nodeDoc struct {
		Role      string `json:"role"`
		Code      string `json:"code"`
		Name      string `json:"name"`
		Feed      string `json:"feed"`
		DutyPhone string `json:"duty_phone"`
	}
	ledgerStatsDoc struct {
		Entries   uint64           `json:"entries"`
		Feeds     int              `json:"feeds"`
		FileBytes int64            `json:"file_bytes"`
		ByKind    map[string]int64 `json:"by_kind"`
	}
	registerCloseDoc struct {
		Day string `json:"day"`
	}
	userCreateDoc struct {
		Username   string         `json:"username"`
		Name       string         `json:"name"`
		Role       appliance.Role `json:"role"`
		Grid       string         `json:"grid,omitempty"`
		Department string         `json:"department,omitempty"`
	}
	errorDoc struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	looseDoc struct{}
)

const (
	mediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mediaPDF  = "application/pdf"
	mediaWebM = "audio/webm"
	mediaSSE  = "text/event-stream"
)

var paging = []string{"limit", "after"}

var apiOps = []apiOp{
	// Foundation.
	{Method: "GET", Path: "/api/v1/node", Summary: "本节点", Access: "public", Answer: nodeDoc{}},
	{Method: "GET", Path: "/api/v1/openapi.json", Summary: "本接口的 OpenAPI 3.1 文档", Access: "public", Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/me", Summary: "当前账号", Access: "staff", Answer: appliance.User{}},
	{Method: "POST", Path: "/api/v1/token", Summary: "为当前账号生成 API 令牌（只显示一次）", Access: "staff", Body: tokenRequest{}, Status: 201, Answer: tokenCreatedDoc{}},
	{Method: "GET", Path: "/api/v1/tokens", Summary: "当前账号的 API 令牌", Access: "staff", Answer: page[tokenJSON]{}},
	{Method: "DELETE", Path: "/api/v1/tokens/:id", Summary: "吊销一个 API 令牌", Access: "staff", Status: 204},
	{Method: "POST", Path: "/api/v1/password", Summary: "修改当前账号的密码", Access: "staff", Body: passwordRequest{}, Status: 204},
	{Method: "GET", Path: "/api/v1/users", Summary: "本节点的账号", Access: string(appliance.PermManageUsers), Query: paging, Answer: page[appliance.User]{}},
	{Method: "POST", Path: "/api/v1/users", Summary: "新建账号（答复中有一次性密码）", Access: string(appliance.PermManageUsers), Body: userCreateDoc{}, Status: 201, Answer: accountJSON{}},
	{Method: "POST", Path: "/api/v1/users/:id/:action", Summary: "重置密码、停用、启用、解锁或吊销令牌（action: reset, disable, enable, unlock, revoke_tokens）", Access: string(appliance.PermManageUsers), Answer: accountJSON{}},
	{Method: "GET", Path: "/api/v1/grids", Summary: "网格", Access: string(appliance.PermViewDashboard), Query: []string{"parent", "level", "limit", "after"}, Answer: page[appliance.Grid]{}},
	{Method: "POST", Path: "/api/v1/grids", Summary: "新增或修改网格", Access: string(appliance.PermManageGrid), Body: appliance.Grid{}, Status: 201, Answer: appliance.Grid{}},
	{Method: "GET", Path: "/api/v1/staff", Summary: "网格人员", Access: string(appliance.PermViewDashboard), Query: []string{"grid", "duty", "limit", "after"}, Answer: page[appliance.StaffMember]{}},
	{Method: "POST", Path: "/api/v1/staff", Summary: "新增或修改网格人员", Access: string(appliance.PermManageGrid), Body: appliance.StaffMember{}, Status: 201, Answer: appliance.StaffMember{}},
	{Method: "GET", Path: "/api/v1/duty", Summary: "值班表", Access: "public", Query: []string{"from", "to", "limit", "after"}, Answer: page[appliance.DutyShift]{}},
	{Method: "POST", Path: "/api/v1/duty", Summary: "安排、修改或取消值班", Access: string(appliance.PermManageDuty), Body: appliance.DutyShift{}, Status: 201, Answer: appliance.DutyShift{}},
	{Method: "GET", Path: "/api/v1/duty/log", Summary: "一天的值班记录（签到、来电来访、广播、交接班）", Access: string(appliance.PermViewDashboard), Query: []string{"date", "grid"}, Answer: appliance.DutyDay{}},
	{Method: "POST", Path: "/api/v1/duty/log", Summary: "记一条值班记录（来电来访可同时登记为问题）", Access: string(appliance.PermKeepDuty), Body: dutyLogIn{}, Status: 201, Answer: appliance.DutyLog{}},
	{Method: "GET", Path: "/api/v1/meetings", Summary: "会议和未完成的交办事项", Access: string(appliance.PermViewDashboard), Query: []string{"from", "to"}, Answer: meetingsDoc{}},
	{Method: "GET", Path: "/api/v1/meetings/:id", Summary: "一次会议：签到、纪要、交办事项", Access: string(appliance.PermViewDashboard), Answer: meetingDoc{}},

	// The assessment (docs/assessment.md).
	{Method: "GET", Path: "/api/v1/assess/rules", Summary: "考核规则表：某日施行的一版和全部版本", Access: string(appliance.PermViewDashboard), Query: []string{"day"}, Answer: ruleTablesDoc{}},
	{Method: "POST", Path: "/api/v1/assess/rules", Summary: "乡镇发布新一版考核规则（自某日起施行，不改动过去）", Access: string(appliance.PermAssess), Body: appliance.RuleTable{}, Status: 201, Answer: appliance.RuleTable{}},
	{Method: "GET", Path: "/api/v1/assess/scores", Summary: "一个考核周期的积分、名次和每一分的依据", Access: string(appliance.PermViewDashboard), Query: []string{"period"}, Answer: scoresDoc{}},
	{Method: "GET", Path: "/api/v1/assess/findings", Summary: "督查发现、异议和处理结果", Access: string(appliance.PermViewDashboard), Answer: findingsDoc{}},
	{Method: "POST", Path: "/api/v1/assess/findings", Summary: "督查人员记录督查发现（适用规则和次数）", Access: string(appliance.PermAssess), Body: appliance.Finding{}, Status: 201, Answer: appliance.Finding{}},
	{Method: "POST", Path: "/api/v1/assess/findings/:id/objection", Summary: "被督查的村对督查发现提出异议（每条一次）", Access: string(appliance.PermManageMeetings), Body: objectionDoc{}, Status: 201, Answer: appliance.Objection{}},
	{Method: "POST", Path: "/api/v1/assess/department-ratings", Summary: "村对办理本村问题的乡镇职能部门评议（及时性、办理结果）", Access: string(appliance.PermManageMeetings), Body: appliance.DeptRating{}, Status: 201, Answer: appliance.DeptRating{}},
	{Method: "POST", Path: "/api/v1/assess/appraisals", Summary: "出具或修改下沉干部年度鉴定（依据由节点按全年记录算出），打印种类 appraisal", Access: string(appliance.PermManageMeetings), Body: appliance.Appraisal{}, Status: 201, Answer: appliance.Appraisal{}},
	{Method: "GET", Path: "/api/v1/assess/inspections", Summary: "督查计划（定期检查、随机抽查及其抽签、暗访）", Access: string(appliance.PermAssess), Answer: inspectionsDoc{}},
	{Method: "POST", Path: "/api/v1/assess/inspections", Summary: "制定督查计划；随机抽查记录种子和抽签结果，可复核", Access: string(appliance.PermAssess), Body: planDoc{}, Status: 201, Answer: appliance.Inspection{}},
	{Method: "GET", Path: "/api/v1/assess/towns", Summary: "市级季度、年度排名：各乡镇报送的村积分，乡镇按所辖村平均分排名", Access: string(appliance.PermViewDashboard), Query: []string{"period"}, Answer: cityRankingDoc{}},
	{Method: "POST", Path: "/api/v1/assess/findings/:id/decision", Summary: "乡镇对异议作出处理决定", Access: string(appliance.PermAssess), Body: decisionDoc{}, Answer: appliance.Finding{}},
	{Method: "GET", Path: "/api/v1/system", Summary: "本机状态：版本、存储、内存、备份、同步、打印机、时钟、证书指纹", Access: string(appliance.PermViewDashboard), Answer: SystemInfo{}},
	{Method: "GET", Path: "/api/v1/calendar", Summary: "法定节假日和调休安排（已录入的年份）", Access: string(appliance.PermViewDashboard), Answer: calendarDoc{}},
	{Method: "GET", Path: "/api/v1/notices", Summary: "公告", Access: "public", Answer: page[appliance.Notice]{}},
	{Method: "POST", Path: "/api/v1/notices", Summary: "发布、修改或撤回公告", Access: string(appliance.PermManageNotices), Body: appliance.Notice{}, Status: 201, Answer: appliance.Notice{}},
	{Method: "GET", Path: "/api/v1/stats/ledger", Summary: "账本条目统计", Access: string(appliance.PermViewDashboard), Answer: ledgerStatsDoc{}},
	{Method: "GET", Path: "/api/v1/replication", Summary: "同步状态", Access: string(appliance.PermViewDashboard), Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/events", Summary: "问题到达和变化的事件流（server-sent events；Last-Event-ID 续传）", Access: string(appliance.PermViewCases), Query: []string{"after"}, Answer: mediaSSE},

	// Cases.
	{Method: "GET", Path: "/api/v1/categories", Summary: "问题类别、细分类别、办理期限和可交办的部门", Access: "public", Answer: categoriesJSON{}},
	{Method: "POST", Path: "/api/v1/kiosk/cases", Summary: "自助终端反映问题（JSON，或带语音的 multipart 表单）", Access: "public", Body: bolt.CaseIntake{}, Multipart: true, Status: 201, Answer: receiptJSON{}},
	{Method: "GET", Path: "/api/v1/kiosk/phrases", Summary: "各类别的点选短语", Access: "public", Answer: phrasesDoc{}},
	{Method: "POST", Path: "/api/v1/kiosk/phrases", Summary: "修改点选短语", Access: string(appliance.PermManageKiosk), Body: phrasesDoc{}, Answer: phrasesDoc{}},
	{Method: "POST", Path: "/api/v1/track", Summary: "凭回执编号和查询密码查进度", Access: "public", Body: trackRequest{}, Answer: appliance.CaseProgress{}},
	{Method: "GET", Path: "/api/v1/track/scan", Summary: "凭回执二维码查进度", Access: "public", Query: []string{"token"}, Answer: appliance.CaseProgress{}},
	{Method: "POST", Path: "/api/v1/track/rate", Summary: "反映人评价办理结果", Access: "public", Body: trackRequest{}, Answer: appliance.CaseProgress{}},
	{Method: "GET", Path: "/api/v1/cases", Summary: "问题列表", Access: string(appliance.PermViewCases), Query: []string{"status", "level", "category", "group", "village", "open", "q", "limit", "after"}, Answer: page[*appliance.Case]{}},
	{Method: "POST", Path: "/api/v1/cases", Summary: "登记问题", Access: string(appliance.PermRegisterCase), Body: bolt.CaseIntake{}, Status: 201, Answer: receiptJSON{}},
	{Method: "GET", Path: "/api/v1/cases/due", Summary: "即将到期和超期的问题", Access: string(appliance.PermViewCases), Answer: page[bolt.DueCase]{}},
	{Method: "GET", Path: "/api/v1/cases/callbacks", Summary: "待回电和待分类", Access: string(appliance.PermRegisterCase), Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/cases/:id/voice", Summary: "问题的语音留言", Access: string(appliance.PermViewCases), Query: []string{"n"}, Answer: mediaWebM},
	{Method: "GET", Path: "/api/v1/cases/stats", Summary: "问题统计（按部门、类别×结果、细分类别；可按类别、时段、地点筛选）", Access: string(appliance.PermViewDashboard), Query: []string{"period", "date", "from", "to", "scope", "category"}, Answer: statsDoc{}},
	{Method: "GET", Path: "/api/v1/cases/town-reports", Summary: "各乡镇上报的统计", Access: string(appliance.PermViewDashboard), Query: []string{"period", "date"}, Answer: page[appliance.TownStats]{}},
	{Method: "GET", Path: "/api/v1/cases/register", Summary: "台账", Access: string(appliance.PermViewDashboard), Query: []string{"period", "date"}, Answer: page[bolt.RegisterDay]{}},
	{Method: "POST", Path: "/api/v1/cases/register/close", Summary: "台账关账", Access: string(appliance.PermEscalateCase), Body: registerCloseDoc{}, Status: 201, Answer: bolt.RegisterDay{}},
	{Method: "GET", Path: "/api/v1/cases/:id", Summary: "一个问题及其办理经过", Access: string(appliance.PermViewCases), Answer: appliance.Case{}},
	{Method: "POST", Path: "/api/v1/cases/:id/:action", Summary: "办理一步（assign, escalate, return, dispatch, meeting, milestone, resolve, feedback, followup, merge, invalid, note, callback, classify）", Access: string(appliance.PermNoteCase), Body: appliance.CaseStep{}, Answer: appliance.Case{}},

	// Households.
	{Method: "GET", Path: "/api/v1/households", Summary: "户", Access: string(appliance.PermViewArchive), Query: []string{"group", "limit", "after"}, Answer: page[appliance.Household]{}},
	{Method: "POST", Path: "/api/v1/households", Summary: "新建户及其成员", Access: string(appliance.PermEditArchive), Body: householdJSON{}, Status: 201, Answer: householdJSON{}},
	{Method: "GET", Path: "/api/v1/households/:id", Summary: "一户及其成员", Access: string(appliance.PermViewArchive), Answer: householdJSON{}},
	{Method: "PUT", Path: "/api/v1/households/:id", Summary: "修改户的信息", Access: string(appliance.PermEditArchive), Body: appliance.Household{}, Answer: householdJSON{}},
	{Method: "GET", Path: "/api/v1/households/:id/history", Summary: "户的变更、走访和查看记录", Access: string(appliance.PermViewArchive), Answer: looseDoc{}, Loose: true},
	{Method: "POST", Path: "/api/v1/households/:id/events", Summary: "户的变动（迁出、新户主、出生、分户、合户、迁移、外出）", Access: string(appliance.PermEditArchive), Body: eventJSON{}, Answer: householdJSON{}},
	{Method: "POST", Path: "/api/v1/households/:id/members", Summary: "增加成员", Access: string(appliance.PermEditArchive), Body: appliance.Person{}, Status: 201, Answer: appliance.Person{}},
	{Method: "GET", Path: "/api/v1/households/:id/appointments", Summary: "一户的预约", Access: string(appliance.PermViewArchive), Query: []string{"from", "scheduled"}, Answer: page[appliance.Appointment]{}},
	{Method: "PUT", Path: "/api/v1/members/:pid", Summary: "修改成员", Access: string(appliance.PermEditArchive), Body: appliance.Person{}, Answer: appliance.Person{}},
	{Method: "POST", Path: "/api/v1/members/:pid/reveal", Summary: "查看未遮挡的个人信息（记录在案）", Access: string(appliance.PermRevealPersonal), Query: []string{"purpose"}, Answer: appliance.Person{}},
	{Method: "GET", Path: "/api/v1/search", Summary: "查找人员", Access: string(appliance.PermViewArchive), Query: []string{"q", "group", "dibao", "away", "alone80", "disabled", "key", "limit"}, Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/duplicates", Summary: "疑似重复人员", Access: string(appliance.PermViewArchive), Answer: looseDoc{}, Loose: true},
	{Method: "POST", Path: "/api/v1/duplicates", Summary: "处理疑似重复", Access: string(appliance.PermEditArchive), Body: appliance.DupDecision{}, Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/stats/groups", Summary: "各组人口统计", Access: string(appliance.PermViewArchive), Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/visits", Summary: "走访记录", Access: string(appliance.PermRecordVisit), Query: []string{"worker", "from", "to", "limit", "after"}, Answer: page[appliance.Visit]{}},
	{Method: "POST", Path: "/api/v1/visits", Summary: "记录走访或巡查", Access: string(appliance.PermRecordVisit), Body: appliance.Visit{}, Status: 201, Answer: appliance.Visit{}},
	{Method: "GET", Path: "/api/v1/visits/coverage", Summary: "走访覆盖情况", Access: string(appliance.PermRecordVisit), Query: []string{"from"}, Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/visits/diary", Summary: "民情日记", Access: string(appliance.PermRecordVisit), Query: []string{"worker", "from", "to"}, Answer: looseDoc{}, Loose: true},
	{Method: "POST", Path: "/api/v1/appointments", Summary: "预约或修改预约", Access: string(appliance.PermEditArchive), Body: appliance.Appointment{}, Status: 201, Answer: appliance.Appointment{}},
	{Method: "POST", Path: "/api/v1/import/dry-run", Summary: "导入户籍表：试导入", Access: string(appliance.PermEditArchive), Multipart: true, Answer: importAnswer{}},
	{Method: "POST", Path: "/api/v1/import/commit", Summary: "导入户籍表：正式导入", Access: string(appliance.PermEditArchive), Multipart: true, Answer: importAnswer{}},
	{Method: "GET", Path: "/api/v1/import/mapping", Summary: "记住的表头对应", Access: string(appliance.PermEditArchive), Answer: looseDoc{}, Loose: true},
	{Method: "PUT", Path: "/api/v1/import/mapping", Summary: "修改记住的表头对应", Access: string(appliance.PermEditArchive), Body: appliance.ImportMapping{}, Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/import/:token/refused.xlsx", Summary: "未导入的行", Access: string(appliance.PermEditArchive), Answer: mediaXLSX},
	{Method: "GET", Path: "/api/v1/export.xlsx", Summary: "导出户和成员", Access: string(appliance.PermViewArchive), Query: []string{"full"}, Answer: mediaXLSX},

	// Printing.
	{Method: "GET", Path: "/api/v1/print/documents", Summary: "可打印的文书和打印机", Access: string(appliance.PermPrint), Answer: looseDoc{}, Loose: true},
	{Method: "GET", Path: "/api/v1/print/pdf", Summary: "文书的 PDF", Access: string(appliance.PermPrint), Query: []string{"kind", "paper", "case", "span", "from", "group", "household", "day", "period", "date"}, Answer: mediaPDF},
	{Method: "POST", Path: "/api/v1/print/", Summary: "打印文书", Access: string(appliance.PermPrint), Body: appliance.PrintRequest{}, Status: 201, Answer: appliance.PrintJob{}},
	{Method: "GET", Path: "/api/v1/print/jobs", Summary: "打印任务", Access: string(appliance.PermPrint), Answer: page[appliance.PrintJob]{}},
	{Method: "POST", Path: "/api/v1/print/jobs/:id/retry", Summary: "重新打印", Access: string(appliance.PermPrint), Answer: appliance.PrintJob{}},
}

var pathParamRE = regexp.MustCompile(`:([A-Za-z_]+)`)

// openAPIPath turns a fiber pattern into an OpenAPI path template.
func openAPIPath(p string) string { return pathParamRE.ReplaceAllString(p, "{$1}") }

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

// OpenAPIDocument is the document as served.
func OpenAPIDocument() []byte {
	openAPIOnce.Do(func() {
		data, err := json.MarshalIndent(buildOpenAPI(), "", " ")
		if err != nil {
			panic("openapi: " + err.Error())
		}
		openAPIDoc = data
	})
	return openAPIDoc
}

func buildOpenAPI() map[string]any {
	g := newSchemaGen()
	errRef := g.of(reflect.TypeFor[errorDoc]())
	paths := map[string]map[string]any{}
	for _, op := range apiOps {
		o := map[string]any{"summary": op.Summary, "operationId": strings.ToLower(op.Method) + notNameRE.ReplaceAllString(strings.TrimPrefix(op.Path, "/api/v1"), "_")}
		var params []any
		for _, m := range pathParamRE.FindAllStringSubmatch(op.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if op.Method == "POST" && op.Path != "/api/v1/token" && op.Path != "/api/v1/password" {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "重试同一请求时带上相同的值：返回第一次的答复，不会重复写入（docs/api.md，Retries）", "schema": map[string]any{"type": "string", "maxLength": 100}})
		}
		if params != nil {
			o["parameters"] = params
		}
		switch op.Access {
		case "public":
			o["security"] = []any{}
			o["x-gridbox-access"] = "public"
		default:
			o["x-gridbox-access"] = op.Access
		}
		content := map[string]any{}
		if op.Body != nil {
			content["application/json"] = map[string]any{"schema": g.of(reflect.TypeOf(op.Body))}
		}
		if op.Multipart {
			content["multipart/form-data"] = map[string]any{"schema": map[string]any{"type": "object"}}
		}
		if len(content) > 0 {
			o["requestBody"] = map[string]any{"required": op.Body != nil && !op.Multipart, "content": content}
		}
		status := op.Status
		if status == 0 {
			status = 200
		}
		ok := map[string]any{"description": http.StatusText(status)}
		switch a := op.Answer.(type) {
		case nil:
		case string:
			ok["content"] = map[string]any{a: map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		default:
			var s map[string]any
			if op.Loose {
				s = map[string]any{"type": "object", "description": "此答复的字段见 docs/api.md"}
			} else {
				s = g.of(reflect.TypeOf(a))
			}
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
		}
		o["responses"] = map[string]any{
			strconv.Itoa(status): ok,
			"default":            map[string]any{"description": "错误：code、message（中文）、field（出错的字段、参数或请求头）", "content": map[string]any{"application/json": map[string]any{"schema": errRef}}},
		}
		p := openAPIPath(op.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(op.Method)] = o
	}
	var names []string
	for n := range g.components {
		names = append(names, n)
	}
	sort.Strings(names)
	return map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{"title": "gridbox API", "version": "1",
			"description": "网格化管理一体机的 JSON 接口。说明和示例：docs/api.md。脚本用 API 令牌（Authorization: Bearer gbt_…），浏览器用会话 Cookie 加 X-CSRF-Token 请求头。"},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"token":   map[string]any{"type": "http", "scheme": "bearer", "description": "API 令牌 gbt_…"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": cookieSession, "description": "浏览器会话；写操作还须带 X-CSRF-Token 请求头"},
			},
		},
		"security": []any{map[string]any{"token": []any{}}, map[string]any{"session": []any{}}},
	}
}

func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/api/v1/openapi.json", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
			c.Set(fiber.HeaderCacheControl, "public, max-age=300") // nothing personal in it
			return c.Send(OpenAPIDocument())
		})
	})
}
