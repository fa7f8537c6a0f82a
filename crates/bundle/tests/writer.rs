//! The writer's guarantees on the real file system (and on [`SimFs`] where a test needs to
//! count or slow down operations).

mod common;

use std::{
    fmt,
    io::{self, Read},
    path::Path,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

use common::{check_prefix, read_all, record};
use trawl_bundle::{
    fs::{Fs, FsFile, StdFs},
    sim::SimFs,
    Durability, Manifest, Options, Retention, Writer, WriterError,
};

fn small_segments(durability: Durability) -> Options {
    Options {
        durability,
        max_segment_bytes: 4096,
        block_bytes: 1024,
        ..Options::default()
    }
}

#[test]
fn appends_survive_close_and_reopen_and_sequences_resume() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, report) = Writer::open(dir.path(), Options::default()).unwrap();
    assert_eq!(report.last_seq, 0);
    for seq in 1..=100 {
        assert_eq!(writer.append(&record(seq, 300)).unwrap(), seq);
    }
    assert_eq!(writer.durable_seq(), 100, "every-record durability");
    let closed = writer.close().unwrap();
    assert_eq!(closed.last_seq, 100);
    assert_eq!(closed.manifest.record_count, 100);

    let (writer, report) = Writer::open(dir.path(), Options::default()).unwrap();
    assert_eq!(report.last_seq, 100);
    assert_eq!(writer.append(&record(101, 300)).unwrap(), 101);
    writer.close().unwrap();
    assert_eq!(check_prefix(&StdFs, dir.path(), 1, 101, 300).unwrap(), 101);
}

#[test]
fn rotation_seals_segments_and_the_manifest_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, _) = Writer::open(dir.path(), small_segments(Durability::EveryRecord)).unwrap();
    let records: Vec<_> = (1..=200).map(|s| record(s, 200)).collect();
    for r in &records {
        writer.append(r).unwrap();
    }
    let closed = writer.close().unwrap();
    let segments = &closed.manifest.segments;
    assert!(segments.len() > 3, "{} segments", segments.len());
    assert!(segments.iter().all(|s| s.sealed && s.crc32c.is_some()));
    assert!(
        segments.iter().all(|s| s.bytes <= 4096 + 1024),
        "no segment much over the limit"
    );
    let mut next = 1;
    for s in segments {
        assert_eq!(s.first_seq, next);
        next += s.record_count;
    }
    assert_eq!(next, 201);
    // The manifest on disk says the same, and the records read back are the records written.
    assert_eq!(Manifest::read(&StdFs, dir.path()).unwrap(), closed.manifest);
    let read: Vec<_> = read_all(&StdFs, dir.path())
        .unwrap()
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    assert_eq!(read, records);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn retention_keeps_the_newest_segments() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        retention: Retention {
            max_segments: Some(3),
            max_bytes: None,
            max_age: None,
        },
        ..small_segments(Durability::Manual)
    };
    let (writer, _) = Writer::open(dir.path(), options).unwrap();
    for seq in 1..=300 {
        writer.append(&record(seq, 200)).unwrap();
    }
    let closed = writer.close().unwrap();
    assert_eq!(closed.manifest.segments.len(), 3);
    let first = closed.manifest.segments[0].first_seq;
    assert!(first > 1);
    assert_eq!(
        check_prefix(&StdFs, dir.path(), first, 300, 200).unwrap(),
        300
    );
}

#[test]
fn retention_by_age_deletes_segments_sealed_long_enough_ago() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        retention: Retention {
            max_age: Some(Duration::from_millis(1500)),
            ..Retention::default()
        },
        ..small_segments(Durability::Manual)
    };
    let (writer, _) = Writer::open(dir.path(), options).unwrap();
    for seq in 1..=100 {
        writer.append(&record(seq, 200)).unwrap();
    }
    writer.sync().unwrap();
    let segments = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "seg")
            })
            .count()
    };
    let before = segments();
    assert!(before > 3, "{before} segments: young ones are kept");
    std::thread::sleep(Duration::from_millis(1700));
    // The next rotation applies retention: everything sealed before the pause goes.
    for seq in 101..=130 {
        writer.append(&record(seq, 200)).unwrap();
    }
    let closed = writer.close().unwrap();
    let first = closed.manifest.segments[0].first_seq;
    assert!(
        first > 60,
        "old segments were deleted (records start at {first})"
    );
    assert!(
        segments() < before,
        "{} segments left of {before}",
        segments()
    );
    assert_eq!(
        check_prefix(&StdFs, dir.path(), first, 130, 200).unwrap(),
        130
    );
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = Writer::open(dir.path(), Options::default()).unwrap();
    let err = Writer::open(dir.path(), Options::default()).unwrap_err();
    assert!(matches!(err, WriterError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("another writer has this bundle open"),
        "{err}"
    );
    first.close().unwrap();
    let (again, _) = Writer::open(dir.path(), Options::default()).unwrap();
    again.close().unwrap();
}

#[test]
fn manual_durability_is_reached_only_by_sync() {
    let fs = SimFs::new();
    let (writer, _) = Writer::open_with_fs(
        Arc::new(fs.clone()),
        Path::new("/b"),
        Options::with_durability(Durability::Manual),
    )
    .unwrap();
    for seq in 1..=10 {
        assert_eq!(writer.append(&record(seq, 50)).unwrap(), seq);
    }
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(writer.durable_seq(), 0, "nothing is durable before sync");
    assert_eq!(writer.sync().unwrap(), 10);
    assert_eq!(writer.durable_seq(), 10);
    // What sync promised survives a power cut that loses everything unsynced.
    let after = fs.crash(trawl_bundle::sim::Crash::Clean);
    drop(writer);
    assert_eq!(
        check_prefix(&after, Path::new("/b"), 1, 10, 50).unwrap(),
        10
    );
}

#[test]
fn interval_and_byte_policies_make_records_durable_by_themselves() {
    for durability in [
        Durability::Interval(Duration::from_millis(20)),
        Durability::Bytes(500),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (writer, _) = Writer::open(dir.path(), Options::with_durability(durability)).unwrap();
        for seq in 1..=20 {
            writer.append(&record(seq, 100)).unwrap();
        }
        let mut waited = 0;
        while writer.durable_seq() < 20 && waited < 5000 {
            std::thread::sleep(Duration::from_millis(5));
            waited += 5;
        }
        if let Durability::Bytes(_) = durability {
            // The last few records may stay below the byte threshold: a sync covers them.
            writer.sync().unwrap();
        }
        assert_eq!(writer.durable_seq(), 20, "{durability:?}");
        writer.close().unwrap();
    }
}

#[test]
fn the_interval_policy_syncs_a_record_appended_to_an_idle_writer() {
    // The background thread is idle (waiting with no deadline) when the record comes: the
    // append has to start its clock.
    let dir = tempfile::tempdir().unwrap();
    let every = Duration::from_millis(20);
    let options = Options::with_durability(Durability::Interval(every));
    let (writer, _) = Writer::open(dir.path(), options).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(writer.append(&record(1, 100)).unwrap(), 1);
    let appended = std::time::Instant::now();
    while writer.durable_seq() < 1 && appended.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        writer.durable_seq(),
        1,
        "not durable {every:?} after the append"
    );
    writer.close().unwrap();
}

/// An [`Fs`] whose syncs take a while, counting them: makes group commit observable.
#[derive(Debug, Clone)]
struct SlowSyncFs {
    inner: SimFs,
    syncs: Arc<AtomicU64>,
}

#[derive(Debug)]
struct SlowFile {
    inner: Box<dyn FsFile>,
    syncs: Arc<AtomicU64>,
}

impl FsFile for SlowFile {
    fn append(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.append(buf)
    }
    fn sync_data(&mut self) -> io::Result<()> {
        std::thread::sleep(Duration::from_millis(2));
        self.syncs.fetch_add(1, Ordering::SeqCst);
        self.inner.sync_data()
    }
    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.inner.truncate(len)
    }
}

impl Fs for SlowSyncFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        self.inner.create_dir_all(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        self.inner.list(dir)
    }
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let inner = self.inner.create_new(path)?;
        Ok(Box::new(SlowFile {
            inner,
            syncs: self.syncs.clone(),
        }))
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        let inner = self.inner.open_append(path)?;
        Ok(Box::new(SlowFile {
            inner,
            syncs: self.syncs.clone(),
        }))
    }
    fn open_read(&self, path: &Path) -> io::Result<Box<dyn Read + Send>> {
        self.inner.open_read(path)
    }
    fn len(&self, path: &Path) -> io::Result<u64> {
        self.inner.len(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.inner.remove_file(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.inner.sync_dir(dir)
    }
    fn lock(&self, path: &Path) -> io::Result<Box<dyn Send + Sync + fmt::Debug>> {
        self.inner.lock(path)
    }
}

#[test]
fn concurrent_appenders_share_syncs_and_every_ack_is_durable() {
    let fs = SlowSyncFs {
        inner: SimFs::new(),
        syncs: Arc::default(),
    };
    let (writer, _) =
        Writer::open_with_fs(Arc::new(fs.clone()), Path::new("/b"), Options::default()).unwrap();
    let before = fs.syncs.load(Ordering::SeqCst);
    let writer = Arc::new(writer);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0..40 {
                    let seq = writer
                        .append(&trawl_bundle::Record::message(format!("t{t} i{i}")))
                        .unwrap();
                    assert!(writer.durable_seq() >= seq, "acknowledged means durable");
                    acked.push(seq);
                }
                acked
            })
        })
        .collect();
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=320).collect::<Vec<_>>(),
        "every append got its own sequence"
    );
    let syncs = fs.syncs.load(Ordering::SeqCst) - before;
    assert!(
        syncs < 320 / 2,
        "group commit: {syncs} syncs for 320 appends"
    );
    // Each thread's records are in its own order in the log.
    let records = read_all(&fs.inner, Path::new("/b")).unwrap();
    assert_eq!(records.len(), 320);
    for t in 0..8 {
        let mine: Vec<String> = records
            .iter()
            .filter(|(_, r)| r.message.starts_with(&format!("t{t} ")))
            .map(|(_, r)| r.message.clone())
            .collect();
        let want: Vec<String> = (0..40).map(|i| format!("t{t} i{i}")).collect();
        assert_eq!(mine, want);
    }
    drop(writer);
}

#[test]
fn a_full_queue_blocks_appenders_instead_of_dropping() {
    let fs = SlowSyncFs {
        inner: SimFs::new(),
        syncs: Arc::default(),
    };
    let options = Options {
        durability: Durability::Bytes(1 << 30),
        max_queue_bytes: 2048,
        block_bytes: 1024,
        ..Options::default()
    };
    let (writer, _) = Writer::open_with_fs(Arc::new(fs.clone()), Path::new("/b"), options).unwrap();
    for seq in 1..=2000 {
        writer.append(&record(seq, 400)).unwrap();
    }
    let closed = writer.close().unwrap();
    assert_eq!(closed.last_seq, 2000);
    assert_eq!(
        check_prefix(&fs.inner, Path::new("/b"), 1, 2000, 400).unwrap(),
        2000
    );
}

#[test]
fn a_damaged_sealed_segment_is_a_loud_error_naming_file_and_offset() {
    let fs = SimFs::new();
    let (writer, _) = Writer::open_with_fs(
        Arc::new(fs.clone()),
        Path::new("/b"),
        small_segments(Durability::Manual),
    )
    .unwrap();
    for seq in 1..=100 {
        writer.append(&record(seq, 200)).unwrap();
    }
    writer.close().unwrap();
    let names = trawl_bundle::segment_files(&fs, Path::new("/b")).unwrap();
    let victim = Path::new("/b").join(&names[1]);
    let mut bytes = fs.read_file(&victim).unwrap();
    bytes[200] ^= 0x55;
    fs.write_file(&victim, &bytes).unwrap();

    let err = Writer::open_with_fs(Arc::new(fs.clone()), Path::new("/b"), Options::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, WriterError::Corrupt { .. }), "{text}");
    assert!(
        text.contains(&names[1]) && text.contains("offset"),
        "{text}"
    );
    // Nothing was changed by the refusal.
    assert_eq!(fs.read_file(&victim).unwrap(), bytes);
}

#[test]
fn garbage_after_valid_frames_in_the_live_segment_is_cut_and_kept_aside() {
    let fs = SimFs::new();
    let dir = Path::new("/b");
    let (writer, _) = Writer::open_with_fs(
        Arc::new(fs.clone()),
        dir,
        Options::with_durability(Durability::EveryRecord),
    )
    .unwrap();
    for seq in 1..=5 {
        writer.append(&record(seq, 100)).unwrap();
    }
    // Simulate a crash: the writer thread is still running, so leak it rather than close.
    std::mem::forget(writer);
    let crashed = fs.crash(trawl_bundle::sim::Crash::Everything);
    let names = trawl_bundle::segment_files(&crashed, dir).unwrap();
    let live = dir.join(names.last().unwrap());
    let mut bytes = crashed.read_file(&live).unwrap();
    let valid_len = bytes.len();
    // A bad frame, then a valid frame with the next records (corruption, not a torn write).
    let salt = trawl_bundle::SegmentHeader::decode(&bytes).unwrap().salt;
    let mut block = trawl_bundle::block::BlockBuilder::default();
    block.push(&record(6, 100));
    let (codec, payload) = block.finish();
    let header = trawl_bundle::format::FrameHeader {
        kind: trawl_bundle::format::FrameKind::Records,
        codec,
        stored_len: payload.len() as u32,
        record_count: 1,
        first_seq: 6,
    };
    let mut second_frame = header.encode(&payload, salt).to_vec();
    second_frame.extend_from_slice(&payload);
    bytes.extend_from_slice(&[0xab; 100]);
    bytes.extend_from_slice(&second_frame);
    crashed.write_file(&live, &bytes).unwrap();

    let (writer, report) =
        Writer::open_with_fs(Arc::new(crashed.clone()), dir, Options::default()).unwrap();
    let cut = report.truncated.clone().expect("truncated");
    assert_eq!(cut.offset, valid_len as u64);
    assert!(
        cut.kept_as.is_some(),
        "valid frames were among the cut bytes: kept aside"
    );
    assert_eq!(report.last_seq, 5);
    drop(writer);
    let kept = crashed.read_file(&dir.join(cut.kept_as.unwrap())).unwrap();
    assert_eq!(kept.len(), 100 + second_frame.len());
}
