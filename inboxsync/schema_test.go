package inboxsync

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-bookingsync/bookingsync/inboxsync/internal/dbtest"
)

// column is a live column, its type normalized: integer, text, time,
// json or blob.
type column struct {
	typ     string
	notNull bool
}

// liveSchema reads the tables and columns of st's database as the
// migrations left them.
func liveSchema(t *testing.T, st *Store) map[string]map[string]column {
	t.Helper()
	q := `SELECT table_name, column_name, data_type, is_nullable = 'NO' FROM information_schema.columns
WHERE table_schema = current_schema()`
	if st.Dialect() == "sqlite" {
		// An INTEGER PRIMARY KEY is the rowid, never NULL; other primary
		// keys are declared NOT NULL where it matters. The search's FTS5
		// tables (virtual, and their shadow tables) are SQLite's indexes,
		// as the GIN indexes are Postgres's: not tables of the schema.
		q = `SELECT m.name, p.name, p.type, p."notnull" OR p.pk > 0 FROM pragma_table_list m, pragma_table_info(m.name) p
WHERE m.schema = 'main' AND m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`
	}
	rows, err := st.db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]map[string]column{}
	for rows.Next() {
		var table, name, typ string
		var c column
		if err := rows.Scan(&table, &name, &typ, &c.notNull); err != nil {
			t.Fatal(err)
		}
		if c.typ = normalType[strings.ToLower(typ)]; c.typ == "" {
			t.Errorf("%s.%s: unexpected type %q", table, name, typ)
		}
		if out[table] == nil {
			out[table] = map[string]column{}
		}
		out[table][name] = c
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalType maps the declared types of both back ends to one name.
// SQLite stores times (fixed-width UTC text) and JSON as text, so a
// Postgres time or json column matches a SQLite text one.
var normalType = map[string]string{
	"integer": "integer", "bigint": "integer",
	"text": "text", "timestamp with time zone": "time", "json": "json",
	"blob": "blob", "bytea": "blob",
}

// sqliteOnly are the tables one back end lacks by design: on Postgres the
// named locks are advisory locks.
var sqliteOnly = []string{"fleet_locks"}

// The migrations are the schema: on each back end the mirrored tables have
// exactly the columns the code writes (resources.go: account_id, the
// resource's columns, raw) with the types their fields convert to, and the
// two back ends have the same tables and columns, types and nullability
// normalized.
func TestSchemaAgreesAcrossDialectsAndWithTheCode(t *testing.T) {
	t.Parallel()
	live := map[string]map[string]map[string]column{}
	for _, backend := range dbtest.Backends {
		t.Run(backend, func(t *testing.T) {
			schema := liveSchema(t, mustOpen(t, dbtest.DSN(t, backend)))
			for _, r := range append(slices.Clone(walked), resApplications) {
				if err := writesTable(r, schema[r.name], backend == "sqlite"); err != nil {
					t.Error(err)
				}
			}
			live[backend] = schema
		})
	}
	sqlite, postgres := live["sqlite"], live["postgres"]
	if sqlite == nil || postgres == nil {
		t.Skip("one back end's schema is missing; nothing to compare")
	}
	for table, cols := range sqlite {
		if slices.Contains(sqliteOnly, table) {
			continue
		}
		if postgres[table] == nil {
			t.Errorf("table %s is on SQLite only", table)
			continue
		}
		for name, c := range cols {
			pc, ok := postgres[table][name]
			switch {
			case !ok:
				t.Errorf("%s.%s is on SQLite only", table, name)
			case pc.notNull != c.notNull:
				t.Errorf("%s.%s: NOT NULL on SQLite %v, on Postgres %v", table, name, c.notNull, pc.notNull)
			case pc.typ != c.typ && !(c.typ == "text" && (pc.typ == "time" || pc.typ == "json")):
				t.Errorf("%s.%s: %s on SQLite, %s on Postgres", table, name, c.typ, pc.typ)
			}
		}
	}
	for table, cols := range postgres {
		for name := range cols {
			if _, ok := sqlite[table][name]; !ok {
				t.Errorf("%s.%s is on Postgres only", table, name)
			}
		}
	}
}

// writesTable checks that table has exactly the columns apply writes for
// r, each of the type its field converts to.
func writesTable(r *resource, table map[string]column, sqlite bool) error {
	want := map[string]string{"account_id": "integer", "raw": "json"}
	for _, fl := range r.fields {
		want[fl.col] = [...]string{kindInt: "integer", kindStr: "text", kindTime: "time"}[fl.kind]
	}
	var errs []string
	for name, typ := range want {
		if sqlite && (typ == "time" || typ == "json") {
			typ = "text"
		}
		c, ok := table[name]
		switch {
		case !ok:
			errs = append(errs, "no column "+name)
		case c.typ != typ:
			errs = append(errs, fmt.Sprintf("%s is %s, the code writes %s", name, c.typ, typ))
		}
	}
	for name := range table {
		if _, ok := want[name]; !ok {
			errs = append(errs, "column "+name+" is never written")
		}
	}
	if errs != nil {
		slices.Sort(errs)
		return fmt.Errorf("table %s: %s", r.name, strings.Join(errs, "; "))
	}
	return nil
}
