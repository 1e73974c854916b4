package pgfeed

import (
	"fmt"
	"strings"
)

// The target's tables and views, all in schema gridbox. Only plain SQL
// that the PostgreSQL family shares: CREATE ... IF NOT EXISTS, text[]
// arrays, jsonb, INSERT ... ON CONFLICT, COPY, temporary tables, CASE
// inside sum() (no FILTER), advisory locks. docs/replication.md says which
// engines serve.

// tables are created once and never dropped by the feed.
const tables = `
CREATE SCHEMA IF NOT EXISTS gridbox;

CREATE TABLE IF NOT EXISTS gridbox.feed_sources (
	source text PRIMARY KEY,
	role text NOT NULL,
	code text NOT NULL,
	name text NOT NULL
);

CREATE TABLE IF NOT EXISTS gridbox.feed_schema (
	views text PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS gridbox.feed_positions (
	source text NOT NULL,
	feed text NOT NULL,
	seq bigint NOT NULL,
	fed_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (source, feed)
);

CREATE TABLE IF NOT EXISTS gridbox.places (
	code text PRIMARY KEY,
	level integer NOT NULL,
	name text NOT NULL,
	parent text NOT NULL,
	kind text NOT NULL
);

CREATE TABLE IF NOT EXISTS gridbox.cases (
	id text PRIMARY KEY,
	town text NOT NULL,
	village text NOT NULL,
	grp text NOT NULL,
	category text NOT NULL,
	subcategory text NOT NULL,
	source text NOT NULL,
	origin text NOT NULL,
	level text NOT NULL,
	status text NOT NULL,
	top_level text NOT NULL,
	resolved_level text NOT NULL,
	resolved_late boolean NOT NULL,
	escalations integer NOT NULL,
	reopened integer NOT NULL,
	meetings integer NOT NULL,
	milestones integer NOT NULL,
	rating text NOT NULL,
	departments text[] NOT NULL,
	dispatched_to text[] NOT NULL,
	due date,
	reported timestamptz NOT NULL,
	reported_day date NOT NULL,
	resolved_at timestamptz,
	resolved_day date,
	minutes_to_resolve bigint NOT NULL,
	updated timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_village_day ON gridbox.cases (village, reported_day);

CREATE TABLE IF NOT EXISTS gridbox.case_steps (
	case_id text NOT NULL,
	feed text NOT NULL,
	seq bigint NOT NULL,
	n integer NOT NULL,
	action text NOT NULL,
	by_level text NOT NULL,
	from_level text NOT NULL,
	to_level text NOT NULL,
	day date NOT NULL,
	at timestamptz NOT NULL,
	departments text[] NOT NULL,
	due date,
	rating text NOT NULL,
	feedback_how text NOT NULL,
	callback_outcome text NOT NULL,
	effective boolean NOT NULL,
	PRIMARY KEY (case_id, feed, seq)
);

CREATE TABLE IF NOT EXISTS gridbox.household_counts (
	grp text PRIMARY KEY,
	village text NOT NULL,
	households bigint NOT NULL,
	people bigint NOT NULL,
	away bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS gridbox.period_stats (
	town text NOT NULL,
	name text NOT NULL,
	period text NOT NULL,
	period_from text NOT NULL,
	period_to text NOT NULL,
	as_of date NOT NULL,
	total bigint NOT NULL,
	resolved bigint NOT NULL,
	open bigint NOT NULL,
	escalated bigint NOT NULL,
	to_town bigint NOT NULL,
	to_city bigint NOT NULL,
	multi bigint NOT NULL,
	overdue bigint NOT NULL,
	resolved_late bigint NOT NULL,
	stats jsonb NOT NULL,
	PRIMARY KEY (town, period, period_from)
);
`

// totals are the figures of the statistics API's top level (appliance.CaseStats)
// over the rows of case_facts f grouped by the view; zero where a place
// has no case (left joins).
const totals = `
	count(f.id) AS total,
	coalesce(sum(CASE WHEN f.is_done THEN 1 ELSE 0 END), 0) AS resolved,
	coalesce(sum(CASE WHEN f.is_open THEN 1 ELSE 0 END), 0) AS open,
	CASE WHEN coalesce(sum(CASE WHEN f.counted THEN 1 ELSE 0 END), 0) > 0
		THEN sum(CASE WHEN f.is_done THEN 1 ELSE 0 END)::float8 / sum(CASE WHEN f.counted THEN 1 ELSE 0 END)
		ELSE 0 END AS resolution_rate,
	coalesce(sum(CASE WHEN f.escalations > 0 THEN 1 ELSE 0 END), 0) AS escalated,
	coalesce(sum(f.escalations), 0) AS escalations,
	coalesce(sum(CASE WHEN f.top_level IN ('town', 'city') THEN 1 ELSE 0 END), 0) AS to_town,
	coalesce(sum(CASE WHEN f.top_level = 'city' THEN 1 ELSE 0 END), 0) AS to_city,
	coalesce(sum(CASE WHEN f.is_multi THEN 1 ELSE 0 END), 0) AS multi,
	coalesce(sum(CASE WHEN f.is_overdue THEN 1 ELSE 0 END), 0) AS overdue,
	coalesce(sum(CASE WHEN f.is_done AND f.resolved_late THEN 1 ELSE 0 END), 0) AS resolved_late,
	coalesce(sum(CASE WHEN f.reopened > 0 THEN 1 ELSE 0 END), 0) AS reopened,
	coalesce(sum(CASE WHEN f.meetings > 0 THEN 1 ELSE 0 END), 0) AS joint_meetings,
	CASE WHEN coalesce(sum(CASE WHEN f.is_done THEN 1 ELSE 0 END), 0) > 0
		THEN sum(f.minutes_to_resolve)::float8 / 60 / sum(CASE WHEN f.is_done THEN 1 ELSE 0 END)
		ELSE 0 END AS avg_hours_to_resolve`

// views are dropped and made again at every start, so a new version of
// gridbox can change them.
var views = strings.ReplaceAll(strings.ReplaceAll(`
DROP VIEW IF EXISTS gridbox.stats_all, gridbox.stats_by_town, gridbox.stats_by_village, gridbox.stats_by_group,
	gridbox.stats_by_month, gridbox.stats_by_category, gridbox.stats_by_status, gridbox.stats_by_source,
	gridbox.stats_by_resolving_level, gridbox.stats_open_by_level, gridbox.stats_by_rating,
	gridbox.stats_by_category_outcome, gridbox.stats_by_subcategory, gridbox.stats_by_department,
	gridbox.households_by_village, gridbox.case_facts;

-- One row per case with what the statistics count. Overdue is about now,
-- in China Standard Time, as the nodes count it.
CREATE VIEW gridbox.case_facts AS
SELECT c.*,
	c.status IN ('pending', 'handling', 'dispatched', 'in_steps') AS is_open,
	c.status IN ('resolved', 'fed_back', 'closed') AS is_done,
	c.status NOT IN ('merged', 'invalid') AS counted,
	c.status IN ('pending', 'handling', 'dispatched', 'in_steps')
		AND (c.status = 'in_steps' OR coalesce(array_length(c.departments, 1), 0) >= 2) AS is_multi,
	c.status IN ('pending', 'handling', 'dispatched', 'in_steps') AND c.due IS NOT NULL
		AND c.due < (current_timestamp AT TIME ZONE 'Asia/Shanghai')::date AS is_overdue,
	CASE WHEN c.status IN ('pending', 'handling', 'dispatched', 'in_steps') THEN 'open'
		WHEN c.status IN ('resolved', 'fed_back', 'closed') AND c.resolved_late THEN 'resolved_late'
		WHEN c.status IN ('resolved', 'fed_back', 'closed') THEN 'resolved'
		WHEN c.status = 'merged' THEN 'merged'
		ELSE 'invalid' END AS outcome,
	to_char(c.reported_day, 'YYYY-MM') AS month
FROM gridbox.cases c;

CREATE VIEW gridbox.stats_all AS
SELECT TOTALS FROM gridbox.case_facts f;

PLACES
-- By the month cases were reported, per village: sum the rows of a
-- town's villages, or of the months of a quarter or year.
CREATE VIEW gridbox.stats_by_month AS
SELECT f.month, f.town, f.village, TOTALS,
	coalesce(sum(f.minutes_to_resolve), 0) AS minutes_to_resolve
FROM gridbox.case_facts f
GROUP BY f.month, f.town, f.village;

CREATE VIEW gridbox.stats_by_category AS
SELECT category, count(*) AS n FROM gridbox.cases GROUP BY category;

CREATE VIEW gridbox.stats_by_status AS
SELECT status, count(*) AS n FROM gridbox.cases GROUP BY status;

CREATE VIEW gridbox.stats_by_source AS
SELECT source, count(*) AS n FROM gridbox.cases GROUP BY source;

CREATE VIEW gridbox.stats_by_resolving_level AS
SELECT resolved_level AS level, count(*) AS n FROM gridbox.case_facts WHERE is_done GROUP BY resolved_level;

CREATE VIEW gridbox.stats_open_by_level AS
SELECT level, count(*) AS n FROM gridbox.case_facts WHERE is_open GROUP BY level;

CREATE VIEW gridbox.stats_by_rating AS
SELECT rating, count(*) AS n FROM gridbox.cases WHERE rating <> '' GROUP BY rating;

CREATE VIEW gridbox.stats_by_category_outcome AS
SELECT category, count(*) AS n,
	sum(CASE WHEN outcome = 'open' THEN 1 ELSE 0 END) AS open,
	sum(CASE WHEN is_overdue THEN 1 ELSE 0 END) AS overdue,
	sum(CASE WHEN outcome = 'resolved' THEN 1 ELSE 0 END) AS resolved,
	sum(CASE WHEN outcome = 'resolved_late' THEN 1 ELSE 0 END) AS resolved_late,
	sum(CASE WHEN outcome = 'merged' THEN 1 ELSE 0 END) AS merged,
	sum(CASE WHEN outcome = 'invalid' THEN 1 ELSE 0 END) AS invalid
FROM gridbox.case_facts GROUP BY category;

CREATE VIEW gridbox.stats_by_subcategory AS
SELECT category, subcategory, count(*) AS n FROM gridbox.cases WHERE subcategory <> '' GROUP BY category, subcategory;

-- Departments: cases ever dispatched to each (and how they stand), and
-- open cases now with it past their deadline.
CREATE VIEW gridbox.stats_by_department AS
SELECT department, sum(dispatched) AS dispatched, sum(open) AS open, sum(on_time) AS resolved_on_time,
	sum(late) AS resolved_late, sum(overdue) AS overdue,
	CASE WHEN sum(dispatched) > 0 THEN sum(on_time)::float8 / sum(dispatched) ELSE 0 END AS on_time_rate
FROM (
	SELECT unnest(dispatched_to) AS department, 1 AS dispatched,
		CASE WHEN is_open THEN 1 ELSE 0 END AS open,
		CASE WHEN is_done AND NOT resolved_late THEN 1 ELSE 0 END AS on_time,
		CASE WHEN is_done AND resolved_late THEN 1 ELSE 0 END AS late,
		0 AS overdue
	FROM gridbox.case_facts
	UNION ALL
	SELECT unnest(departments), 0, 0, 0, 0, 1 FROM gridbox.case_facts WHERE is_overdue
) d
GROUP BY department;

CREATE VIEW gridbox.households_by_village AS
SELECT village, sum(households) AS households, sum(people) AS people, sum(away) AS away
FROM gridbox.household_counts GROUP BY village;
`, "TOTALS", totals), "PLACES", placeViews())

// placeViews are stats_by_town, _village and _group: the totals of every
// place of a level (zeros kept, as the API keeps them), named.
func placeViews() string {
	var b strings.Builder
	for _, p := range []struct {
		view, col string
		level     int
	}{{"stats_by_town", "town", 1}, {"stats_by_village", "village", 2}, {"stats_by_group", "grp", 3}} {
		fmt.Fprintf(&b, `CREATE VIEW gridbox.%[1]s AS
SELECT x.code AS %[2]s, coalesce(p.name, x.code) AS name, %[4]s
FROM (SELECT code FROM gridbox.places WHERE level = %[3]d UNION SELECT DISTINCT %[2]s FROM gridbox.cases WHERE %[2]s <> '') x
LEFT JOIN gridbox.places p ON p.code = x.code
LEFT JOIN gridbox.case_facts f ON f.%[2]s = x.code
GROUP BY x.code, p.name;

`, p.view, p.col, p.level, totals)
	}
	return b.String()
}
