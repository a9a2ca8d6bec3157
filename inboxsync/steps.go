package inboxsync

import (
	"context"
	"database/sql"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// step is one statement of a transaction built ahead (a page's write, see
// apply) and, once run, the rows it affected.
type step struct {
	query string // with ? placeholders
	args  []any
	// fixed says the query's text is one of a few, not sized by the page
	// (the lease, the sweep, the cursor): SQLite keeps it prepared.
	fixed bool
	n     int64 // rows affected, set by runSteps
}

// runSteps runs steps in order in one transaction, then commits it if
// check, called once every step has run, returns nil; otherwise, or on the
// first failed step, it rolls it back.
//
// On SQLite the fixed steps are kept prepared. On Postgres the steps go
// to the server in one pipeline, BEGIN and every step, then COMMIT (pgx
// keeps every statement prepared): a page costs two round trips however
// many statements it takes, where one at a time, after database/sql's
// BEGIN, it took one more than the statements. Each statement still takes
// its snapshot when it starts, so one that follows pg_advisory_xact_lock
// sees what the lock's previous holder committed.
func (s *Store) runSteps(ctx context.Context, steps []*step, check func() error) error {
	if s.d.name == "postgres" {
		return s.pipeline(ctx, steps, check)
	}
	// Fixed statements are prepared before the transaction holds a
	// connection of the pool: preparing one inside it could wait for a
	// second connection while every one is held.
	stmts := make([]*sql.Stmt, len(steps))
	for i, st := range steps {
		if st.fixed {
			var err error
			if stmts[i], err = s.prepared(ctx, st.query); err != nil {
				return err
			}
		}
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i, st := range steps {
			var res sql.Result
			var err error
			if stmts[i] != nil {
				res, err = tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, st.args...)
			} else {
				res, err = s.exec(ctx, tx, st.query, st.args...)
			}
			if err != nil {
				return err
			}
			if st.n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return check()
	})
}

// prepared returns query prepared on the store's database, once. Only
// fixed queries come here, so the cache stays small.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.d.rebind(query))
	if err != nil {
		return nil, err
	}
	if kept, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return kept.(*sql.Stmt), nil
	}
	return st, nil
}

// pipeline is runSteps on Postgres, through pgx's batch on one of the
// pool's connections.
func (s *Store) pipeline(ctx context.Context, steps []*step, check func() error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		var b pgx.Batch
		b.Queue("BEGIN")
		for _, st := range steps {
			b.Queue(s.d.rebind(st.query), st.args...)
		}
		br := pc.SendBatch(ctx, &b)
		_, err := br.Exec() // BEGIN
		for _, st := range steps {
			if err != nil {
				break
			}
			tag, serr := br.Exec()
			st.n, err = tag.RowsAffected(), serr
		}
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = check()
		}
		if err == nil {
			err = ctx.Err() // ended while the steps ran: nothing is committed
		}
		end := "COMMIT"
		if err != nil {
			end = "ROLLBACK"
		}
		// A connection whose transaction did not end (ctx ended, or the
		// connection broke) is not reused: the driver drops a connection
		// still in a transaction when the pool hands it out again.
		if _, xerr := pc.Exec(ctx, end); xerr != nil && err == nil {
			err = xerr
		}
		return err
	})
}
