//! `trawl query` as a user runs it: the real binary over a bundle ingested from real samples.

use std::path::Path;
use std::process::{Command, Output};

const TRAWL: &str = env!("CARGO_BIN_EXE_trawl");

fn trawl(args: &[&str]) -> Output {
    Command::new(TRAWL).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples/loghub")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn ingest(bundle: &Path, file: &str) {
    let o = trawl(&[
        "ingest",
        "--year",
        "2024",
        "--out",
        bundle.to_str().unwrap(),
        file,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn query_counts_lists_and_prints_json_like_the_viewer() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("ssh");
    let log = sample("OpenSSH_2k.log");
    ingest(&bundle, &log);
    let b = bundle.to_str().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let expected = text
        .lines()
        .filter(|l| l.contains("Failed password"))
        .count();

    let count = stdout(&trawl(&["query", b, "\"failed password\"", "--count"]));
    assert_eq!(count.trim(), expected.to_string());
    // The cache sits beside the bundle and is reused (not rebuilt, not grown).
    use std::os::unix::fs::MetadataExt;
    let cache = dir.path().join("ssh.trawl-cache.sqlite");
    let meta = std::fs::metadata(&cache).unwrap();
    let again = stdout(&trawl(&["query", b, "\"failed password\"", "--count"]));
    assert_eq!(again, count);
    let meta_again = std::fs::metadata(&cache).unwrap();
    assert_eq!(
        (meta_again.ino(), meta_again.len()),
        (meta.ino(), meta.len())
    );

    let json = stdout(&trawl(&[
        "query",
        b,
        "173.234.31.186",
        "--json",
        "--limit",
        "5",
        "--oldest-first",
    ]));
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        for key in ["ts", "level", "service", "message", "source", "line"] {
            assert!(row.get(key).is_some(), "{key} in {row}");
        }
        assert!(row["message"].as_str().unwrap().contains("173.234.31.186"));
        assert_eq!(row["source"].as_str().unwrap(), log);
    }
    let lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    let first_lines: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("173.234.31.186"))
        .map(|(i, _)| i as u64 + 1)
        .take(5)
        .collect();
    assert_eq!(lines, first_lines, "oldest first is file order here");

    let listed = stdout(&trawl(&[
        "query",
        b,
        "level:>=warn OR \"failed password\"",
        "--limit",
        "3",
    ]));
    assert_eq!(listed.lines().count(), 3);

    let histogram = stdout(&trawl(&[
        "query",
        b,
        "\"failed password\"",
        "--histogram",
        "--buckets",
        "4",
        "--json",
    ]));
    let total: u64 = histogram
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["total"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(total, expected as u64);
}

#[test]
fn a_histogram_counts_a_stray_time_on_stderr_and_keeps_it_off_the_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(&format!(
            "{{\"time\":\"2025-11-22T08:{:02}:00Z\",\"msg\":\"request {i}\"}}\n",
            i % 60
        ));
    }
    text.push_str("{\"time\":\"2100-01-01T00:00:00Z\",\"msg\":\"year typo\"}\n");
    std::fs::write(&log, text).unwrap();
    let bundle = dir.path().join("b");
    ingest(&bundle, log.to_str().unwrap());
    let o = trawl(&["query", bundle.to_str().unwrap(), "", "--histogram"]);
    let buckets = stdout(&o);
    assert!(
        buckets.lines().all(|l| l.starts_with("2025-11-22T08:")),
        "{buckets}"
    );
    let total: u64 = buckets
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, 1000);
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "trawl: 1 record later than these buckets, from 2100-01-01T00:00:00Z to \
         2100-01-01T00:00:00Z (since:/until: show them)"
    );
}

#[test]
fn a_grown_bundle_is_reindexed_and_a_bad_query_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b");
    ingest(&bundle, &sample("OpenSSH_2k.log"));
    let b = bundle.to_str().unwrap();
    assert_eq!(stdout(&trawl(&["query", b, "", "--count"])).trim(), "2000");
    ingest(&bundle, &sample("HDFS_2k.log"));
    assert_eq!(stdout(&trawl(&["query", b, "", "--count"])).trim(), "4000");
    assert_eq!(
        stdout(&trawl(&["query", b, "source:*", "--count"])).trim(),
        "4000"
    );

    // A damaged cache is rebuilt, not fatal.
    let cache = dir.path().join("b.trawl-cache.sqlite");
    std::fs::write(&cache, b"not a database, just bytes".repeat(1000)).unwrap();
    assert_eq!(stdout(&trawl(&["query", b, "", "--count"])).trim(), "4000");

    let o = trawl(&["query", b, "level:loud"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("column 7") && err.contains("unknown level"),
        "{err}"
    );

    let o = trawl(&["query", dir.path().join("missing").to_str().unwrap(), "x"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a bundle directory"));
}

#[test]
fn a_bundle_made_anew_at_the_same_path_is_not_mixed_with_the_old_ones_cache() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("b");
    let b = bundle.to_str().unwrap();
    ingest(&bundle, &sample("OpenSSH_2k.log"));
    let count = stdout(&trawl(&["query", b, "", "--count"]));
    assert_eq!(count.trim(), "2000");
    // The same path and segment file names, other records (a file at least as long, so
    // names and lengths alone would pass it off as the old bundle grown).
    std::fs::remove_dir_all(&bundle).unwrap();
    ingest(&bundle, &sample("Hadoop_2k.log"));
    let count = stdout(&trawl(&["query", b, "", "--count"]));
    assert_eq!(
        count.trim(),
        "2000",
        "records of the deleted bundle still counted"
    );
    let ssh = stdout(&trawl(&["query", b, "sshd", "--count"]));
    assert_eq!(ssh.trim(), "0");
}
