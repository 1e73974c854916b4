package appliance

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // boxes may have no zoneinfo

	"github.com/BurntSushi/toml"
)

// ConfigFile is the name of the configuration file in the data folder.
const ConfigFile = "gridbox.toml"

// Config is the node's configuration: one file in the data folder; every
// value has a default (DefaultConfig). docs/config.md documents each.
type Config struct {
	Node      Node            `toml:"node"`
	HTTP      HTTPConfig      `toml:"http"`
	Limits    LimitsConfig    `toml:"limits"`
	TimeZone  string          `toml:"time_zone"`
	DutyPhone string          `toml:"duty_phone"` // 值班电话 shown on the kiosk and cards
	DutyRoom  string          `toml:"duty_room"`  // where the duty room is
	Services  []ServiceItem   `toml:"services"`
	Cases     CasesConfig     `toml:"cases"`
	Archive   ArchiveConfig   `toml:"archive"`
	Calendar  CalendarConfig  `toml:"calendar"`
	Print     PrintConfig     `toml:"print"`
	Replicate ReplicateConfig `toml:"replicate"`
	Kiosk     KioskConfig     `toml:"kiosk"`
	Duty      DutyConfig      `toml:"duty"` // the duty roster (roster.go)
	Backup    BackupConfig    `toml:"backup"`
	Upgrade   UpgradeConfig   `toml:"upgrade"`
}

// BackupConfig configures the nightly backups.
type BackupConfig struct {
	// Dir is the folder backups go to, e.g. a USB stick mounted by label
	// (the image mounts the stick labelled GRIDBOXBAK at
	// /media/gridbox-backup); "": no nightly backups.
	Dir    string `toml:"dir"`
	At     string `toml:"at"`     // local time of the nightly backup, "02:30"
	Daily  int    `toml:"daily"`  // daily copies kept
	Weekly int    `toml:"weekly"` // weekly copies kept (the newest of each week)
	// SeparateDisk refuses a folder on the data folder's own disk: a stick
	// that is not plugged in leaves an empty mount point there.
	SeparateDisk bool `toml:"separate_disk"`
}

// UpgradeConfig configures signed upgrades.
type UpgradeConfig struct {
	// ReleaseKey is the county's release key (hex ed25519 public key):
	// only release files it signed are installed. Set at provisioning.
	ReleaseKey string `toml:"release_key"`
	// HealthyWithin: a new release not healthy this long after its start
	// is rolled back.
	HealthyWithin Duration `toml:"healthy_within"`
	// FromParent: install a release the parent (town) hands down, fetched
	// each time the node reaches its parent. Off by default.
	FromParent bool `toml:"from_parent"`
}

// KioskConfig tunes the kiosk screen for villagers (docs/cases.md,
// "Kiosk"). A kiosk page returns home after http.kiosk_idle without a
// touch, key or recording; these say when it warns and how long the
// receipt and pages without JavaScript stay.
type KioskConfig struct {
	IdleWarning  Duration `toml:"idle_warning"`  // the 还在吗 warning shows this long before the reset
	ReceiptIdle  Duration `toml:"receipt_idle"`  // the receipt page's idle time (the villager copies the code)
	NoScriptIdle Duration `toml:"noscript_idle"` // without JavaScript a page returns home this long after loading
}

// HTTPConfig configures the web server.
type HTTPConfig struct {
	Listen string `toml:"listen"`
	// TLSListen is where staff pages are served over HTTPS with the box's
	// own certificate; "" turns HTTPS off (then staff may log in over
	// plain HTTP from the LAN: not advised).
	TLSListen   string   `toml:"tls_listen"`
	KioskIdle   Duration `toml:"kiosk_idle"`   // a staff session on the kiosk ends after this
	SessionIdle Duration `toml:"session_idle"` // other staff sessions
	KioskAddrs  []string `toml:"kiosk_addrs"`  // clients that are the kiosk screen
	LockAfter   int      `toml:"lock_after"`   // failed logins in a row before the account locks
	LockFor     Duration `toml:"lock_for"`
	// LockAfterAddr: failed logins from one address before it locks; 0: 4 × lock_after.
	LockAfterAddr int `toml:"lock_after_addr"`
	// TokenTTL is how long a new API token lives; 0: 90 days.
	TokenTTL Duration `toml:"token_ttl"`
}

// LimitsConfig bounds what people without a login may do, per device and
// in all, so that no one on the village LAN can flood the box. The kiosk
// screen (http.kiosk_addrs) has its own allowance, so a flood from the LAN
// never locks out the villagers standing at it.
type LimitsConfig struct {
	ReportsPerClient Rate `toml:"reports_per_client"` // case reports and callback requests from one LAN device
	ReportsAll       Rate `toml:"reports_all"`        // … from all LAN devices together
	ReportsScreen    Rate `toml:"reports_screen"`     // … from the kiosk screen
	PostsPerClient   Rate `toml:"posts_per_client"`   // any other submission without a login (lookups, logins), per device
	// MemoryMiB is the memory the node tries to stay within (Go's soft
	// memory limit: the collector works harder near it); 0: no limit.
	// The GOMEMLIMIT environment variable overrides it.
	MemoryMiB int `toml:"memory_mib"`
}

// The default memory_mib: a village box shares 1 GB with the kiosk
// browser and CUPS; a town or city takes batches from many children at
// once.
const (
	VillageMemoryMiB = 96
	TownMemoryMiB    = 512
)

// DefaultMemoryMiB is the default memory_mib of a node of role.
func DefaultMemoryMiB(role string) int {
	if role == NodeVillage {
		return VillageMemoryMiB
	}
	return TownMemoryMiB
}

// Rate is "N/period", e.g. "5/10m": N at once, then N per period.
type Rate struct {
	N   int
	Per time.Duration
}

func (r *Rate) UnmarshalText(b []byte) error {
	n, per, ok := strings.Cut(string(b), "/")
	if !ok {
		return fmt.Errorf("rate %q: want N/period, e.g. 5/10m", b)
	}
	v, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || v < 0 {
		return fmt.Errorf("rate %q: want N/period, e.g. 5/10m", b)
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil || d <= 0 {
		return fmt.Errorf("rate %q: want N/period, e.g. 5/10m", b)
	}
	r.N, r.Per = v, d
	return nil
}

func (r Rate) MarshalText() ([]byte, error) {
	per := r.Per.String()
	switch {
	case r.Per%time.Hour == 0:
		per = strconv.Itoa(int(r.Per/time.Hour)) + "h"
	case r.Per%time.Minute == 0:
		per = strconv.Itoa(int(r.Per/time.Minute)) + "m"
	}
	return []byte(strconv.Itoa(r.N) + "/" + per), nil
}

// ServiceItem is one service the village offers (服务事项).
type ServiceItem struct {
	Name      string   `toml:"name" json:"name"`
	Procedure string   `toml:"procedure" json:"procedure"`
	Materials []string `toml:"materials" json:"materials,omitempty"`
	Where     string   `toml:"where" json:"where,omitempty"`
	Kinds     []string `toml:"kinds" json:"kinds,omitempty"` // 上门服务 / 代办服务 / 预约服务 / 咨询服务
	Who       string   `toml:"who" json:"who,omitempty"`     // who may ask (e.g. 80岁以上老人、残疾人)
	TimeLimit string   `toml:"time_limit" json:"time_limit,omitempty"`
}

// Category is a case category.
type Category struct {
	Key   string `toml:"key"`
	Name  string `toml:"name"`  // the official name (非法建设)
	Plain string `toml:"plain"` // in plain words on the kiosk button (乱搭乱建), the official name small beneath
	Icon  string `toml:"icon"`  // name of the picture on the kiosk button
	Note  string `toml:"note"`
	// Phrases are common problems a villager can tap instead of typing;
	// the village lead edits them on /staff/kiosk/phrases.
	Phrases []string `toml:"phrases"`
	// Triage (其他 / 说不清): the case goes to the duty room (village
	// level, whatever group was chosen) for the duty staff to sort out; it
	// may not auto-escalate.
	Triage bool `toml:"triage,omitempty"`
	// Deadlines overrides cases.deadlines for this category: level → working days.
	Deadlines map[string]int `toml:"deadlines,omitempty"`
	// AutoEscalate: a case of this category overdue at a level goes up by itself.
	AutoEscalate bool `toml:"auto_escalate,omitempty"`
	// Subcategories narrow the category (公共事务 → 林木病虫害); a case may
	// name one, and statistics count them (docs/cases.md).
	Subcategories []Subcategory `toml:"subcategories,omitempty"`
}

// CasesConfig configures case handling.
type CasesConfig struct {
	Categories []Category `toml:"categories"`
	// Deadlines: working days a level has for a case (group, village, town, city).
	Deadlines   map[string]int `toml:"deadlines"`
	NearDays    int            `toml:"near_days"`   // working days before a deadline that count as near
	PINTries    int            `toml:"pin_tries"`   // wrong receipt PINs before the code locks
	PINLock     Duration       `toml:"pin_lock"`    // how long it stays locked
	Departments []string       `toml:"departments"` // town departments offered when dispatching
}

// ArchiveConfig configures the household archive.
type ArchiveConfig struct {
	KeyPersonCategories []string `toml:"key_person_categories"`
	VisitDailyTarget    int      `toml:"visit_daily_target"`  // visits per worker per working day; 0: 3
	VisitCoverageDays   int      `toml:"visit_coverage_days"` // every household visited within this many days; 0: 30
}

// CalendarConfig is the official calendar for working days.
type CalendarConfig struct {
	Holidays []string `toml:"holidays"` // YYYY-MM-DD days off
	Workdays []string `toml:"workdays"` // YYYY-MM-DD weekend days that are worked (调休)
}

// PrintConfig configures printing.
type PrintConfig struct {
	Printer string `toml:"printer"` // CUPS queue for every document; empty: download PDFs instead
	// Printers sends document kinds to their own queues: receipt =
	// "thermal", notice = "laser", or a kind on one paper: receipt-a5.
	Printers map[string]string `toml:"printers"`
	// FontDirs are the folders searched for fonts drawing rare characters
	// (CJK Extensions A–F) the built-in font lacks; empty: the system's.
	FontDirs []string `toml:"font_dirs"`
	// PublicURL is where phones reach this box (https://…); QR codes on
	// cards and receipts are then links to it. TownURL instead: where phones
	// reach the town node, which answers for this box. Neither: the codes
	// are read only by the kiosk's scanner.
	PublicURL string `toml:"public_url"`
	TownURL   string `toml:"town_url"`
}

// ReplicateConfig configures replication.
type ReplicateConfig struct {
	Bind      string   `toml:"bind"`       // memberlist address, e.g. 0.0.0.0:7946
	Advertise string   `toml:"advertise"`  // address others reach this node at, if not Bind
	Keys      []string `toml:"keys"`       // cluster keyring, base64 AES keys; the first encrypts (docs/replication.md: rotation)
	ParentKey string   `toml:"parent_key"` // hex node key of the parent; empty: trust the first node met at node.parent
	Fast      bool     `toml:"fast"`       // short gossip intervals: several nodes on one machine (demo), not for real links
	SealedUp  string   `toml:"sealed_up"`  // sensitive parts to the parent: "" (village keeps, town strips), "keep", "strip"
}

// Duration is a time.Duration written as "3m" in the file.
type Duration struct{ time.Duration }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// DefaultConfig returns the configuration used for every value not in the file.
func DefaultConfig() Config {
	return Config{
		HTTP: HTTPConfig{
			Listen:      ":8080",
			TLSListen:   ":8443",
			KioskIdle:   Duration{3 * time.Minute},
			SessionIdle: Duration{8 * time.Hour},
			KioskAddrs:  []string{"127.0.0.1", "::1"},
			LockAfter:   5,
			LockFor:     Duration{15 * time.Minute},
		},
		Limits: LimitsConfig{
			ReportsPerClient: Rate{5, 10 * time.Minute},
			ReportsAll:       Rate{60, time.Hour},
			ReportsScreen:    Rate{30, 10 * time.Minute},
			PostsPerClient:   Rate{60, time.Minute},
			MemoryMiB:        VillageMemoryMiB,
		},
		Backup:   BackupConfig{At: "02:30", Daily: 7, Weekly: 4, SeparateDisk: true},
		Upgrade:  UpgradeConfig{HealthyWithin: Duration{time.Minute}},
		TimeZone: "Asia/Shanghai",
		DutyRoom: "村委会一楼值班室",
		Duty:     DefaultDutyConfig(),
		Services: []ServiceItem{
			{Name: "低保申请", Procedure: "本人或家属到值班室提出申请，填写申请表，村里入户核查、公示后报乡镇审核。", Materials: []string{"户口簿", "身份证", "家庭收入情况说明"}, Where: "村值班室", Kinds: []string{"代办服务"}},
			{Name: "医保参保缴费", Procedure: "每年9月至12月集中缴费，可到值班室由网格员代办。", Materials: []string{"身份证或户口簿"}, Where: "村值班室", Kinds: []string{"代办服务"}},
			{Name: "出具证明", Procedure: "到值班室说明用途，村里核实后出具并盖章。", Materials: []string{"身份证"}, Where: "村值班室", Kinds: []string{"预约服务"}},
			{Name: "残疾人证办理", Procedure: "网格员协助预约县医院评残，材料由村里代为报送。", Materials: []string{"身份证", "户口簿", "两寸照片"}, Where: "村值班室", Kinds: []string{"代办服务", "预约服务"}},
			{Name: "老年人上门服务", Procedure: "80岁以上老人、行动不便的群众可电话预约，网格员上门办理。", Materials: nil, Where: "上门", Kinds: []string{"上门服务"}},
		},
		Cases: CasesConfig{Categories: defaultCategories(),
			Deadlines:   map[string]int{"group": 3, "village": 5, "town": 10, "city": 15},
			NearDays:    1,
			PINTries:    5,
			PINLock:     Duration{30 * time.Minute},
			Departments: []string{"综治办", "派出所", "安监站", "国土所", "市场监管所", "环保所", "农业服务中心", "林业站", "畜牧兽医站", "民政所", "交通管理站", "水利站"},
		},
		Kiosk: KioskConfig{
			IdleWarning:  Duration{10 * time.Second},
			ReceiptIdle:  Duration{10 * time.Minute},
			NoScriptIdle: Duration{10 * time.Minute},
		},
		Archive: ArchiveConfig{KeyPersonCategories: []string{
			"精神障碍患者", "刑满释放人员", "社区矫正人员", "吸毒人员", "重点信访人员",
			"留守儿童", "留守老人", "空巢老人", "残疾人", "特困供养人员",
		}},
	}
}

// LoadConfig reads the file at path over the defaults and validates it.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	// An array of tables decodes into the elements already there, field by
	// field: a file's third category would keep the default third's
	// settings it leaves out. Decode lists into empty ones.
	defCats, defServices := cfg.Cases.Categories, cfg.Services
	cfg.Cases.Categories, cfg.Services = nil, nil
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	if !md.IsDefined("cases", "categories") {
		cfg.Cases.Categories = defCats
	}
	if !md.IsDefined("services") {
		cfg.Services = defServices
	}
	if !md.IsDefined("limits", "memory_mib") {
		cfg.Limits.MemoryMiB = DefaultMemoryMiB(cfg.Node.Role)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return cfg, fmt.Errorf("config %s: unknown setting %q", path, und[0].String())
	}
	cfg.fillCategoryDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if err := c.Node.Validate(); err != nil {
		return err
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		return FieldError("time_zone", "未知时区 %q", c.TimeZone)
	}
	if err := ValidatePhone("duty_phone", c.DutyPhone, false); err != nil {
		return err
	}
	if err := c.Duty.Validate(); err != nil {
		return err
	}
	if c.HTTP.KioskIdle.Duration <= 0 || c.HTTP.SessionIdle.Duration <= 0 {
		return errors.New("http.kiosk_idle and http.session_idle must be positive")
	}
	if c.Kiosk.IdleWarning.Duration < 0 || c.Kiosk.ReceiptIdle.Duration <= 0 || c.Kiosk.NoScriptIdle.Duration <= 0 {
		return errors.New("kiosk: idle_warning must not be negative, receipt_idle and noscript_idle must be positive")
	}
	seen := map[string]bool{}
	for _, cat := range c.Cases.Categories {
		if !idRE.MatchString(cat.Key) || cat.Name == "" || seen[cat.Key] {
			return fmt.Errorf("cases.categories: bad or repeated key %q", cat.Key)
		}
		seen[cat.Key] = true
		if cat.Triage && cat.AutoEscalate {
			return fmt.Errorf("cases.categories %s: a triage category (其他 / 说不清) cannot auto_escalate", cat.Key)
		}
		if err := ValidatePhrases(cat.Phrases); err != nil {
			return fmt.Errorf("cases.categories %s: %s", cat.Key, ErrorMessage(err))
		}
		if err := validateSubcategories(cat); err != nil {
			return err
		}
		for l, n := range cat.Deadlines {
			if !contains(CaseLevels, l) || n < 0 {
				return fmt.Errorf("cases.categories %s: bad deadline %q = %d", cat.Key, l, n)
			}
		}
	}
	for l, n := range c.Cases.Deadlines {
		if !contains(CaseLevels, l) || n < 0 {
			return fmt.Errorf("cases.deadlines: bad level %q or days %d", l, n)
		}
	}
	if _, err := time.Parse("15:04", c.Backup.At); err != nil {
		return fmt.Errorf("backup.at: want HH:MM, got %q", c.Backup.At)
	}
	if c.Backup.Daily < 1 || c.Backup.Weekly < 0 {
		return errors.New("backup.daily must be at least 1 and backup.weekly at least 0")
	}
	if k := c.Upgrade.ReleaseKey; k != "" {
		if _, err := ParseFeedID(k); err != nil {
			return fmt.Errorf("upgrade.release_key: want 64 hex digits (gridbox release-key prints it)")
		}
	}
	if c.Upgrade.HealthyWithin.Duration <= 0 {
		return errors.New("upgrade.healthy_within must be positive")
	}
	if _, err := NewCalendar(c.Calendar); err != nil {
		return fmt.Errorf("calendar: %w", err)
	}
	return c.Print.Validate()
}

// ValidQueue says whether q can be a CUPS queue name as lp takes it.
func ValidQueue(q string) bool {
	return !strings.ContainsAny(q, " /#\t\n") && !strings.HasPrefix(q, "-")
}

// Validate checks the printers' queue names (as lp takes them) and that
// each maps a document kind, optionally with a paper (receipt-a5).
func (p *PrintConfig) Validate() error {
	queue := ValidQueue
	if !queue(p.Printer) {
		return fmt.Errorf("print.printer: invalid CUPS queue name %q", p.Printer)
	}
	for k, q := range p.Printers {
		if !idRE.MatchString(k) || q == "" || !queue(q) {
			return fmt.Errorf("print.printers: %q = %q: want a document kind (or kind-paper) and a CUPS queue name", k, q)
		}
	}
	for name, v := range map[string]*string{"print.public_url": &p.PublicURL, "print.town_url": &p.TownURL} {
		if *v == "" {
			continue
		}
		u, err := url.Parse(*v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("%s: %q is not an address phones can open, such as https://xinghua.example.cn", name, *v)
		}
		*v = strings.TrimRight(*v, "/")
	}
	return nil
}

// Location returns the display time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// Category returns the category with key k.
func (c *Config) Category(k string) (Category, bool) {
	for _, cat := range c.Cases.Categories {
		if cat.Key == k {
			return cat, true
		}
	}
	return Category{}, false
}

// CaseDeadlineDays is the working days a level has for a case of category:
// the category's own setting, else the level's default, else 0 (none).
func (c *Config) CaseDeadlineDays(category, level string) int {
	if cat, ok := c.Category(category); ok {
		if n, ok := cat.Deadlines[level]; ok {
			return n
		}
	}
	return c.Cases.Deadlines[level]
}

// ReplaceConfig writes cfg over the file at path: a new file beside it,
// synced, renamed into place and the folder synced, so a crash leaves the
// old file or the new one, never half of one.
func ReplaceConfig(path string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	tmp := path + ".new"
	os.Remove(tmp)
	if err := WriteConfig(tmp, cfg); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace config: %w", err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Sync()
}

// WriteConfig writes cfg as a new file at path, with a header pointing at
// the documentation; it refuses to overwrite.
func WriteConfig(path string, cfg Config) error {
	var buf bytes.Buffer
	buf.WriteString("# gridbox configuration. Every setting and its default: docs/config.md.\n")
	buf.WriteString("# Settings left out take their defaults.\n\n")
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
