package pgfeed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sink is one connection to the target database, for one feeding node.
type Sink struct {
	conn   *pgx.Conn
	source string
}

// ErrBusy: another feed of the same node holds the target.
var ErrBusy = errors.New("another gridbox feed of this node is writing to this database")

var errBadURL = errors.New("postgres URL")

// Connect opens the target, creates the tables and views where missing,
// and takes the feeding node's lock (so two feeds of one node never run at
// once; feeds of different nodes may).
func Connect(ctx context.Context, url, source string) (*Sink, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadURL, err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 15 * time.Second // not the minutes of a lost SYN
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Sink{conn: conn, source: source}
	if err := s.migrate(ctx); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("create tables: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey("gridbox feed "+source)).Scan(&ok); err != nil {
		conn.Close(ctx)
		return nil, err
	}
	if !ok {
		conn.Close(ctx)
		return nil, ErrBusy
	}
	return s, nil
}

func lockKey(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64())
}

// Close ends the connection (and with it the lock).
func (s *Sink) Close() error { return s.conn.Close(context.Background()) }

// migrate creates what is missing, under a lock so that several nodes
// starting their feeds at once do not race on the catalogue. The views
// are made again only when this version's differ from those in place
// (their hash in feed_schema): dashboards reading them are not held up
// by every feed's reconnection.
func (s *Sink) migrate(ctx context.Context) error {
	sum := sha256.Sum256([]byte(views))
	version := hex.EncodeToString(sum[:8])
	err := pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("gridbox feed schema")); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, tables); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM gridbox.feed_schema WHERE views = $1", version).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := tx.Exec(ctx, views); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM gridbox.feed_schema; INSERT INTO gridbox.feed_schema (views) VALUES ('"+version+"')")
		return err
	})
	if err != nil {
		return err
	}
	_, err = s.conn.Exec(ctx, temps)
	return err
}

// temps are per-connection staging tables that COPY fills and the upserts
// read: COPY is the fast way in, and it cannot upsert by itself.
const temps = `
CREATE TEMP TABLE IF NOT EXISTS t_cases (LIKE gridbox.cases) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS t_steps (LIKE gridbox.case_steps) ON COMMIT DELETE ROWS;
`

// Positions returns how far this node's feeds have been fed (feed → seq).
func (s *Sink) Positions(ctx context.Context) (map[string]uint64, error) {
	rows, err := s.conn.Query(ctx, "SELECT feed, seq FROM gridbox.feed_positions WHERE source = $1", s.source)
	if err != nil {
		return nil, err
	}
	pos := map[string]uint64{}
	for rows.Next() {
		var feed string
		var seq int64
		if err := rows.Scan(&feed, &seq); err != nil {
			return nil, err
		}
		pos[feed] = uint64(seq)
	}
	return pos, rows.Err()
}

var caseCols = []string{"id", "town", "village", "grp", "category", "subcategory", "source", "origin", "level", "status",
	"top_level", "resolved_level", "resolved_late", "escalations", "reopened", "meetings", "milestones", "rating",
	"departments", "dispatched_to", "due", "reported", "reported_day", "resolved_at", "resolved_day",
	"minutes_to_resolve", "updated"}

var stepCols = []string{"case_id", "feed", "seq", "n", "action", "by_level", "from_level", "to_level", "day", "at",
	"departments", "due", "rating", "feedback_how", "callback_outcome", "effective"}

// upsert is INSERT ... SELECT from a staging table that changes a row
// only when something in it differs (so feeding the same entries again
// writes nothing) and, for cases, only with news at least as recent (two
// nodes may feed the same case: a town and its city).
func upsert(table, staging string, cols []string, key string, newer string) string {
	var set, old, nw []string
	keys := map[string]bool{}
	for _, k := range strings.Split(key, ",") {
		keys[strings.TrimSpace(k)] = true
	}
	for _, c := range cols {
		if keys[c] {
			continue
		}
		set = append(set, c+" = excluded."+c)
		old = append(old, table+"."+c)
		nw = append(nw, "excluded."+c)
	}
	where := "(" + strings.Join(old, ", ") + ") IS DISTINCT FROM (" + strings.Join(nw, ", ") + ")"
	if newer != "" {
		where = "excluded." + newer + " >= " + table + "." + newer + " AND " + where
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(cols, ", ") +
		" FROM " + staging + " ON CONFLICT (" + key + ") DO UPDATE SET " + strings.Join(set, ", ") + " WHERE " + where
}

var (
	upsertCases = upsert("gridbox.cases", "t_cases", caseCols, "id", "updated")
	upsertSteps = upsert("gridbox.case_steps", "t_steps", stepCols, "case_id, feed, seq", "")
)

// date is a day for a date column: NULL when empty.
func date(day string) any {
	if day == "" {
		return nil
	}
	return day
}

// Write stores a batch and the positions after it in one transaction.
func (s *Sink) Write(ctx context.Context, b *Batch) error {
	return pgx.BeginFunc(ctx, s.conn, func(tx pgx.Tx) error { return s.write(ctx, tx, b) })
}

func (s *Sink) write(ctx context.Context, tx pgx.Tx, b *Batch) error {
	if _, err := tx.Exec(ctx, `INSERT INTO gridbox.feed_sources (source, role, code, name) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source) DO UPDATE SET role = excluded.role, code = excluded.code, name = excluded.name
		WHERE (feed_sources.role, feed_sources.code, feed_sources.name) IS DISTINCT FROM (excluded.role, excluded.code, excluded.name)`,
		s.source, b.Node.Role, b.Node.Code, b.Node.Name); err != nil {
		return err
	}
	if len(b.Cases) > 0 {
		rows := make([][]any, len(b.Cases))
		for i, c := range b.Cases {
			var resolvedAt any
			if c.ResolvedAt != nil {
				resolvedAt = *c.ResolvedAt
			}
			rows[i] = []any{c.ID, c.Town, c.Village, c.Group, c.Category, c.Subcategory, c.Source, c.Origin, c.Level, c.Status,
				c.TopLevel, c.ResolvedLevel, c.ResolvedLate, c.Escalations, c.Reopened, c.Meetings, c.Milestones, c.Rating,
				c.Departments, c.DispatchedTo, date(c.Due), c.Reported, c.ReportedDay, resolvedAt, date(c.ResolvedDay),
				c.MinutesToDone, c.Updated}
		}
		if err := copyUpsert(ctx, tx, "t_cases", caseCols, rows, upsertCases); err != nil {
			return fmt.Errorf("cases: %w", err)
		}
	}
	if len(b.Steps) > 0 {
		rows := make([][]any, len(b.Steps))
		for i, st := range b.Steps {
			rows[i] = []any{st.Case, st.Feed, int64(st.Seq), st.N, st.Action, st.By, st.From, st.To, st.Day, st.At,
				st.Departments, date(st.Due), st.Rating, st.How, st.Outcome, st.Effective}
		}
		if err := copyUpsert(ctx, tx, "t_steps", stepCols, rows, upsertSteps); err != nil {
			return fmt.Errorf("case steps: %w", err)
		}
	}
	batch := &pgx.Batch{}
	for _, p := range b.Places {
		batch.Queue(`INSERT INTO gridbox.places (code, level, name, parent, kind) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (code) DO UPDATE SET level = excluded.level, name = excluded.name, parent = excluded.parent, kind = excluded.kind
			WHERE (places.level, places.name, places.parent, places.kind) IS DISTINCT FROM (excluded.level, excluded.name, excluded.parent, excluded.kind)`,
			p.Code, p.Level, p.Name, p.Parent, p.Kind)
	}
	for _, h := range b.Households {
		batch.Queue(`INSERT INTO gridbox.household_counts (grp, village, households, people, away) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (grp) DO UPDATE SET village = excluded.village, households = excluded.households, people = excluded.people, away = excluded.away
			WHERE (household_counts.village, household_counts.households, household_counts.people, household_counts.away)
				IS DISTINCT FROM (excluded.village, excluded.households, excluded.people, excluded.away)`,
			h.Group, h.Village, h.Households, h.People, h.Away)
	}
	for _, p := range b.Periods {
		st := p.Stats
		batch.Queue(`INSERT INTO gridbox.period_stats (town, name, period, period_from, period_to, as_of, total, resolved, open,
				escalated, to_town, to_city, multi, overdue, resolved_late, stats)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (town, period, period_from) DO UPDATE SET name = excluded.name, period_to = excluded.period_to,
				as_of = excluded.as_of, total = excluded.total, resolved = excluded.resolved, open = excluded.open,
				escalated = excluded.escalated, to_town = excluded.to_town, to_city = excluded.to_city, multi = excluded.multi,
				overdue = excluded.overdue, resolved_late = excluded.resolved_late, stats = excluded.stats
			WHERE excluded.as_of >= period_stats.as_of AND period_stats.stats IS DISTINCT FROM excluded.stats`,
			p.Town, p.Name, p.Period, p.From, p.To, p.AsOf, st.Total, st.Resolved, st.Open, st.Escalated, st.ToTown,
			st.ToCity, st.Multi, st.Overdue, st.ResolvedLate, st)
	}
	for _, p := range b.Positions {
		batch.Queue(`INSERT INTO gridbox.feed_positions (source, feed, seq) VALUES ($1, $2, $3)
			ON CONFLICT (source, feed) DO UPDATE SET seq = excluded.seq, fed_at = now()
			WHERE feed_positions.seq IS DISTINCT FROM excluded.seq`, s.source, p.Feed, int64(p.Seq))
	}
	return tx.SendBatch(ctx, batch).Close()
}

func copyUpsert(ctx context.Context, tx pgx.Tx, staging string, cols []string, rows [][]any, sql string) error {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{staging}, cols, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, sql)
	return err
}

// retryable reports whether err is the database going away (restart,
// network) rather than a refusal: follow mode waits and reconnects.
func retryable(err error) bool {
	return err != nil && !errors.Is(err, ErrBusy) && !errors.Is(err, errBadURL) && !errors.Is(err, context.Canceled)
}
