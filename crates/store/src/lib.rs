//! trawl's store: one SQLite database that holds everything the viewer keeps.
//!
//! The same code runs natively (rusqlite's bundled SQLite) and in the browser's store worker
//! (SQLite compiled to wasm by `sqlite-wasm-rs`, on whatever VFS the worker installed), so
//! everything here is tested with plain `cargo test` and again in headless Chromium.
//!
//! Opening a [`Store`] brings its schema to [`SCHEMA_VERSION`] through the migrations in
//! `schema`, in one transaction: a store is never left half-migrated.
//!
//! The search engine, by module: [`import`](Store::import_segment) streams bundle segments in
//! (batched, idempotent per segment); [`tokenizer`] is trawl's log tokenizer, registered with
//! FTS5 by [`fts5`]; [`query`] parses the query language and compiles it to SQL with bound
//! parameters; `search` answers the viewer (pages, counts, histograms, facets, context,
//! traces, gaps); [`export`] writes matches out as JSON lines; `bundle_export` writes a
//! stored bundle back out as a bundle ([`Store::export_bundle`]); `console` runs read-only
//! SQL; [`key`] makes record ids time-ordered.

mod batch_rows;
mod borrowed_insert;
mod bulk_load;
mod bundle_export;
mod console;
#[cfg(feature = "corpus")]
pub mod corpus;
pub mod export;
pub mod fields_text;
pub mod fts5;
mod functions;
mod import;
pub mod key;
mod library;
pub mod query;
#[cfg(not(target_arch = "wasm32"))]
mod read_ahead;
mod schema;
mod search;
pub mod time_axis;
pub mod tokenizer;

pub use bundle_export::{BundleExport, ExportStep, ExportedFile};
pub use console::{ConsoleError, ConsoleLimits};
pub use import::{Flow, ImportOptions, Progress, SegmentImport, SegmentReport};
pub use query::{Query, QueryError};
pub use trawl_protocol::results::{
    BundleSummary, ConsoleResult, Context, Cursor, Detail, Facet, FacetValue, Gap, Histogram,
    OffAxis, Order, Overview, Page, Row, Trace,
};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

pub use schema::SCHEMA_VERSION;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database was written by a newer trawl whose schema this build does not know.
    #[error("the store has schema version {found}; this build of trawl supports up to {supported}: update trawl")]
    SchemaTooNew { found: u32, supported: u32 },
    /// SQLite reported an error.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// A segment could not be read at all (its header is damaged, or reading it failed).
    #[error(transparent)]
    Read(#[from] trawl_bundle::ReadError),
    /// Storing records from `file` failed; the batch that started at `offset` was rolled back
    /// and everything committed before it stays.
    #[error("{file}: importing the records from offset {offset} failed: {source}")]
    Import {
        file: String,
        offset: u64,
        source: rusqlite::Error,
    },
    /// The store has no bundle of this name.
    #[error("the store has no bundle named {0:?}")]
    UnknownBundle(String),
    /// A record listed when a bundle export began was gone when its turn came: the bundle
    /// was deleted during the export.
    #[error("record {id} of segment {segment} left the store during the export: was the bundle deleted?")]
    ExportedRecordGone { segment: String, id: i64 },
}

/// Result of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Sizes of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    pub records: u64,
    pub segments: u64,
    /// Rows of the per-minute rollup (what an unfiltered histogram reads).
    pub rollup_rows: u64,
    /// Bytes of the database.
    pub bytes: u64,
}

/// How much of a store file [`Store::open`] maps into memory: SQLite's largest map by default
/// (`SQLITE_MAX_MMAP_SIZE`, just under 2 GiB); the rest of a bigger file is read as usual.
#[cfg(not(target_arch = "wasm32"))]
pub const MMAP_BYTES: i64 = 0x7fff_0000;

/// The page cache of each store connection, in KiB: 128 MiB (SQLite's default is 2 MiB). It
/// keeps an import's working set of B-tree pages in memory: against 32 MiB, 1M records
/// imported 1.16x faster into a file, 1.10x into OPFS, and a word-and-field search over them
/// in the browser took a p95 of 25 ms instead of 52-61 ms. The cache fills only as far as the
/// database's pages are used, up to that bound: after the viewer imported 1M records its
/// worker held 200 MiB instead of 123 MiB.
pub(crate) const CACHE_KIB: u32 = 128 * 1024;

/// An open, migrated trawl database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// The last [`time_axis::TimeAxis`] found, with the version of the data it was found in.
    time_axis: std::cell::Cell<Option<time_axis::Cached>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` on the default VFS and migrates it.
    ///
    /// A database more than a quarter of whose pages are free, as a migration that rebuilds
    /// tables leaves it, is then rebuilt to its size with `VACUUM` (its copy in a temporary
    /// file). Free pages would be reused by later imports, but a cache beside a bundle that
    /// no longer grows would keep them for good.
    ///
    /// The file is read through a memory map (its first [`MMAP_BYTES`]): a query that visits
    /// the rows the full-text index found, like the histogram and facets of a word matching
    /// 25,000 of 1,000,000 records, reads each row's page in place instead of copying it out
    /// of the kernel's cache; that overview took 40-44 ms instead of 80-110 ms. The pages a
    /// query touched count in the process's resident size, though they are the kernel's file
    /// cache, not memory of the process's own.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let store = Self::from_connection(Connection::open(path)?)?;
        store
            .conn
            .execute_batch(&format!("PRAGMA mmap_size = {MMAP_BYTES};"))?;
        let (free, pages): (i64, i64) = store.conn.query_row(
            "SELECT freelist_count, page_count FROM pragma_freelist_count, pragma_page_count",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if free * 4 > pages {
            store
                .conn
                .execute_batch("PRAGMA temp_store = FILE; VACUUM; PRAGMA temp_store = MEMORY;")?;
        }
        Ok(store)
    }

    /// Opens (creating if needed) the database `name` on the SQLite VFS `vfs` and migrates it.
    /// In the browser this is how the worker opens its database in OPFS.
    pub fn open_with_vfs(name: &str, vfs: &str) -> Result<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Self::from_connection(Connection::open_with_flags_and_vfs(name, flags, vfs)?)
    }

    /// Opens a fresh store that lives in memory only.
    pub fn open_in_memory() -> Result<Self> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    /// Takes over `conn`, applies trawl's connection settings, migrates the schema, counts
    /// this opening, and restores the full-text index's merge settings if a
    /// [`Store::bulk_load`] was interrupted.
    pub fn from_connection(mut conn: Connection) -> Result<Self> {
        // Temporary tables and sort spills stay in memory: in the browser every extra file
        // would take one of the fixed OPFS access handles.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -{CACHE_KIB};"
        ))?;
        fts5::register_tokenizer(&conn)?;
        batch_rows::register(&conn)?;
        functions::register(&conn)?;
        schema::migrate(&mut conn)?;
        conn.execute(
            "UPDATE store_info SET open_count = open_count + 1 WHERE id = 1",
            [],
        )?;
        let store = Self {
            conn,
            time_axis: std::cell::Cell::new(None),
        };
        bulk_load::restore_interrupted(&store)?;
        Ok(store)
    }

    /// The version of the SQLite library this store runs on, e.g. `3.53.0`.
    pub fn sqlite_version(&self) -> String {
        rusqlite::version().to_owned()
    }

    /// Whether FTS5 works here: a temporary FTS5 table is created, written, matched and dropped.
    pub fn fts5_available(&self) -> bool {
        let probe = || -> rusqlite::Result<bool> {
            self.conn.execute_batch(
                "CREATE VIRTUAL TABLE temp.trawl_fts5_probe USING fts5(body);
                 INSERT INTO temp.trawl_fts5_probe(body) VALUES ('connection reset by peer');",
            )?;
            let hits: i64 = self.conn.query_row(
                "SELECT count(*) FROM temp.trawl_fts5_probe WHERE trawl_fts5_probe MATCH 'reset'",
                [],
                |row| row.get(0),
            )?;
            Ok(hits == 1)
        };
        let available = probe().unwrap_or(false);
        // The table may or may not exist, depending on where the probe stopped.
        let _ = self
            .conn
            .execute_batch("DROP TABLE IF EXISTS temp.trawl_fts5_probe");
        available
    }

    /// The schema version the database is at; always [`SCHEMA_VERSION`] once opened.
    pub fn schema_version(&self) -> Result<u32> {
        schema::user_version(&self.conn)
    }

    /// How many times this database has been opened as a store, this opening included.
    pub fn open_count(&self) -> Result<u64> {
        let count: i64 = self.conn.query_row(
            "SELECT open_count FROM store_info WHERE id = 1",
            [],
            |row| row.get(0),
        )?;
        Ok(count.unsigned_abs())
    }

    /// Merges the full-text index into as few b-trees as possible and refreshes the query
    /// planner's statistics: worth it once after a large import.
    pub fn optimize(&self) -> Result<()> {
        self.conn.execute_batch(
            "INSERT INTO records_fts(records_fts) VALUES ('optimize'); PRAGMA optimize;",
        )?;
        Ok(())
    }

    /// What the store holds and how big it is.
    pub fn stats(&self) -> Result<StoreStats> {
        let one = |sql: &str| -> Result<u64> {
            let n: i64 = self.conn.query_row(sql, [], |r| r.get(0))?;
            Ok(n.unsigned_abs())
        };
        Ok(StoreStats {
            records: one("SELECT coalesce(sum(records), 0) FROM segments")?,
            segments: one("SELECT count(*) FROM segments")?,
            rollup_rows: one("SELECT count(*) FROM rollup_minute")?,
            bytes: one("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size")?,
        })
    }

    /// The value stored for setting `key`, or `None` if it was never set.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()?)
    }

    /// Stores `value` for setting `key`, replacing any earlier value. Durable (committed) when
    /// this returns.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
