//! The store's schema, as an ordered list of migrations.
//!
//! `PRAGMA user_version` records how many migrations a database has had. Migrations only ever
//! get appended: a released migration is never edited.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Result, StoreError};

/// Migration `i` brings a database from version `i` to `i + 1`.
///
/// Version 2, the records:
/// - `records.id` is the record's key ([`crate::key`]): time-ordered, so the table is stored in
///   time order and FTS5 (whose rowid it is) yields matches newest or oldest first for free.
///   Only `(source, line)` (context) has an index: every index costs import speed (one on
///   `trace_id` cost 25%, three on level/service/host 30%). Level/service/host filters are
///   served by scanning in key order (pages) or by `rollup` (counts, histograms, facets);
///   trace ids are looked up in the full-text index (span ids too would cost another 20%:
///   `span_id:` filters by scanning).
/// - `rollup` holds record counts per segment, minute, level, service, host and source, added
///   per import batch (several rows may share a group: readers sum `n`); `rollup_hour` the
///   same per hour (`minute` is the hour's first minute), for wide histograms and totals.
/// - `records_fts` is contentless (the text lives in `records`) and keeps no per-row sizes
///   (`columnsize = 0`: +5% import speed; trawl orders by time, never by bm25), over
///   the message, the *values* of the fields, and the trace id (rows are removed with FTS5's
///   `delete` command and the indexed text recomputed from `records`); FTS5's
///   pending-term hash is 16 MiB (default 1 MiB), so imports flush and merge less.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: the store itself and user settings.
    "CREATE TABLE store_info (
         id INTEGER PRIMARY KEY CHECK (id = 1),
         open_count INTEGER NOT NULL
     ) STRICT;
     INSERT INTO store_info(id, open_count) VALUES (1, 0);
     CREATE TABLE settings (
         key TEXT PRIMARY KEY,
         value TEXT NOT NULL
     ) STRICT;",
    // 2: imported segments, their records, and the full-text index over them.
    "CREATE TABLE segments (
         id INTEGER PRIMARY KEY,
         writer_id TEXT NOT NULL,
         segment_seq INTEGER NOT NULL,
         salt TEXT NOT NULL,
         bundle TEXT NOT NULL,
         file TEXT NOT NULL,
         first_seq INTEGER NOT NULL,
         next_seq INTEGER NOT NULL,
         records INTEGER NOT NULL,
         min_ts INTEGER,
         max_ts INTEGER,
         findings TEXT NOT NULL,
         complete INTEGER NOT NULL,
         UNIQUE (writer_id, segment_seq, salt)
     ) STRICT;
     CREATE TABLE records (
         id INTEGER PRIMARY KEY,
         ts INTEGER,
         level INTEGER,
         service TEXT,
         host TEXT,
         trace_id TEXT,
         span_id TEXT,
         message TEXT NOT NULL,
         fields TEXT,
         raw BLOB,
         source TEXT,
         line INTEGER,
         segment INTEGER NOT NULL,
         seq INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX records_source ON records(source, line);
     CREATE TABLE rollup (
         segment INTEGER NOT NULL,
         minute INTEGER NOT NULL,
         level INTEGER,
         service TEXT,
         host TEXT,
         source TEXT,
         n INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX rollup_segment ON rollup(segment);
     CREATE TABLE rollup_hour (
         segment INTEGER NOT NULL,
         minute INTEGER NOT NULL,
         level INTEGER,
         service TEXT,
         host TEXT,
         source TEXT,
         n INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX rollup_hour_segment ON rollup_hour(segment);
     CREATE VIRTUAL TABLE records_fts USING fts5(
         message, fields, trace,
         content = '', columnsize = 0,
         tokenize = 'trawl', detail = full
     );
     INSERT INTO records_fts(records_fts, rank) VALUES ('hashsize', 16777216);",
    // 3: the size of each imported segment file, for the bundle library.
    "ALTER TABLE segments ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;",
    // 4: the minutes each source has records in, per segment: what the library's time gaps
    // are found from (the rollup holds them too, but split by level, service and host: at 1M
    // records, reading them from it took 100 ms, about a hundred times longer). A minute may
    // be listed more than once (once per import batch that has it).
    "CREATE TABLE source_minutes (
         segment INTEGER NOT NULL,
         source TEXT,
         minute INTEGER NOT NULL
     ) STRICT;
     CREATE INDEX source_minutes_segment ON source_minutes(segment);
     INSERT INTO source_minutes(segment, source, minute)
         SELECT DISTINCT segment, source, minute FROM rollup;",
    // 5: when each segment was created (its header's time), so an exported copy of the
    // segment carries the header it came with. Unknown (NULL) for segments imported before.
    "ALTER TABLE segments ADD COLUMN created_nanos INTEGER;",
    // 6: sources are interned: each path is stored once in `sources`, and the records, the
    // rollups and the source minutes hold its id. A Kubernetes pod's log path (about 100
    // bytes) on every row and in the context index made a store 38% bigger than the same
    // records from a short path. The tables people query in the SQL console keep their names
    // and columns as views (`records`, `rollup`), the data moving to `record_rows` and
    // `rollup_minute`.
    "CREATE TABLE sources (
         id INTEGER PRIMARY KEY,
         path TEXT NOT NULL UNIQUE
     ) STRICT;
     INSERT INTO sources(path)
         SELECT source FROM rollup WHERE source IS NOT NULL
         UNION SELECT source FROM records WHERE source IS NOT NULL
         ORDER BY 1;

     CREATE TABLE record_rows (
         id INTEGER PRIMARY KEY,
         ts INTEGER,
         level INTEGER,
         service TEXT,
         host TEXT,
         trace_id TEXT,
         span_id TEXT,
         message TEXT NOT NULL,
         fields TEXT,
         raw BLOB,
         source_id INTEGER,
         line INTEGER,
         segment INTEGER NOT NULL,
         seq INTEGER NOT NULL
     ) STRICT;
     INSERT INTO record_rows
         SELECT r.id, r.ts, r.level, r.service, r.host, r.trace_id, r.span_id, r.message,
                r.fields, r.raw, s.id, r.line, r.segment, r.seq
         FROM records r LEFT JOIN sources s ON s.path = r.source ORDER BY r.id;
     DROP TABLE records;
     CREATE INDEX record_rows_source ON record_rows(source_id, line);
     CREATE VIEW records AS
         SELECT r.id, r.ts, r.level, r.service, r.host, r.trace_id, r.span_id, r.message,
                r.fields, r.raw, s.path AS source, r.line, r.segment, r.seq
         FROM record_rows r LEFT JOIN sources s ON s.id = r.source_id;

     CREATE TABLE rollup_minute (
         segment INTEGER NOT NULL,
         minute INTEGER NOT NULL,
         level INTEGER,
         service TEXT,
         host TEXT,
         source_id INTEGER,
         n INTEGER NOT NULL
     ) STRICT;
     INSERT INTO rollup_minute
         SELECT r.segment, r.minute, r.level, r.service, r.host, s.id, r.n
         FROM rollup r LEFT JOIN sources s ON s.path = r.source;
     DROP TABLE rollup;
     CREATE INDEX rollup_minute_segment ON rollup_minute(segment);
     CREATE VIEW rollup AS
         SELECT r.segment, r.minute, r.level, r.service, r.host, s.path AS source, r.n
         FROM rollup_minute r LEFT JOIN sources s ON s.id = r.source_id;

     ALTER TABLE rollup_hour RENAME TO rollup_hour_v5;
     CREATE TABLE rollup_hour (
         segment INTEGER NOT NULL,
         minute INTEGER NOT NULL,
         level INTEGER,
         service TEXT,
         host TEXT,
         source_id INTEGER,
         n INTEGER NOT NULL
     ) STRICT;
     INSERT INTO rollup_hour
         SELECT r.segment, r.minute, r.level, r.service, r.host, s.id, r.n
         FROM rollup_hour_v5 r LEFT JOIN sources s ON s.path = r.source;
     DROP TABLE rollup_hour_v5;
     CREATE INDEX rollup_hour_segment ON rollup_hour(segment);

     ALTER TABLE source_minutes RENAME TO source_minutes_v5;
     CREATE TABLE source_minutes (
         segment INTEGER NOT NULL,
         source_id INTEGER,
         minute INTEGER NOT NULL
     ) STRICT;
     INSERT INTO source_minutes
         SELECT m.segment, s.id, m.minute
         FROM source_minutes_v5 m LEFT JOIN sources s ON s.path = m.source;
     DROP TABLE source_minutes_v5;
     CREATE INDEX source_minutes_segment ON source_minutes(segment);",
    // 7: FTS5 merges its segments 16 at a time (its most; default 4). Every import batch
    // writes a new segment and FTS5 merges a level once it holds `automerge` segments, so
    // each indexed term is rewritten about once per level: with 16 there are half as many
    // levels. Adding 100,000 records to a 1M-record store went 1.3-1.5x faster (file store,
    // 4 interleaved pairs), a fresh 1M import about 1.07x; the store held no more segments
    // after either (9 against 10) and query latencies did not move.
    "INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', 16);",
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    Ok(conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
}

/// The page size of new databases, measured on the benchmark corpus (1M records). Natively,
/// 16 KiB imported 1.27x faster than SQLite's 4 KiB (8 KiB: 1.13x) and 32 KiB about as fast
/// as 16. The browser decided for 32 KiB: every page SQLite reads or writes there is a call
/// out of wasm into an OPFS access handle, and half as many pages made the overview of a word
/// (histogram and facets) take a p95 of 53-63 ms instead of 104-126 ms, the import into OPFS
/// median 80k records/s instead of 70k (six interleaved runs each). 64 KiB was no better than
/// 32 (OPFS 82k against 85k). A store keeps the page size it was made with: changing it means
/// rewriting the whole file (VACUUM), too slow to do on opening.
pub(crate) const PAGE_SIZE: u32 = 32768;

/// Applies the missing migrations in one immediate transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    // The page size applies to a database with no records yet: new, or from before records
    // existed (then rebuilt with VACUUM, which is quick when all it holds is settings).
    if user_version(conn)? < 2 {
        let page_size: u32 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        if page_size != PAGE_SIZE {
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
            let pages: u32 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if pages > 0 {
                conn.execute_batch("VACUUM")?;
            }
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = user_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.execute_batch(migration)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}
