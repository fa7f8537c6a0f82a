//! Runs natively with `cargo test` and in headless Chromium (a dedicated worker, like the
//! viewer's store worker) with `cargo test --target wasm32-unknown-unknown`.

use super::*;

mod bundle_export;
mod console;
mod data;
mod import;
mod search;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use core::prelude::v1::test;
#[cfg(target_arch = "wasm32")]
pub(crate) use wasm_bindgen_test::wasm_bindgen_test as test;
#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

#[test]
fn fresh_store_is_migrated_and_has_fts5() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.fts5_available());
    // The probe leaves nothing behind and can run again.
    assert!(store.fts5_available());
    assert!(store.sqlite_version().starts_with("3."));
    assert_eq!(store.open_count().unwrap(), 1);
}

#[test]
fn the_full_text_index_merges_sixteen_segments_at_a_time() {
    // What migration 7 sets. FTS5 keeps it in its config table; the merges it governs only
    // begin once an import has written hundreds of index pages, so their speed is measured by
    // the store benchmark (an import into a store that holds 1M records), not here.
    let store = Store::open_in_memory().unwrap();
    let automerge: i64 = store
        .conn
        .query_row(
            "SELECT v FROM records_fts_config WHERE k = 'automerge'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(automerge, 16);
}

#[test]
fn settings_round_trip_and_replace() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.setting("theme").unwrap(), None);
    store.set_setting("theme", "dark").unwrap();
    store.set_setting("theme", "light").unwrap();
    store.set_setting("time_zone", "utc").unwrap();
    assert_eq!(store.setting("theme").unwrap().as_deref(), Some("light"));
    assert_eq!(store.setting("time_zone").unwrap().as_deref(), Some("utc"));
}

#[test]
fn settings_keep_untrusted_text_exactly() {
    let store = Store::open_in_memory().unwrap();
    let value = "'; DROP TABLE settings; -- <script>alert(1)</script> \u{1b}[31m ünï";
    store.set_setting(value, value).unwrap();
    assert_eq!(store.setting(value).unwrap().as_deref(), Some(value));
}

#[cfg(not(target_arch = "wasm32"))]
mod on_disk {
    use super::*;

    /// Imports `bytes` as the segment file `seg-0` of bundle `b`, with the default options.
    fn import_seg_0(store: &mut Store, bytes: &[u8]) {
        store
            .import_segment("b", "seg-0", bytes, ImportOptions::default(), &mut |_| {
                Flow::Continue
            })
            .unwrap();
    }

    #[test]
    fn reopening_keeps_data_and_counts_openings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        {
            let store = Store::open(&path).unwrap();
            store.set_setting("theme", "dark").unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("dark"));
        assert_eq!(store.open_count().unwrap(), 2);
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn a_store_file_is_read_through_a_memory_map() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("trawl.db")).unwrap();
        // SQLite reports 0 if it was built without memory maps.
        let mapped: i64 = store
            .conn
            .query_row("PRAGMA mmap_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mapped, MMAP_BYTES);
    }

    #[test]
    fn a_version_1_store_keeps_its_settings_and_moves_to_32_kib_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(crate::schema::MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1; INSERT INTO settings VALUES ('theme', 'dark')",
        )
        .unwrap();
        drop(conn);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("dark"));
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(page_size(&store), 32768);
    }

    /// Stores made with 16 KiB pages (by builds before pages grew to 32 KiB) keep them:
    /// rewriting a store of millions of records on opening would take minutes.
    #[test]
    fn a_store_with_16_kib_pages_keeps_them_and_takes_more_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        drop(with_16_kib_pages(Connection::open(&path).unwrap()));
        let records = data::parse("HDFS_2k.log", data::HDFS);
        import_seg_0(
            &mut Store::open(&path).unwrap(),
            &data::segment(1, 0, 0, &records, 100),
        );
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(page_size(&store), 16384);
        assert_eq!(store.count(&Query::all()).unwrap(), records.len() as u64);
    }

    /// A store made with 16 KiB pages takes the page size of new stores once it is emptied,
    /// and its file shrinks to no more than a new store's.
    #[test]
    fn deleting_the_last_bundle_gives_the_file_back_with_32_kib_pages() {
        let dir = tempfile::tempdir().unwrap();
        let size = |name: &str| std::fs::metadata(dir.path().join(name)).unwrap().len();
        drop(Store::open(dir.path().join("new.db")).unwrap());
        let path = dir.path().join("old.db");
        drop(with_16_kib_pages(Connection::open(&path).unwrap()));
        let mut store = Store::open(&path).unwrap();
        import::delete_the_only_bundle(&mut store);
        assert_eq!(page_size(&store), 32768);
        assert!(size("old.db") <= size("new.db"), "{} bytes", size("old.db"));
    }

    #[test]
    fn a_store_left_mostly_free_by_its_migration_is_compacted_on_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        let size = || std::fs::metadata(&path).unwrap().len();
        // A Kubernetes pod's log path, the kind of source interning (migration 6) was for.
        let source = "/var/log/pods/payments_payment-api-7f9c4b6d8-x2k4q_\
                      3f6e1a52-9b1d-4c6e-8f3a-2d7c5e9b1a40/payment-api/0.log";
        let records = data::parse(source, data::HDFS);
        let bytes = data::segment(1, 0, 0, &records, 100);
        let imported = {
            let mut store = Store::open(&path).unwrap();
            import_seg_0(&mut store, &bytes);
            let page = store
                .page(&Query::all(), Order::NewestFirst, Cursor::Start, 2000)
                .unwrap();
            downgrade_to_v5(&store.conn);
            store.conn.execute_batch("VACUUM").unwrap();
            page
        };
        let before = size();
        let store = Store::open(&path).unwrap();
        let free: i64 = store
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .unwrap();
        assert_eq!(free, 0);
        assert!(size() < before, "{} bytes, {before} before", size());
        let page = store
            .page(&Query::all(), Order::NewestFirst, Cursor::Start, 2000)
            .unwrap();
        assert_eq!(page, imported);
    }

    #[test]
    fn a_newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
        drop(conn);

        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err}");
        assert!(err.to_string().contains("update trawl"));
        let conn = Connection::open(&path).unwrap();
        let version: u32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION + 1);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trawl.db");
        std::fs::write(&path, b"this is a log file, not a database\n".repeat(200)).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(err.to_string().contains("not a database"), "{err}");
    }
}

/// The store on the browser's origin-private file system, as the viewer's worker opens it.
#[cfg(target_arch = "wasm32")]
mod on_opfs {
    use super::*;
    use sqlite_wasm_rs::WasmOsCallback;
    use sqlite_wasm_vfs::sahpool::{install, OpfsSAHPoolCfgBuilder};

    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn reopening_on_opfs_keeps_data_and_counts_openings() {
        let config = OpfsSAHPoolCfgBuilder::new()
            .vfs_name("trawl-store-test")
            .directory("trawl-store-test")
            .clear_on_init(true)
            .initial_capacity(4)
            .build();
        install::<WasmOsCallback>(&config, false).await.unwrap();
        {
            let store = Store::open_with_vfs("/test.db", "trawl-store-test").unwrap();
            store.set_setting("theme", "dark").unwrap();
        }
        let store = Store::open_with_vfs("/test.db", "trawl-store-test").unwrap();
        assert_eq!(store.setting("theme").unwrap().as_deref(), Some("dark"));
        assert_eq!(store.open_count().unwrap(), 2);
        assert!(store.fts5_available());
    }

    /// As natively: an emptied store on OPFS gives its space back to the browser's quota and
    /// takes the page size of new stores.
    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn deleting_the_last_bundle_on_opfs_gives_its_pages_back() {
        let vfs = "trawl-store-delete-test";
        let config = OpfsSAHPoolCfgBuilder::new()
            .vfs_name(vfs)
            .directory(vfs)
            .clear_on_init(true)
            .initial_capacity(4)
            .build();
        install::<WasmOsCallback>(&config, false).await.unwrap();
        let pages = |store: &Store| -> i64 {
            store
                .conn
                .query_row("PRAGMA page_count", [], |r| r.get(0))
                .unwrap()
        };
        let new_store_pages = pages(&Store::open_with_vfs("/new.db", vfs).unwrap());
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs("/old.db", flags, vfs).unwrap();
        let mut store = Store::from_connection(with_16_kib_pages(conn)).unwrap();
        assert_eq!(page_size(&store), 16384);
        import::delete_the_only_bundle(&mut store);
        assert_eq!(page_size(&store), 32768);
        assert!(pages(&store) <= new_store_pages);
    }
}

#[test]
fn stores_use_32_kib_pages() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(page_size(&store), 32768);
}

/// Makes the new database `conn` a store as builds before 32 KiB pages made it: 16 KiB pages,
/// at schema version 2 (the first that holds records), for [`Store::from_connection`] or
/// [`Store::open`] to migrate on.
fn with_16_kib_pages(conn: Connection) -> Connection {
    conn.pragma_update(None, "page_size", 16384).unwrap();
    crate::fts5::register_tokenizer(&conn).unwrap();
    for migration in &crate::schema::MIGRATIONS[..2] {
        conn.execute_batch(migration).unwrap();
    }
    conn.pragma_update(None, "user_version", 2).unwrap();
    conn
}

fn page_size(store: &Store) -> u32 {
    store
        .conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap()
}

/// Turns a store back into the shape of schema version 5, before sources were interned:
/// `records`, `rollup`, `rollup_hour` and `source_minutes` as tables holding the source path.
pub(crate) fn downgrade_to_v5(conn: &rusqlite::Connection) {
    conn.execute_batch(
        "CREATE TABLE records_v5 AS SELECT * FROM records;
         DROP VIEW records;
         DROP TABLE record_rows;
         ALTER TABLE records_v5 RENAME TO records;
         CREATE INDEX records_source ON records(source, line);
         CREATE TABLE rollup_v5 AS SELECT * FROM rollup;
         DROP VIEW rollup;
         DROP TABLE rollup_minute;
         ALTER TABLE rollup_v5 RENAME TO rollup;
         CREATE TABLE rollup_hour_v5 AS
             SELECT r.segment, r.minute, r.level, r.service, r.host, s.path AS source, r.n
             FROM rollup_hour r LEFT JOIN sources s ON s.id = r.source_id;
         DROP TABLE rollup_hour;
         ALTER TABLE rollup_hour_v5 RENAME TO rollup_hour;
         CREATE TABLE source_minutes_v5 AS
             SELECT m.segment, s.path AS source, m.minute
             FROM source_minutes m LEFT JOIN sources s ON s.id = m.source_id;
         DROP TABLE source_minutes;
         ALTER TABLE source_minutes_v5 RENAME TO source_minutes;
         DROP TABLE sources;
         PRAGMA user_version = 5;",
    )
    .unwrap();
}
