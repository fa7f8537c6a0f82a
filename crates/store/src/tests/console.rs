use super::data::{self, OPENSSH};
use super::test;
use crate::{ConsoleError, ConsoleLimits, Flow, ImportOptions, Store};

fn store() -> Store {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 100);
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_segment(
            "b",
            "seg",
            &bytes[..],
            ImportOptions::default(),
            &mut |_| Flow::Continue,
        )
        .unwrap();
    store
}

const FOREVER: &str =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

#[test]
fn the_console_reads_with_row_limits() {
    let mut store = store();
    let r = store
        .console(
            "SELECT count(*) AS n, max(line) FROM records",
            ConsoleLimits::default(),
        )
        .unwrap();
    assert_eq!(r.columns, ["n", "max(line)"]);
    assert_eq!(r.rows, [[serde_json::json!(2000), serde_json::json!(2000)]]);
    assert!(!r.truncated);
    let limits = ConsoleLimits {
        max_rows: 10,
        ..ConsoleLimits::default()
    };
    let r = store
        .console("SELECT message, raw FROM records", limits)
        .unwrap();
    assert_eq!(r.rows.len(), 10);
    assert!(r.truncated);
    // A long text comes back cut, with its length.
    let limits = ConsoleLimits {
        max_text_chars: 5,
        ..ConsoleLimits::default()
    };
    let r = store
        .console("SELECT 'ab', 'abcdé', 'abcdéf', 'Ω'", limits)
        .unwrap();
    assert_eq!(
        r.rows,
        [["ab", "abcdé", "abcdé… (6 characters)", "Ω"].map(serde_json::Value::from)]
    );
    // Full-text search works from the console too.
    let r = store
        .console(
            "SELECT count(*) FROM records_fts WHERE records_fts MATCH 'failed'",
            ConsoleLimits::default(),
        )
        .unwrap();
    assert!(r.rows[0][0].as_i64().unwrap() > 0);
    assert_eq!(
        store
            .console("PRAGMA user_version", ConsoleLimits::default())
            .unwrap()
            .rows[0][0],
        serde_json::json!(crate::SCHEMA_VERSION)
    );
}

#[test]
fn the_console_never_writes() {
    let mut store = store();
    for sql in [
        "DELETE FROM record_rows",
        "INSERT INTO settings VALUES ('a', 'b')",
        "DROP TABLE record_rows",
        "DROP VIEW records",
        "UPDATE record_rows SET message = ''",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA query_only = OFF",
        "PRAGMA journal_mode = OFF",
        "CREATE TABLE x(y)",
        "BEGIN",
        "INSERT INTO records_fts(records_fts) VALUES ('delete-all')",
    ] {
        let err = store.console(sql, ConsoleLimits::default()).unwrap_err();
        assert!(
            matches!(err, ConsoleError::NotReadOnly(_)),
            "{sql}: {err:?}"
        );
    }
    // The console's tables that are views cannot be written at all: SQLite says so.
    let err = store
        .console("DELETE FROM records", ConsoleLimits::default())
        .unwrap_err();
    assert!(err.to_string().contains("view"), "{err}");
    assert!(store
        .console(
            "SELECT 1; DELETE FROM record_rows",
            ConsoleLimits::default()
        )
        .is_err());
    let r = store
        .console("SELECT count(*) FROM records", ConsoleLimits::default())
        .unwrap();
    assert_eq!(r.rows[0][0], serde_json::json!(2000));
    // The store itself writes again afterwards.
    store.set_setting("after", "console").unwrap();
    assert_eq!(store.setting("after").unwrap().as_deref(), Some("console"));
}

#[test]
fn a_runaway_statement_stops_at_the_time_limit() {
    let mut store = store();
    let limits = ConsoleLimits {
        max_millis: 100,
        ..ConsoleLimits::default()
    };
    let err = store.console(FOREVER, limits).unwrap_err();
    assert!(matches!(err, ConsoleError::Stopped(100)), "{err:?}");
    // The connection is fine afterwards.
    assert_eq!(
        store.console("SELECT 42", limits).unwrap().rows[0][0],
        serde_json::json!(42)
    );
    store.set_setting("k", "v").unwrap();
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn another_thread_can_interrupt_the_console() {
    let mut store = store();
    let handle = store.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        handle.interrupt();
    });
    let limits = ConsoleLimits {
        max_millis: 600_000,
        ..ConsoleLimits::default()
    };
    let err = store.console(FOREVER, limits).unwrap_err();
    stopper.join().unwrap();
    assert!(matches!(err, ConsoleError::Stopped(_)), "{err:?}");
}
