//! Search quality over the real sample logs: labelled queries whose ground truth is a regex
//! scan of the lines, run against FTS5 tables over the same lines with trawl's tokenizer,
//! `unicode61` (SQLite's default) and `trigram`. Prints recall, precision, index size and
//! build time of each, and holds trawl's tokenizer to finding every line a person expects.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;
use std::time::Instant;

use regex::Regex;
use rusqlite::Connection;
use trawl_bundle::Record;
use trawl_store::corpus::segment;
use trawl_store::{Cursor, Flow, ImportOptions, Order, Query, Store};

/// `(what a person types, what they expect to find: a case-insensitive regex over the line)`.
const LABELLED: &[(&str, &str)] = &[
    ("PacketResponder", r"PacketResponder"),
    (
        "\"authentication failure\"",
        r"authentication failure([^a-z0-9]|$)",
    ),
    ("pam_unix", r"pam_unix"),
    ("unix", r"(^|[^a-z0-9])unix([^a-z0-9]|$)"),
    ("Exception", r"exception"),
    ("NoRouteTo*", r"noroute"),
    ("stored", r"stored"),
    ("addStoredBlock", r"addStoredBlock"),
    (
        "attempt_1445144423722_0020_m_000002_0",
        r"attempt_1445144423722_0020_m_000002_0([^0-9]|$)",
    ),
    (
        "10.10.34.11:3888",
        r"(^|[^0-9.])10\.10\.34\.11:3888([^0-9]|$)",
    ),
    (
        "10.10.34.11",
        r"(^|[^0-9.])10\.10\.34\.11([^0-9]|\.[^0-9]|$)",
    ),
    ("/var/www", r"/var/www"),
    ("user=root", r"user=root([^a-z0-9]|$)"),
    ("euid=0", r"euid=0([^0-9]|$)"),
    ("2.0", r"(^|[^0-9.])2\.0([^0-9.]|\.[^0-9]|$)"),
    ("jk2_init", r"jk2_init"),
    ("mod_jk", r"mod_jk([^a-z0-9]|$)"),
    ("org.apache.hadoop", r"org\.apache\.hadoop"),
    ("\"session opened\"", r"session opened"),
    ("rhost", r"(^|[^a-z0-9])rhost([^a-z0-9]|$)"),
    (
        "blk_-8775602795571523802",
        r"blk_-8775602795571523802([^0-9]|$)",
    ),
    (
        "173.234.31.186",
        r"(^|[^0-9.])173\.234\.31\.186([^0-9]|\.[^0-9]|$)",
    ),
    ("ruser", r"(^|[^a-z0-9])ruser([^a-z0-9]|$)"),
    ("\"sshd(pam_unix)\"", r"sshd\(pam_unix\)"),
];

fn sample_lines() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    let mut lines = Vec::new();
    for dir in ["loghub", "synthetic"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{e}: shared/samples must sit beside the checkout"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read(&file).unwrap();
            lines.extend(String::from_utf8_lossy(&text).lines().map(str::to_owned));
        }
    }
    lines
}

struct Index {
    name: &'static str,
    conn: Connection,
    build_ms: f64,
    bytes: i64,
}

fn build(name: &'static str, tokenize: &str, lines: &[String]) -> Index {
    let conn = Connection::open_in_memory().unwrap();
    trawl_store::fts5::register_tokenizer(&conn).unwrap();
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE t USING fts5(body, content = '', tokenize = \"{tokenize}\")"
    ))
    .unwrap();
    let t = Instant::now();
    conn.execute_batch("BEGIN").unwrap();
    {
        let mut insert = conn
            .prepare("INSERT INTO t(rowid, body) VALUES (?1, ?2)")
            .unwrap();
        for (i, line) in lines.iter().enumerate() {
            insert.execute(rusqlite::params![i as i64, line]).unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let bytes = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
            [],
            |r| r.get(0),
        )
        .unwrap();
    Index {
        name,
        conn,
        build_ms,
        bytes,
    }
}

/// The FTS5 expression for what a person typed: a quoted string (through the table's
/// tokenizer), prefix kept where the tokenizer has words (trigram matches substrings anyway).
/// This compares the tokenizers alone; the `store` column is trawl's whole query engine, which
/// also checks a bare compound word (`user=root`) as written.
fn fts_query(typed: &str, index: &str) -> String {
    let (text, prefix) = match typed.strip_suffix('*') {
        Some(text) => (text, true),
        None => (typed, false),
    };
    let text = text.trim_matches('"');
    let quoted = format!("\"{}\"", text.replace('"', "\"\""));
    if prefix && index != "trigram" {
        quoted + " *"
    } else {
        quoted
    }
}

/// The lines as records in a trawl store (`line` = index in `lines`).
fn store_of(lines: &[String]) -> Store {
    let records: Vec<Record> = lines
        .iter()
        .enumerate()
        .map(|(i, line)| Record {
            ts_nanos: Some(1_700_000_000_000_000_000 + i as i64 * 1_000_000),
            source: Some("samples".into()),
            line: Some(i as u64),
            ..Record::message(line.clone())
        })
        .collect();
    let bytes = segment(1, 0, 0, &records, 256);
    let mut store = Store::open_in_memory().unwrap();
    store
        .import_segment(
            "samples",
            "seg",
            &bytes[..],
            ImportOptions::default(),
            &mut |_| Flow::Continue,
        )
        .unwrap();
    store
}

fn store_matches(store: &Store, typed: &str) -> Vec<i64> {
    let page = store
        .page(
            &Query::parse(typed).unwrap(),
            Order::OldestFirst,
            Cursor::Start,
            1_000_000,
        )
        .unwrap();
    let mut lines: Vec<i64> = page.rows.iter().map(|r| r.line.unwrap() as i64).collect();
    lines.sort_unstable();
    lines
}

fn matches(index: &Index, typed: &str) -> Vec<i64> {
    let mut stmt = index
        .conn
        .prepare("SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY rowid")
        .unwrap();
    stmt.query_map([fts_query(typed, index.name)], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn trawl_finds_what_people_expect_in_the_samples() {
    let lines = sample_lines();
    assert!(lines.len() > 15_000);
    let indexes = [
        build("trawl", "trawl", &lines),
        build("unicode61", "unicode61", &lines),
        build("trigram", "trigram", &lines),
    ];
    let store = store_of(&lines);
    let mut totals = vec![(0.0, 0.0); indexes.len() + 1];
    println!(
        "\n{:<40} {:>6} {:>11} {:>11} {:>11} {:>11}",
        "query (recall/precision)", "truth", "store", "trawl tokenizer", "unicode61", "trigram"
    );
    let mut trawl_misses = Vec::new();
    for (typed, truth) in LABELLED {
        let re = Regex::new(&format!("(?i){truth}")).unwrap();
        let expected: Vec<i64> = (0..lines.len() as i64)
            .filter(|&i| re.is_match(&lines[i as usize]))
            .collect();
        assert!(
            !expected.is_empty(),
            "{typed}: no ground truth in the samples"
        );
        let mut row = format!("{typed:<40} {:>6}", expected.len());
        let results = std::iter::once(store_matches(&store, typed))
            .chain(indexes.iter().map(|index| matches(index, typed)));
        for (k, found) in results.enumerate() {
            let hits = found
                .iter()
                .filter(|i| expected.binary_search(i).is_ok())
                .count();
            let recall = hits as f64 / expected.len() as f64;
            let precision = if found.is_empty() {
                1.0
            } else {
                hits as f64 / found.len() as f64
            };
            totals[k].0 += recall;
            totals[k].1 += precision;
            row.push_str(&format!(" {:>11}", format!("{recall:.3}/{precision:.3}")));
            if k == 0 && (recall < 1.0 || precision < 0.95) {
                trawl_misses.push(format!(
                    "{typed}: recall {recall:.3} precision {precision:.3}"
                ));
            }
        }
        println!("{row}");
    }
    let n = LABELLED.len() as f64;
    println!(
        "\n{:<10} {:>8} {:>10} {:>10} {:>12}",
        "tokenizer", "recall", "precision", "build ms", "index bytes"
    );
    println!(
        "{:<10} {:>8.3} {:>10.3}",
        "store",
        totals[0].0 / n,
        totals[0].1 / n
    );
    for (index, (recall, precision)) in indexes.iter().zip(&totals[1..]) {
        println!(
            "{:<10} {:>8.3} {:>10.3} {:>10.1} {:>12}",
            index.name,
            recall / n,
            precision / n,
            index.build_ms,
            index.bytes
        );
    }
    assert!(trawl_misses.is_empty(), "{trawl_misses:#?}");
}
