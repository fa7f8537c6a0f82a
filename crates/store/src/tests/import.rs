use super::data::{self, OPENSSH};
use super::test;
use crate::{Flow, ImportOptions, Store, StoreError};
use trawl_bundle::Finding;

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

fn matches(store: &Store, query: &str) -> i64 {
    store
        .conn
        .query_row(
            "SELECT count(*) FROM records_fts WHERE records_fts MATCH ?1",
            [query],
            |row| row.get(0),
        )
        .unwrap()
}

fn small_batches() -> ImportOptions {
    ImportOptions {
        batch_records: 300,
        ..ImportOptions::default()
    }
}

#[test]
fn batches_grow_from_the_first_batch_size_to_the_full_size() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 50);
    let mut store = Store::open_in_memory().unwrap();
    let options = ImportOptions {
        batch_records: 1000,
        first_batch_records: Some(100),
        ..ImportOptions::default()
    };
    let mut committed = Vec::new();
    store
        .import_segment("b", "seg-0", &bytes[..], options, &mut |p| {
            committed.push(p.records);
            Flow::Continue
        })
        .unwrap();
    // Frames of 50 records: batches of 100, 200, 400, 800, then the 500 left.
    assert_eq!(committed, [100, 300, 700, 1500, 2000]);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
}

fn import(store: &mut Store, file: &str, bytes: &[u8]) -> crate::SegmentReport {
    store
        .import_segment("b", file, bytes, small_batches(), &mut |_| Flow::Continue)
        .unwrap()
}

#[test]
fn a_real_log_imports_completely_and_is_searchable() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    assert_eq!(records.len(), 2000);
    let bytes = data::segment(1, 0, 0, &records, 128);
    let mut store = Store::open_in_memory().unwrap();
    let mut batches = Vec::new();
    let report = store
        .import_segment("b", "seg-0", &bytes[..], small_batches(), &mut |p| {
            batches.push(p.clone());
            Flow::Continue
        })
        .unwrap();
    assert_eq!(report.imported, 2000);
    assert!(report.findings.is_empty() && !report.cancelled);
    assert!(
        batches.len() >= 6,
        "progress after every batch: {batches:?}"
    );
    assert_eq!(batches.last().unwrap().records, 2000);
    assert_eq!(batches.last().unwrap().offset, bytes.len() as u64);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
    // Every record is found by its source line, in order of the keys (time).
    assert_eq!(
        count(
            &store,
            "SELECT count(DISTINCT line) FROM records WHERE source = 'OpenSSH_2k.log'"
        ),
        2000
    );
    let expected = OPENSSH
        .lines()
        .filter(|l| l.contains("Failed password"))
        .count() as i64;
    assert!(expected > 0);
    assert_eq!(matches(&store, "\"failed password\""), expected);
    let ip = OPENSSH
        .lines()
        .filter(|l| l.contains("173.234.31.186"))
        .count() as i64;
    assert!(ip > 0);
    assert_eq!(matches(&store, "\"173.234.31.186\""), ip);
    let (records, min_ts, max_ts): (i64, i64, i64) = store
        .conn
        .query_row("SELECT records, min_ts, max_ts FROM segments", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(records, 2000);
    assert!(min_ts < max_ts);
}

#[test]
fn importing_again_changes_nothing_and_a_grown_segment_adds_only_the_new_records() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut store = Store::open_in_memory().unwrap();
    let first = data::segment(7, 3, 100, &records[..1200], 100);
    assert_eq!(import(&mut store, "seg-3", &first).imported, 1200);
    let again = import(&mut store, "seg-3", &first);
    assert_eq!((again.imported, again.already_present), (0, 1200));
    // The writer appended to the live segment: same identity, more frames.
    let grown = data::segment(7, 3, 100, &records, 100);
    let more = import(&mut store, "seg-3", &grown);
    assert_eq!((more.imported, more.already_present), (800, 1200));
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
    assert_eq!(
        count(&store, "SELECT count(DISTINCT seq) FROM records"),
        2000
    );
    assert_eq!(count(&store, "SELECT count(*) FROM segments"), 1);
    assert_eq!(count(&store, "SELECT next_seq FROM segments"), 2100);
    // A different segment with the same records is different data: it is imported.
    let other = data::segment(8, 0, 0, &records[..10], 100);
    assert_eq!(import(&mut store, "seg-0", &other).imported, 10);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2010);
}

#[test]
fn a_damaged_frame_is_a_finding_and_the_rest_imports() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let mut bytes = data::segment(1, 0, 0, &records, 100);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let mut store = Store::open_in_memory().unwrap();
    let report = import(&mut store, "seg-0", &bytes);
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert!(matches!(report.findings[0], Finding::BadFrame { .. }));
    assert!(matches!(report.findings[1], Finding::SequenceGap { .. }));
    assert_eq!(report.imported, 1900);
    let stored: String = store
        .conn
        .query_row("SELECT findings FROM segments", [], |r| r.get(0))
        .unwrap();
    assert!(stored.contains("bad_frame"), "{stored}");
    // The library names the damage in words, with file and offset.
    let library = store.bundles().unwrap();
    assert_eq!(library.len(), 1);
    let bundle = &library[0];
    assert_eq!((bundle.name.as_str(), bundle.records), ("b", 1900));
    assert!(bundle.complete);
    assert_eq!(bundle.bytes, bytes.len() as u64);
    let header = trawl_bundle::SegmentHeader::decode(&bytes).unwrap();
    let (writer, salt) = (
        header.writer_id.to_string(),
        format!("{:016x}", header.salt),
    );
    let seq = header.segment_seq;
    assert!(store
        .has_segment(&writer, seq, &salt, bytes.len() as u64)
        .unwrap());
    assert!(!store
        .has_segment(&writer, seq, &salt, bytes.len() as u64 + 1)
        .unwrap());
    assert!(!store
        .has_segment(&writer, seq + 1, &salt, bytes.len() as u64)
        .unwrap());
    assert_eq!(bundle.findings.len(), 2);
    assert!(
        bundle.findings[0].starts_with("seg-0: bad frame at offset "),
        "{:?}",
        bundle.findings
    );
}

#[test]
fn a_segment_that_is_not_one_is_an_error_naming_the_file() {
    let mut store = Store::open_in_memory().unwrap();
    let err = store
        .import_segment(
            "b",
            "notes.txt",
            &b"hello, not a segment at all, long enough to read a header from it"[..],
            small_batches(),
            &mut |_| Flow::Continue,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Read(_)));
    assert!(err.to_string().contains("notes.txt"), "{err}");
    assert_eq!(count(&store, "SELECT count(*) FROM segments"), 0);
}

#[test]
fn cancelling_keeps_committed_batches_and_the_next_import_resumes() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 100);
    let mut store = Store::open_in_memory().unwrap();
    let report = store
        .import_segment("b", "seg-0", &bytes[..], small_batches(), &mut |_| {
            Flow::Cancel
        })
        .unwrap();
    assert!(report.cancelled);
    let kept = count(&store, "SELECT count(*) FROM records");
    assert_eq!(kept as u64, report.imported);
    assert!(kept > 0 && kept < 2000);
    let rest = import(&mut store, "seg-0", &bytes);
    assert_eq!(rest.imported + kept as u64, 2000);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
}

#[test]
fn a_step_reads_at_most_its_batch_bytes_and_one_frame() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 50);
    let mut store = Store::open_in_memory().unwrap();
    let options = ImportOptions {
        batch_records: 100_000,
        batch_bytes: 4096,
        ..ImportOptions::default()
    };
    let mut import = store
        .begin_segment("b", "seg-0", &bytes[..], options)
        .unwrap();
    // The largest frame of the segment (frames are compressed natively, not in wasm).
    let mut reader = trawl_bundle::SegmentReader::open(&bytes[..], "seg-0").unwrap();
    let mut offsets = Vec::new();
    while let Some(item) = reader.next() {
        match item.unwrap() {
            trawl_bundle::Item::Records { offset, .. } => offsets.push(offset),
            trawl_bundle::Item::Finding(f) => panic!("{f}"),
        }
    }
    offsets.push(bytes.len() as u64);
    let frame = offsets.windows(2).map(|w| w[1] - w[0]).max().unwrap();
    let mut last = 0;
    let mut steps = 0;
    while let Some(progress) = import.step(&mut store).unwrap() {
        // From the frame after the last batch to the frame that crosses the bound.
        assert!(
            progress.offset - last <= 4096 + 2 * frame,
            "{} → {}",
            last,
            progress.offset
        );
        last = progress.offset;
        steps += 1;
    }
    assert!(steps > 3, "the byte bound made {steps} batches");
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
}

#[test]
fn a_stepped_import_can_be_searched_between_batches_and_dropped_midway() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 100);
    let mut store = Store::open_in_memory().unwrap();
    let mut import = store
        .begin_segment("b", "seg-0", &bytes[..], small_batches())
        .unwrap();
    let first = import.step(&mut store).unwrap().expect("a batch");
    // Between batches the store answers queries with what is committed.
    let so_far = store.count(&crate::Query::all()).unwrap();
    assert_eq!(so_far, first.records);
    let second = import.step(&mut store).unwrap().expect("another batch");
    assert!(second.records > first.records && second.offset >= first.offset);
    drop(import);
    let kept = count(&store, "SELECT count(*) FROM records") as u64;
    assert_eq!(kept, second.records);
    // Importing again resumes after the last committed batch and completes the segment.
    let mut again = store
        .begin_segment("b", "seg-0", &bytes[..], small_batches())
        .unwrap();
    while again.step(&mut store).unwrap().is_some() {}
    assert_eq!(again.report().already_present, kept);
    assert_eq!(again.report().imported + kept, 2000);
    assert!(again.step(&mut store).unwrap().is_none(), "done stays done");
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
}

#[test]
fn a_full_disk_rolls_back_the_batch_and_reports_file_and_offset() {
    let records = data::parse("HDFS_2k.log", data::HDFS);
    let bytes = data::segment(1, 0, 0, &records, 100);
    let mut store = Store::open_in_memory().unwrap();
    let pages = count(&store, "PRAGMA page_count");
    let room = 960 * 1024 / count(&store, "PRAGMA page_size");
    // Room for some batches, not all: SQLite then fails with SQLITE_FULL, as on a full disk or
    // an exhausted browser quota.
    store
        .conn
        .execute_batch(&format!("PRAGMA max_page_count = {}", pages + room))
        .unwrap();
    let mut committed = 0;
    let err = store
        .import_segment("b", "seg-0", &bytes[..], small_batches(), &mut |p| {
            committed = p.records;
            Flow::Continue
        })
        .unwrap_err();
    let StoreError::Import { file, offset, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(file, "seg-0");
    assert!(*offset > 0);
    assert!(err.to_string().contains("full"), "{err}");
    assert!(committed > 0, "some batches fit");
    assert_eq!(
        count(&store, "SELECT count(*) FROM records") as u64,
        committed
    );
    assert_eq!(
        count(&store, "SELECT next_seq FROM segments") as u64,
        committed
    );
    // FTS holds exactly the committed records.
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM records_fts WHERE records_fts MATCH 'block'"
        ) as usize,
        count(
            &store,
            "SELECT count(*) FROM records WHERE message LIKE '%block%'"
        ) as usize
    );
    // With room again, the import finishes with nothing twice.
    store
        .conn
        .execute_batch("PRAGMA max_page_count = 1073741823")
        .unwrap();
    let rest = import(&mut store, "seg-0", &bytes);
    assert_eq!(rest.imported + committed, 2000);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
    store
        .conn
        .execute_batch("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')")
        .unwrap();
}

#[test]
fn deleting_a_bundle_removes_its_records_and_only_them() {
    let mut store = Store::open_in_memory().unwrap();
    let ssh = data::parse("OpenSSH_2k.log", OPENSSH);
    let hdfs = data::parse("HDFS_2k.log", data::HDFS);
    for (bundle, writer, records) in [("ssh", 1, &ssh), ("hdfs", 2, &hdfs)] {
        let bytes = data::segment(writer, 0, 0, records, 100);
        store
            .import_segment(bundle, "seg-0", &bytes[..], small_batches(), &mut |_| {
                Flow::Continue
            })
            .unwrap();
    }
    let failed = matches(&store, "\"failed password\"");
    assert!(failed > 0);
    let responders = matches(&store, "PacketResponder");
    assert!(responders > 0);
    let names = |store: &Store| -> Vec<(String, u64)> {
        let library = store.bundles().unwrap();
        library.into_iter().map(|b| (b.name, b.records)).collect()
    };
    assert_eq!(
        names(&store),
        [("hdfs".to_owned(), 2000), ("ssh".to_owned(), 2000)]
    );
    assert_eq!(store.delete_bundle("hdfs").unwrap(), 2000);
    assert_eq!(names(&store), [("ssh".to_owned(), 2000)]);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
    assert_eq!(matches(&store, "PacketResponder"), 0);
    assert_eq!(matches(&store, "\"failed password\""), failed);
    assert_eq!(count(&store, "SELECT count(*) FROM segments"), 1);
    assert_eq!(count(&store, "SELECT sum(n) FROM rollup"), 2000);
    assert_eq!(count(&store, "SELECT sum(n) FROM rollup_hour"), 2000);
    let paths: Vec<String> = store
        .conn
        .prepare("SELECT path FROM sources")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        paths,
        ["OpenSSH_2k.log"],
        "the deleted bundle's source went"
    );
    store
        .conn
        .execute_batch("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')")
        .unwrap();
    // Importing it again brings it back.
    let bytes = data::segment(2, 0, 0, &hdfs, 100);
    assert_eq!(import(&mut store, "seg-0", &bytes).imported, 2000);
    assert_eq!(matches(&store, "PacketResponder"), responders);
}

/// Imports a real log into `store` as its only bundle, deletes it, and checks what is left: no
/// records, an empty full-text index that passes its integrity check, and no free pages.
pub(super) fn delete_the_only_bundle(store: &mut Store) {
    let ssh = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &ssh, 100);
    assert_eq!(import(store, "seg-0", &bytes).imported, 2000);
    assert!(matches(store, "\"failed password\"") > 0);
    assert_eq!(store.delete_bundle("b").unwrap(), 2000);
    assert_eq!(count(store, "SELECT count(*) FROM records"), 0);
    assert_eq!(count(store, "SELECT count(*) FROM segments"), 0);
    assert_eq!(matches(store, "\"failed password\""), 0);
    // What FTS5 keeps for an index with no terms: its averages and its structure.
    assert_eq!(count(store, "SELECT count(*) FROM records_fts_data"), 2);
    store
        .conn
        .execute_batch("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')")
        .unwrap();
    assert_eq!(
        count(store, "SELECT freelist_count FROM pragma_freelist_count"),
        0
    );
}

#[test]
fn deleting_the_last_bundle_leaves_a_store_no_bigger_than_a_new_one() {
    let new_store_pages = count(
        &Store::open_in_memory().unwrap(),
        "SELECT page_count FROM pragma_page_count",
    );
    let mut store = Store::open_in_memory().unwrap();
    delete_the_only_bundle(&mut store);
    let pages = count(&store, "SELECT page_count FROM pragma_page_count");
    assert!(
        pages <= new_store_pages,
        "{pages} pages, {new_store_pages} new"
    );
    // It takes the bundle again.
    let ssh = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &ssh, 100);
    assert_eq!(import(&mut store, "seg-0", &bytes).imported, 2000);
    assert!(matches(&store, "\"failed password\"") > 0);
}

#[test]
fn many_bundles_of_the_same_times_import_side_by_side() {
    // HDFS logs have second-resolution times: a thousand records can share a millisecond, and
    // every copy's keys collide with the copies before it.
    let records = data::parse("HDFS_2k.log", data::HDFS);
    let mut store = Store::open_in_memory().unwrap();
    for copy in 0..12 {
        let bytes = data::segment(1000 + copy, 0, 0, &records, 200);
        assert_eq!(import(&mut store, "seg-0", &bytes).imported, 2000);
    }
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 24_000);
    assert_eq!(
        count(&store, "SELECT count(DISTINCT id) FROM records"),
        24_000
    );
    // Keys still follow time.
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM (SELECT ts, lag(ts) OVER (ORDER BY id) AS prev FROM records)
             WHERE ts / 1000000 < prev / 1000000"
        ),
        0
    );
}

#[test]
fn a_batch_whose_time_range_holds_other_records_gets_the_keys_it_gets_alone() {
    // A batch goes in with one statement where the store has nothing in its time range, and
    // row by row (checking each key) where it has: both ways give a record the same key.
    let records: Vec<_> = (0..200).map(|i| at("app.log", i / 60, i % 60)).collect();
    let bytes = data::segment(1, 0, 0, &records, 50);
    let mut other = at("other.log", 1, 30);
    other.ts_nanos = other.ts_nanos.map(|ts| ts + 500_000_000);
    let keys = |store: &Store| -> Vec<(i64, String)> {
        store
            .conn
            .prepare("SELECT id, message FROM records WHERE source = 'app.log' ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let mut alone = Store::open_in_memory().unwrap();
    assert_eq!(import(&mut alone, "seg-0", &bytes).imported, 200);
    let mut among = Store::open_in_memory().unwrap();
    import(&mut among, "seg-9", &data::segment(2, 0, 0, &[other], 50));
    assert_eq!(import(&mut among, "seg-0", &bytes).imported, 200);
    assert_eq!(keys(&among), keys(&alone));
    assert_eq!(keys(&alone).len(), 200);
    for store in [&alone, &among] {
        assert_eq!(matches(store, "\"app.log\""), 200);
        store
            .conn
            .execute_batch("INSERT INTO records_fts(records_fts) VALUES ('integrity-check')")
            .unwrap();
    }
    assert_eq!(matches(&among, "\"other.log\""), 1);
}

#[test]
fn each_batch_whose_times_step_back_is_indexed_as_one_full_text_segment() {
    // As concurrent writers leave them: every fourth record 3 ms before the one before it.
    const START: i64 = 1_709_287_200_000_000_000;
    let records: Vec<_> = (0..1000i64)
        .map(|i| trawl_bundle::Record {
            ts_nanos: Some(START + (i - if i % 4 == 3 { 3 } else { 0 }) * 1_000_000),
            message: format!("request {i} served"),
            ..trawl_bundle::Record::default()
        })
        .collect();
    let mut store = Store::open_in_memory().unwrap();
    // No merging, so every segment FTS5 writes stays countable.
    store
        .conn
        .execute_batch(
            "INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', 0);
             INSERT INTO records_fts(records_fts, rank) VALUES ('crisismerge', 1999);",
        )
        .unwrap();
    let bytes = data::segment(1, 0, 0, &records, 100);
    assert_eq!(import(&mut store, "seg-0", &bytes).imported, 1000);
    // Batches of 300 records: four batches, four segments.
    assert_eq!(
        count(&store, "SELECT count(DISTINCT segid) FROM records_fts_idx"),
        4
    );
    assert_eq!(matches(&store, "request AND served"), 1000);
    assert_eq!(matches(&store, "\"request 999\""), 1);
}

/// A record of `source` at `minute` minutes and `second` seconds after 2024-03-01T10:00:00Z.
fn at(source: &str, minute: i64, second: i64) -> trawl_bundle::Record {
    const START: i64 = 1_709_287_200_000_000_000;
    trawl_bundle::Record {
        ts_nanos: Some(START + (minute * 60 + second) * 1_000_000_000),
        message: format!("{source} at {minute}:{second:02}"),
        source: Some(source.to_owned()),
        ..trawl_bundle::Record::default()
    }
}

#[test]
fn a_bundles_gaps_are_its_sources_unusual_silences_across_segments() {
    // access.log writes every 20 s, falls silent from 10:29:40 to 10:47:20 (the silence spans
    // the two segments), and then writes on; cron.log writes once an hour, which is not a gap.
    let busy = |minutes: std::ops::Range<i64>| {
        minutes.flat_map(|m| [0, 20, 40].map(|s| at("access.log", m, s)))
    };
    let mut first: Vec<_> = busy(0..30).collect();
    first.insert(0, at("cron.log", 0, 5));
    let mut second: Vec<_> = busy(47..60).skip(1).collect();
    second.push(at("cron.log", 60, 5));
    // A record without a time before the rest keeps the time of none: it makes no gap.
    let untimed = trawl_bundle::Record {
        message: "no time".into(),
        source: Some("access.log".into()),
        ..trawl_bundle::Record::default()
    };
    first.insert(0, untimed);
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, "seg-0", &data::segment(7, 0, 0, &first, 16));
    let next = first.len() as u64;
    import(&mut store, "seg-1", &data::segment(7, 1, next, &second, 16));
    // Another bundle with records of a same-named source inside the silence does not fill it.
    let other: Vec<_> = (30..47).map(|m| at("access.log", m, 0)).collect();
    store
        .import_segment(
            "other",
            "seg-0",
            &data::segment(8, 0, 0, &other, 16)[..],
            small_batches(),
            &mut |_| Flow::Continue,
        )
        .unwrap();

    let library = store.bundles().unwrap();
    let bundle = library.iter().find(|b| b.name == "b").unwrap();
    assert_eq!(bundle.gaps.len(), 1, "{:?}", bundle.gaps);
    let gap = &bundle.gaps[0];
    assert_eq!(gap.source.as_deref(), Some("access.log"));
    let detail = |id| store.record(id).unwrap().unwrap().row.message;
    assert_eq!(detail(gap.before_id), "access.log at 29:40");
    assert_eq!(detail(gap.after_id), "access.log at 47:20");
    assert_eq!(
        gap.to_nanos - gap.from_nanos,
        (17 * 60 + 40) * 1_000_000_000
    );
    let other = library.iter().find(|b| b.name == "other").unwrap();
    assert!(other.gaps.is_empty(), "{:?}", other.gaps);

    // A store imported before the minutes were kept finds the same gaps after migrating.
    super::downgrade_to_v5(&store.conn);
    store
        .conn
        .execute_batch(
            "DROP TABLE source_minutes; ALTER TABLE segments DROP COLUMN created_nanos;
             PRAGMA user_version = 3;",
        )
        .unwrap();
    crate::schema::migrate(&mut store.conn).unwrap();
    assert_eq!(store.bundles().unwrap(), library);
}

#[test]
fn a_short_or_usual_silence_is_not_a_gap() {
    // Four silent minutes in a busy stream, and a stream that writes every 10 minutes.
    let mut records: Vec<_> = (0..20)
        .filter(|m| !(5..9).contains(m))
        .map(|m| at("busy.log", m, 30))
        .collect();
    records.extend((0..6).map(|i| at("slow.log", i * 10, 0)));
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, "seg-0", &data::segment(1, 0, 0, &records, 16));
    assert_eq!(store.bundles().unwrap()[0].gaps, []);
}

/// Every record (all columns, by key), the full-text index (every term instance) and the
/// segment's findings: all an import leaves in a store.
fn contents(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    for sql in [
        "SELECT * FROM records ORDER BY id",
        "SELECT * FROM temp.trawl_test_terms ORDER BY term, doc, col, offset",
        "SELECT segment_seq, next_seq, records, min_ts, max_ts, findings, complete, bytes
         FROM segments",
    ] {
        let mut rows = store.conn.prepare(sql).unwrap();
        let width = rows.column_count();
        let dump = rows
            .query_map([], |row| {
                (0..width)
                    .map(|i| row.get::<_, rusqlite::types::Value>(i))
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap()
            .map(|row| format!("{:?}", row.unwrap()));
        out.extend(dump);
    }
    out
}

/// An empty store whose full-text index's term instances [`contents`] dumps too.
fn store_with_terms() -> Store {
    let store = Store::open_in_memory().unwrap();
    store
        .conn
        .execute_batch(
            "CREATE VIRTUAL TABLE temp.trawl_test_terms
             USING fts5vocab(main, records_fts, 'instance')",
        )
        .unwrap();
    store
}

#[test]
fn importing_at_once_stores_exactly_what_importing_step_by_step_stores() {
    // Frames of three records, JSON with fields and plain text, and a damaged frame: natively
    // `import_segment` reads the segment on a second thread, in chunks of many frames, while
    // `step` reads it a frame at a time.
    let mut records = data::parse("apps.log", data::CRI_JSON);
    records.extend(data::parse("OpenSSH_2k.log", OPENSSH));
    let mut bytes = data::segment(1, 0, 0, &records, 3);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let mut stores = [store_with_terms(), store_with_terms()];
    let [at_once, stepped] = &mut stores;
    let report = import(at_once, "seg-0", &bytes);
    let mut import = stepped
        .begin_segment("b", "seg-0", &bytes[..], small_batches())
        .unwrap();
    while import.step(stepped).unwrap().is_some() {}
    assert_eq!(&report, import.report());
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert_eq!(report.imported, records.len() as u64 - 3);
    let stored = contents(at_once);
    assert!(stored.len() > 2 * records.len(), "terms dumped too");
    assert_eq!(stored, contents(stepped));
}

/// Reads `bytes`, then fails as a disk that went away does.
struct FailingAfter<'a> {
    bytes: &'a [u8],
}

impl std::io::Read for FailingAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.bytes.is_empty() {
            return Err(std::io::Error::other("the disk went away"));
        }
        self.bytes.read(buf)
    }
}

#[test]
fn a_read_error_midway_is_reported_with_the_file_and_keeps_the_committed_batches() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 100);
    let mut store = Store::open_in_memory().unwrap();
    let mut committed = 0;
    let err = store
        .import_segment(
            "b",
            "seg-0",
            FailingAfter {
                bytes: &bytes[..bytes.len() * 2 / 3],
            },
            small_batches(),
            &mut |p| {
                committed = p.records;
                Flow::Continue
            },
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Read(_)), "{err:?}");
    assert!(err.to_string().contains("seg-0"), "{err}");
    assert!(err.to_string().contains("the disk went away"), "{err}");
    assert!(
        committed >= 900,
        "the batches before the failure: {committed}"
    );
    assert_eq!(
        count(&store, "SELECT count(*) FROM records") as u64,
        committed
    );
    // Readable again, the import resumes after the committed batches.
    let rest = import(&mut store, "seg-0", &bytes);
    assert_eq!(rest.imported + committed, 2000);
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
}

/// The full-text index's merge settings: automerge, and crisismerge (FTS5's default 16 when
/// unset).
fn merge_settings(store: &Store) -> (i64, i64) {
    store
        .conn
        .query_row(
            "SELECT (SELECT v FROM records_fts_config WHERE k = 'automerge'),
                    coalesce((SELECT v FROM records_fts_config WHERE k = 'crisismerge'), 16)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

const INDEX_SEGMENTS: &str = "SELECT count(DISTINCT segid) FROM records_fts_idx";

#[test]
fn a_bulk_load_merges_the_index_once_at_the_end_and_stores_what_an_import_stores() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 50);
    let mut stores = [store_with_terms(), store_with_terms()];
    let [bulk, ordinary] = &mut stores;
    let report = bulk
        .bulk_load(|store| {
            assert_eq!(merge_settings(store), (0, 64), "merges held back");
            let report = import(store, "seg-0", &bytes);
            // Seven batches of up to 300 records, seven segments, none merged yet.
            assert_eq!(count(store, INDEX_SEGMENTS), 7);
            Ok::<_, StoreError>(report)
        })
        .unwrap();
    assert_eq!(report.imported, 2000);
    assert_eq!(count(bulk, INDEX_SEGMENTS), 1, "merged into one b-tree");
    assert_eq!(merge_settings(bulk), (16, 16), "ordinary merges restored");
    assert_eq!(&import(ordinary, "seg-0", &bytes), &report);
    assert_eq!(contents(bulk), contents(ordinary));
    assert_eq!(
        matches(bulk, "\"invalid user\""),
        matches(ordinary, "\"invalid user\"")
    );
}

#[test]
fn a_failed_bulk_load_keeps_what_it_committed_and_restores_the_merge_settings() {
    let records = data::parse("OpenSSH_2k.log", OPENSSH);
    let bytes = data::segment(1, 0, 0, &records, 50);
    let mut store = Store::open_in_memory().unwrap();
    let failed = store.bulk_load(|store| {
        import(store, "seg-0", &bytes);
        // Any error of the caller's, after a committed import.
        Err::<(), _>(StoreError::UnknownBundle("gave up".into()))
    });
    assert!(
        matches!(&failed, Err(StoreError::UnknownBundle(b)) if b == "gave up"),
        "{failed:?}"
    );
    assert_eq!(count(&store, "SELECT count(*) FROM records"), 2000);
    assert_eq!(merge_settings(&store), (16, 16));
    // No final merge: the segments of the seven batches are still there.
    assert_eq!(count(&store, INDEX_SEGMENTS), 7);
    let invalid_user = count(
        &store,
        "SELECT count(*) FROM records WHERE message LIKE '%invalid user%'",
    );
    assert!(invalid_user > 100);
    assert_eq!(matches(&store, "\"invalid user\""), invalid_user);
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
fn opening_a_store_restores_the_merge_settings_a_dead_bulk_load_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trawl.db");
    {
        // What a process killed inside `bulk_load` leaves in the file.
        let store = Store::open(&path).unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', 0);
                 INSERT INTO records_fts(records_fts, rank) VALUES ('crisismerge', 64);",
            )
            .unwrap();
        assert_eq!(merge_settings(&store), (0, 64));
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(merge_settings(&store), (16, 16));
}
