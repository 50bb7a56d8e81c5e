package store

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/veil-privacy/veil"
)

// SessionQuery selects one page of a project's recorded sessions for the
// dashboard. Zero fields mean "any".
type SessionQuery struct {
	ProjectID string
	Since     time.Time // last_seen >= Since
	Until     time.Time // first_seen < Until
	UserIndex string    // blind index of the user id (never the id itself)
	URLPath   string    // exact path
	MinDur    time.Duration
	MaxDur    time.Duration
	HasErrors bool
	// TagIndex is the blind index of a custom event name the session must
	// have recorded (session_tags; never the name itself).
	TagIndex string
	// Sort is "time" (newest activity first, the default) or "duration"
	// (longest first).
	Sort string
	// After is the cursor of the last row of the previous page ("" for
	// the first page).
	After string
	Limit int
}

// SessionPage is one page of FindSessionPage; Next is the cursor of the
// following page, "" on the last one.
type SessionPage struct {
	Sessions []*veil.Session
	Next     string
}

// durExpr is a session's duration in microseconds.
func (db *DB) durExpr() string {
	if db.dialect == SQLite {
		return "(last_seen - first_seen)"
	}
	return "CAST(EXTRACT(EPOCH FROM (last_seen - first_seen)) * 1000000 AS BIGINT)"
}

// FindSessionPage returns one page of sessions matching q, with keyset
// pagination: the cursor holds the sort key and id of the last row, so a
// page costs the same however deep it is, and sessions arriving meanwhile
// never shift rows between pages.
func (db *DB) FindSessionPage(ctx context.Context, q SessionQuery) (*SessionPage, error) {
	query, args, key, limit, err := db.sessionPageSQL(ctx, q)
	if err != nil {
		return nil, err
	}
	rows, err := db.query(ctx, db.sql, query, args...)
	if err != nil {
		return nil, wrap("find sessions", err)
	}
	ss, err := collect(rows, scanSession, "find sessions")
	if err != nil {
		return nil, err
	}
	pg := &SessionPage{Sessions: ss}
	if len(ss) > limit {
		pg.Sessions = ss[:limit]
		last := ss[limit-1]
		v := last.LastSeen.UnixMicro()
		if key != "last_seen" {
			v = last.LastSeen.Sub(last.FirstSeen).Microseconds()
		}
		pg.Next = makeCursor(v, last.ID)
	}
	return pg, nil
}

// sessionPageSQL is FindSessionPage's query and arguments, its sort key
// and page size.
func (db *DB) sessionPageSQL(ctx context.Context, q SessionQuery) (query string, args []any, key string, limit int, err error) {
	if q.ProjectID == "" {
		return "", nil, "", 0, invalidf("Project required.")
	}
	limit = q.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	key = "last_seen"
	if q.Sort == "duration" {
		key = db.durExpr()
	} else if q.Sort != "" && q.Sort != "time" {
		return "", nil, "", 0, invalidf("Sort by time or duration.")
	}
	from, args, where, err := db.sessionSource(ctx, q, key)
	if err != nil {
		return "", nil, "", 0, err
	}
	if q.After != "" {
		v, id, err := parseCursor(q.After)
		if err != nil {
			return "", nil, "", 0, err
		}
		var kv any = v
		if key == "last_seen" {
			kv = db.ts(time.UnixMicro(v))
		}
		// Written out rather than as a row comparison, which cannot mix
		// DESC and ASC; the leading "<=" bounds the index range, so a deep
		// page starts reading at the cursor.
		where = append(where, key+" <= ?", "("+key+" < ? OR ("+key+" = ? AND id > ?))")
		args = append(args, kv, kv, kv, id)
	}
	args = append(args, limit+1)
	query = "SELECT " + sessionCols + " FROM " + from + " WHERE " + strings.Join(where, " AND ") + " ORDER BY " + key + " DESC, id LIMIT ?"
	return query, args, key, limit, nil
}

// sessionWhere is the WHERE clause of q's filters (not its cursor), without
// the custom event filter when the rows come from session_tags already.
func (db *DB) sessionWhere(q SessionQuery, tagDriven bool, args []any) ([]string, []any) {
	where := []string{"project_id = ?"}
	args = append(args, q.ProjectID)
	if !q.Since.IsZero() {
		where, args = append(where, "last_seen >= ?"), append(args, db.ts(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "first_seen < ?"), append(args, db.ts(q.Until))
	}
	if q.UserIndex != "" {
		where, args = append(where, "user_index = ?"), append(args, q.UserIndex)
	}
	if q.URLPath != "" {
		where, args = append(where, "url_path = ?"), append(args, q.URLPath)
	}
	dur := db.durExpr()
	if q.MinDur > 0 {
		where, args = append(where, dur+" >= ?"), append(args, q.MinDur.Microseconds())
	}
	if q.MaxDur > 0 {
		where, args = append(where, dur+" <= ?"), append(args, q.MaxDur.Microseconds())
	}
	if q.HasErrors {
		where = append(where, "errors > 0")
	}
	if q.TagIndex != "" && !tagDriven {
		where = append(where, "EXISTS (SELECT 1 FROM session_tags t WHERE t.project_id = sessions.project_id AND t.tag_index = ? AND t.session_id = sessions.id)")
		args = append(args, q.TagIndex)
	}
	return where, args
}

// tagDriveLimit is how many sessions with a custom event SQLite reads
// through session_tags and sorts, rather than walking the project's
// sessions in order and probing session_tags for each, when the list is
// sorted by duration or filtered by path too (sorted by time alone it reads
// session_tags_recent in order): reading 5,000 tag rows costs about what
// walking to a page of a 0.5 % event does.
var tagDriveLimit = 5000 // a variable for tests of both plans

// tagRecentFrom is the sessions that saw a custom event (the arguments:
// project, tag index) as a table named sessions, so every column and
// condition stays unqualified. Its last_seen and id are session_tags' own
// (equal to the session's: migration 0014), so ORDER BY last_seen DESC, id
// reads the range of session_tags_recent in order and stops after a page,
// probing sessions once per row. The join is CROSS on SQLite, which fixes
// session_tags as the outer loop; Postgres has no CROSS JOIN … ON.
func (db *DB) tagRecentFrom() string {
	join := "JOIN"
	if db.dialect == SQLite {
		join = "CROSS JOIN"
	}
	return `(SELECT t.project_id, t.session_id AS id, s.wrapped_key, s.user_index, s.first_seen, t.last_seen,
		s.url_path, s.user_agent, s.events, s.segments, s.errors, s.pages
		FROM session_tags t ` + join + ` sessions s ON s.project_id = t.project_id AND s.id = t.session_id
		WHERE t.project_id = ? AND t.tag_index = ?) AS sessions`
}

// sessionSource returns the FROM and WHERE of a query of q sorted by key,
// with their arguments in order. A custom event filter sorted by time reads
// session_tags_recent in order on both databases (Postgres, left to
// itself, walks the sessions by time and probes session_tags per row:
// 100 probes per listed session for a 1 % event). Otherwise, without
// ANALYZE statistics SQLite's choice of index can be far off (a rare
// user's sessions found by walking the whole project: hundreds of ms at
// 100k sessions), so it is chosen here: the most selective equality first,
// a rare custom event through session_tags, else the index of the sort.
// Postgres plans those well on its own.
func (db *DB) sessionSource(ctx context.Context, q SessionQuery, key string) (string, []any, []string, error) {
	if q.TagIndex != "" && q.UserIndex == "" && key == "last_seen" && (q.URLPath == "" || db.dialect != SQLite) {
		where, args := db.sessionWhere(q, true, []any{q.ProjectID, q.TagIndex})
		return db.tagRecentFrom(), args, where, nil
	}
	if db.dialect != SQLite {
		where, args := db.sessionWhere(q, false, nil)
		return "sessions", args, where, nil
	}
	if q.TagIndex != "" && q.UserIndex == "" {
		var n int
		err := db.queryRow(ctx, db.sql, "SELECT COUNT(*) FROM (SELECT 1 FROM session_tags WHERE project_id = ? AND tag_index = ? LIMIT ?) AS m",
			q.ProjectID, q.TagIndex, tagDriveLimit+1).Scan(&n)
		if err != nil {
			return "", nil, nil, wrap("count session tags", err)
		}
		if n <= tagDriveLimit {
			from := `(SELECT sessions.* FROM session_tags t CROSS JOIN sessions ON sessions.project_id = t.project_id AND sessions.id = t.session_id
				WHERE t.project_id = ? AND t.tag_index = ?) AS sessions`
			where, args := db.sessionWhere(q, true, []any{q.ProjectID, q.TagIndex})
			return from, args, where, nil
		}
	}
	where, args := db.sessionWhere(q, false, nil)
	switch {
	case q.UserIndex != "":
		return "sessions INDEXED BY sessions_project_user_index", args, where, nil
	case q.URLPath != "" && key == "last_seen":
		return "sessions INDEXED BY sessions_project_path", args, where, nil
	case q.HasErrors && key == "last_seen":
		return "sessions INDEXED BY sessions_project_errors", args, where, nil
	case key == "last_seen":
		return "sessions INDEXED BY sessions_project_last_seen", args, where, nil
	default:
		return "sessions INDEXED BY sessions_project_duration", args, where, nil
	}
}

// CountSessions counts the sessions matching q's filters, up to limit: the
// list page shows "10,000+" rather than paying for an exact count of a
// million rows on every load. capped says the count stopped at limit.
func (db *DB) CountSessions(ctx context.Context, q SessionQuery, limit int) (n int, capped bool, err error) {
	query, args, err := db.countSQL(ctx, q, limit)
	if err != nil {
		return 0, false, err
	}
	if err := db.queryRow(ctx, db.sql, query, args...).Scan(&n); err != nil {
		return 0, false, wrap("count sessions", err)
	}
	if n > limit {
		return limit, true, nil
	}
	return n, false, nil
}

// countSQL is CountSessions' query and arguments.
func (db *DB) countSQL(ctx context.Context, q SessionQuery, limit int) (string, []any, error) {
	if q.ProjectID == "" {
		return "", nil, invalidf("Project required.")
	}
	from, args, where, err := db.sessionSource(ctx, q, "last_seen")
	if err != nil {
		return "", nil, err
	}
	if q.TagIndex != "" && q.UserIndex == "" && q.URLPath == "" && !q.HasErrors && q.MinDur == 0 && q.MaxDur == 0 && q.Until.IsZero() {
		// Only the event (and a start of the range, on the tag's own
		// last_seen): its session_tags rows alone, no probe of sessions
		// (a tag row never outlives its session: ON DELETE CASCADE).
		from, where, args = "session_tags", []string{"project_id = ?", "tag_index = ?"}, []any{q.ProjectID, q.TagIndex}
		if !q.Since.IsZero() {
			where, args = append(where, "last_seen >= ?"), append(args, db.ts(q.Since))
		}
	}
	args = append(args, limit+1)
	return "SELECT COUNT(*) FROM (SELECT 1 FROM " + from + " WHERE " + strings.Join(where, " AND ") + " LIMIT ?) AS m", args, nil
}

func makeCursor(v int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(v, 10) + ":" + id))
}

func parseCursor(c string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if s, id, ok := strings.Cut(string(b), ":"); ok {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil && id != "" {
				return v, id, nil
			}
		}
	}
	return 0, "", invalidf("Bad page cursor.")
}
