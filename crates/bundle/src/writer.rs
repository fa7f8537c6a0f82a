//! The durable writer: appends records to a bundle directory with group commit, rotation,
//! retention and the durability policy the caller chooses.
//!
//! One I/O thread does all file work. Callers encode their records, queue them and, depending
//! on the [`Durability`] policy, wait for the sync that covers them. The I/O thread takes
//! whatever is queued (up to [`Options::max_group_bytes`]), writes it as one or more blocks,
//! syncs once for all of it, and publishes the new [`Writer::durable_seq`]. No lock is held
//! across a write or a sync. When callers outrun the disk, [`Writer::append`] blocks
//! (backpressure): a record is never dropped.
//!
//! A failed write or sync poisons the writer: every waiting and later call fails with that
//! error, and nothing written since the last successful sync is ever reported durable. A sync
//! is never retried, because after a failed `fdatasync` Linux may report the next one as a
//! success without having written the data.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use crate::{
    block::BlockBuilder,
    format::{WriterId, FRAME_HEADER_LEN},
    fs::{Fs, StdFs},
    manifest::{Manifest, SegmentEntry, MANIFEST_FILE},
    record::{Level, Record},
    recovery::{recover, RecoveryReport},
    segment::{random_u64, SegmentWriter},
    WriterError,
};

/// Name of the lock file that keeps a second writer out of a bundle directory.
pub const LOCK_FILE: &str = "LOCK";

/// When appended records become durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// [`Writer::append`] returns only after an `fdatasync` that covers the record.
    /// Concurrent appenders share syncs (group commit).
    EveryRecord,
    /// `append` returns once the record is queued; a sync runs when the oldest unsynced record
    /// is this old.
    Interval(Duration),
    /// `append` returns once the record is queued; a sync runs when this many bytes are
    /// unsynced.
    Bytes(usize),
    /// `append` returns once the record is queued; records become durable on
    /// [`Writer::sync`] and [`Writer::close`] (and at rotations).
    Manual,
}

/// When old segments are deleted. A segment is deleted only after its successor is durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many segments (the live one included).
    pub max_segments: Option<usize>,
    /// Keep at most this many bytes of segments (the live one included).
    pub max_bytes: Option<u64>,
}

/// How a [`Writer`] behaves.
#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    /// Seal the segment and start a new one before it would exceed this size.
    pub max_segment_bytes: u64,
    /// Seal the segment once this process has written to it for this long.
    pub max_segment_age: Option<Duration>,
    pub retention: Retention,
    /// Target uncompressed size of a block (the unit of compression).
    pub block_bytes: usize,
    /// Most bytes written per sync (the group-commit cap).
    pub max_group_bytes: usize,
    /// `append` blocks while this many bytes are queued and not yet written.
    pub max_queue_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            durability: Durability::EveryRecord,
            max_segment_bytes: 64 << 20,
            max_segment_age: None,
            retention: Retention::default(),
            block_bytes: 256 << 10,
            max_group_bytes: 1 << 20,
            max_queue_bytes: 16 << 20,
        }
    }
}

impl Options {
    /// Default options with the given durability policy.
    pub fn with_durability(durability: Durability) -> Self {
        Self {
            durability,
            ..Self::default()
        }
    }
}

/// What closing a writer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The highest sequence written; every record up to it is durable.
    pub last_seq: u64,
    /// The bundle's manifest as written.
    pub manifest: Manifest,
}

#[derive(Debug)]
struct Pending {
    encoded: Vec<u8>,
    ts_nanos: Option<i64>,
    level: Option<Level>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Pending>,
    queued_bytes: usize,
    /// Sequence the next append gets.
    next_seq: u64,
    /// Every record up to this sequence is durable.
    durable_seq: u64,
    /// A sync is wanted for every record up to this sequence.
    sync_target: u64,
    /// Bytes appended and not yet durable.
    unsynced_bytes: usize,
    /// When the oldest not-yet-durable record was appended.
    oldest_unsynced: Option<Instant>,
    /// Why the writer stopped, if it failed.
    failed: Option<Arc<str>>,
    closing: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Wakes the I/O thread.
    work: Condvar,
    /// Wakes callers waiting for durability or queue space.
    progress: Condvar,
    options: Options,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The I/O thread never panics while holding the lock; a caller's panic cannot leave
        // the state inconsistent either (every update is a single assignment).
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Appends records durably to one bundle directory. `Send + Sync`: share it between threads.
#[derive(Debug)]
pub struct Writer {
    shared: Arc<Shared>,
    io: Option<JoinHandle<Result<Closed, WriterError>>>,
    dir: PathBuf,
    _lock: Box<dyn Send + Sync + std::fmt::Debug>,
}

impl Writer {
    /// Opens (creating if needed) the bundle directory `dir` on the real file system,
    /// recovering what a crash left there.
    pub fn open(
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(Self, RecoveryReport), WriterError> {
        Self::open_with_fs(Arc::new(StdFs), dir.as_ref(), options)
    }

    /// Same as [`Writer::open`], on any [`Fs`].
    pub fn open_with_fs(
        fs: Arc<dyn Fs>,
        dir: &Path,
        options: Options,
    ) -> Result<(Self, RecoveryReport), WriterError> {
        let io_err = |path: &Path, source| WriterError::Io {
            path: path.to_owned(),
            source,
        };
        fs.create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = fs.lock(&lock_path).map_err(|e| match e.kind() {
            std::io::ErrorKind::WouldBlock => WriterError::Locked {
                dir: dir.to_owned(),
            },
            _ => io_err(&lock_path, e),
        })?;
        let recovered = recover(fs.as_ref(), dir)?;
        let writer_id = recovered
            .writer_id
            .unwrap_or_else(|| WriterId(u128::from(random_u64()) << 64 | u128::from(random_u64())));
        let segment = match recovered.live {
            Some(live) => {
                let mut segment = SegmentWriter::resume(
                    fs.as_ref(),
                    live.path,
                    live.header,
                    live.len,
                    live.footer,
                )
                .map_err(step_error)?;
                // What survived may still sit only in the page cache (after a process crash):
                // make it durable before calling it so.
                segment.sync().map_err(step_error)?;
                segment
            }
            None => SegmentWriter::create(
                fs.as_ref(),
                dir,
                writer_id,
                recovered.next_segment_seq,
                recovered.next_seq,
            )
            .map_err(step_error)?,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                queued_bytes: 0,
                next_seq: recovered.next_seq,
                durable_seq: recovered.next_seq - 1,
                sync_target: 0,
                unsynced_bytes: 0,
                oldest_unsynced: None,
                failed: None,
                closing: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            options,
        });
        let mut io = IoThread {
            shared: shared.clone(),
            fs,
            dir: dir.to_owned(),
            writer_id,
            sealed: recovered.sealed,
            segment: Some(segment),
            block: BlockBuilder::default(),
        };
        let handle = std::thread::Builder::new()
            .name("trawl-writer".into())
            .spawn(move || io.run())
            .map_err(|e| io_err(dir, e))?;
        Ok((
            Self {
                shared,
                io: Some(handle),
                dir: dir.to_owned(),
                _lock: lock,
            },
            recovered.report,
        ))
    }

    /// The bundle directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `record` and returns its sequence number. With [`Durability::EveryRecord`] the
    /// record is durable when this returns `Ok`; with the other policies it is queued, and
    /// durable once [`Writer::durable_seq`] reaches its sequence. Blocks while the queue is
    /// full. Fails if the writer failed earlier or is closing; a failed append never became
    /// durable through this call.
    pub fn append(&self, record: &Record) -> Result<u64, WriterError> {
        self.append_all(std::slice::from_ref(record))
            .map(|(_, last)| last)
    }

    /// Appends `records` in order; returns the first and last sequence numbers they got.
    /// Durability as for [`Writer::append`], for the last record (and so for all of them).
    pub fn append_all(&self, records: &[Record]) -> Result<(u64, u64), WriterError> {
        let pending: Vec<Pending> = records
            .iter()
            .map(|r| Pending {
                encoded: r.to_bytes(),
                ts_nanos: r.ts_nanos,
                level: r.level,
            })
            .collect();
        let options = &self.shared.options;
        let mut st = self.shared.lock();
        let first = st.next_seq;
        for p in pending {
            loop {
                if let Some(reason) = &st.failed {
                    return Err(WriterError::Poisoned(reason.clone()));
                }
                if st.closing {
                    return Err(WriterError::Closed);
                }
                if st.queued_bytes < options.max_queue_bytes || st.queue.is_empty() {
                    break;
                }
                self.shared.work.notify_one();
                st = wait(&self.shared.progress, st);
            }
            st.queued_bytes += p.encoded.len();
            st.unsynced_bytes += p.encoded.len();
            st.oldest_unsynced.get_or_insert_with(Instant::now);
            st.queue.push_back(p);
            st.next_seq += 1;
        }
        let last = st.next_seq - 1;
        if options.durability == Durability::EveryRecord {
            st.sync_target = st.sync_target.max(last);
            self.shared.work.notify_one();
            self.wait_durable(st, last)?;
        } else {
            self.shared.work.notify_one();
        }
        Ok((first, last))
    }

    /// Makes every record appended before this call durable; returns the highest durable
    /// sequence (0 if nothing was ever appended).
    pub fn sync(&self) -> Result<u64, WriterError> {
        let mut st = self.shared.lock();
        let target = st.next_seq - 1;
        st.sync_target = st.sync_target.max(target);
        self.shared.work.notify_one();
        self.wait_durable(st, target)?;
        Ok(target)
    }

    fn wait_durable(&self, mut st: MutexGuard<'_, State>, seq: u64) -> Result<(), WriterError> {
        loop {
            if st.durable_seq >= seq {
                return Ok(());
            }
            if let Some(reason) = &st.failed {
                return Err(WriterError::Poisoned(reason.clone()));
            }
            st = wait(&self.shared.progress, st);
        }
    }

    /// Every record up to this sequence is durable (0: none yet).
    pub fn durable_seq(&self) -> u64 {
        self.shared.lock().durable_seq
    }

    /// Writes and syncs everything queued, seals the live segment and writes the manifest.
    pub fn close(mut self) -> Result<Closed, WriterError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<Closed, WriterError> {
        let Some(io) = self.io.take() else {
            return Err(WriterError::Closed);
        };
        {
            let mut st = self.shared.lock();
            st.closing = true;
            self.shared.work.notify_one();
        }
        io.join()
            .unwrap_or_else(|_| Err(WriterError::Poisoned("the writer thread panicked".into())))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing flushes and syncs what was appended; errors have nowhere to go here, and
        // callers that care call `close`.
        let _ = self.shutdown();
    }
}

fn wait<'a>(condvar: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    condvar.wait(guard).unwrap_or_else(|e| e.into_inner())
}

fn step_error((path, source): (PathBuf, std::io::Error)) -> WriterError {
    WriterError::Io { path, source }
}

/// The work one round of the I/O thread does.
struct Round {
    batch: Vec<Pending>,
    first_seq: u64,
    sync: bool,
    closing: bool,
}

struct IoThread {
    shared: Arc<Shared>,
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    writer_id: WriterId,
    sealed: Vec<SegmentEntry>,
    segment: Option<SegmentWriter>,
    block: BlockBuilder,
}

impl IoThread {
    fn run(&mut self) -> Result<Closed, WriterError> {
        loop {
            let Some(round) = self.next_round() else {
                let reason = self
                    .shared
                    .lock()
                    .failed
                    .clone()
                    .unwrap_or_else(|| "failed".into());
                return Err(WriterError::Poisoned(reason));
            };
            let count = round.batch.len() as u64;
            let result = self.write(round.batch, round.sync);
            let mut st = self.shared.lock();
            match result {
                Ok(synced) => {
                    if synced {
                        st.durable_seq = st.durable_seq.max(round.first_seq + count - 1);
                        st.unsynced_bytes = st.queued_bytes;
                        st.oldest_unsynced = (!st.queue.is_empty()).then(Instant::now);
                    }
                }
                Err(err) => {
                    st.failed = Some(err.to_string().into());
                    self.shared.progress.notify_all();
                    return Err(err);
                }
            }
            self.shared.progress.notify_all();
            if round.closing && st.queue.is_empty() {
                drop(st);
                return self.finish();
            }
        }
    }

    /// Waits for work and takes it from the queue. `None` if the writer failed.
    fn next_round(&mut self) -> Option<Round> {
        let options = &self.shared.options;
        let mut st = self.shared.lock();
        loop {
            if st.failed.is_some() {
                return None;
            }
            let last = st.next_seq - 1;
            let unsynced = last > st.durable_seq;
            let mut timeout = None;
            let due = match options.durability {
                Durability::Bytes(n) => unsynced && st.unsynced_bytes >= n,
                Durability::Interval(every) => match st.oldest_unsynced {
                    Some(since) if unsynced => {
                        let left = every.saturating_sub(since.elapsed());
                        timeout = Some(left);
                        left.is_zero()
                    }
                    _ => false,
                },
                Durability::EveryRecord | Durability::Manual => false,
            };
            let age_due = match (options.max_segment_age, &self.segment) {
                (Some(max), Some(segment))
                    if segment.record_count() > 0 || !st.queue.is_empty() =>
                {
                    let left = max.saturating_sub(segment.age());
                    timeout = Some(timeout.map_or(left, |t: Duration| t.min(left)));
                    left.is_zero()
                }
                _ => false,
            };
            let sync = st.sync_target > st.durable_seq || due || st.closing;
            let full = st.queued_bytes >= options.block_bytes.min(options.max_queue_bytes);
            if sync || age_due || full {
                let first_seq = st.next_seq - st.queue.len() as u64;
                let mut batch = Vec::new();
                let mut bytes = 0;
                while let Some(p) = st.queue.front() {
                    if !batch.is_empty() && bytes + p.encoded.len() > options.max_group_bytes {
                        break;
                    }
                    bytes += p.encoded.len();
                    batch.push(st.queue.pop_front().expect("front exists"));
                }
                st.queued_bytes -= bytes;
                let closing = st.closing;
                self.shared.progress.notify_all();
                return Some(Round {
                    batch,
                    first_seq,
                    sync,
                    closing,
                });
            }
            st = match timeout {
                Some(t) => {
                    self.shared
                        .work
                        .wait_timeout(st, t.max(Duration::from_millis(1)))
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => wait(&self.shared.work, st),
            };
        }
    }

    /// Writes `batch` as blocks, rotating as needed, and syncs if asked. Returns whether every
    /// record written so far is now durable.
    fn write(&mut self, batch: Vec<Pending>, sync: bool) -> Result<bool, WriterError> {
        let options = self.shared.options.clone();
        if let Some(max) = options.max_segment_age {
            let segment = self.segment.as_ref().expect("open");
            if segment.age() >= max && segment.record_count() > 0 {
                self.rotate()?;
            }
        }
        let mut stats = Vec::new();
        for p in &batch {
            if !self.block.is_empty() && self.block.len() + p.encoded.len() > options.block_bytes {
                self.flush_block(&mut stats)?;
            }
            self.block.push_encoded(&p.encoded);
            stats.push((p.ts_nanos, p.level));
        }
        if !self.block.is_empty() {
            self.flush_block(&mut stats)?;
        }
        if sync {
            self.segment
                .as_mut()
                .expect("open")
                .sync()
                .map_err(step_error)?;
        }
        Ok(sync)
    }

    fn flush_block(
        &mut self,
        stats: &mut Vec<(Option<i64>, Option<Level>)>,
    ) -> Result<(), WriterError> {
        let max = self.shared.options.max_segment_bytes;
        let segment = self.segment.as_ref().expect("open");
        let estimate = (FRAME_HEADER_LEN + self.block.len()) as u64;
        if segment.record_count() > 0 && segment.len() + estimate > max {
            self.rotate()?;
        }
        let segment = self.segment.as_mut().expect("open");
        segment
            .write_block(&mut self.block, stats.drain(..))
            .map_err(step_error)?;
        Ok(())
    }

    /// Seals the live segment, creates the next one durably, then applies retention and
    /// rewrites the manifest.
    fn rotate(&mut self) -> Result<(), WriterError> {
        let old = self.segment.take().expect("open");
        let next_seq = old.next_seq();
        let next_segment = old.segment_seq() + 1;
        let writer_id = old.writer_id();
        self.sealed
            .push(old.seal(self.fs.as_ref()).map_err(step_error)?);
        self.segment = Some(
            SegmentWriter::create(
                self.fs.as_ref(),
                &self.dir,
                writer_id,
                next_segment,
                next_seq,
            )
            .map_err(step_error)?,
        );
        self.apply_retention()?;
        self.write_manifest().map(drop)
    }

    fn apply_retention(&mut self) -> Result<(), WriterError> {
        let retention = self.shared.options.retention;
        let live_bytes = self.segment.as_ref().map_or(0, SegmentWriter::len);
        let mut removed = false;
        loop {
            let count = self.sealed.len() + 1;
            let bytes: u64 = self.sealed.iter().map(|s| s.bytes).sum::<u64>() + live_bytes;
            let over = retention.max_segments.is_some_and(|max| count > max.max(1))
                || retention.max_bytes.is_some_and(|max| bytes > max);
            if !over || self.sealed.is_empty() {
                break;
            }
            let oldest = self.sealed.remove(0);
            let path = self.dir.join(&oldest.file);
            self.fs
                .remove_file(&path)
                .map_err(|source| WriterError::Io { path, source })?;
            removed = true;
        }
        if removed {
            self.fs
                .sync_dir(&self.dir)
                .map_err(|source| WriterError::Io {
                    path: self.dir.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Writes the manifest of the sealed segments and the live one, if any.
    fn write_manifest(&self) -> Result<Manifest, WriterError> {
        let mut segments = self.sealed.clone();
        segments.extend(self.segment.as_ref().map(|s| s.entry(false)));
        let manifest = Manifest::new(self.writer_id.to_string(), segments);
        manifest
            .write(self.fs.as_ref(), &self.dir)
            .map_err(|source| WriterError::Io {
                path: self.dir.join(MANIFEST_FILE),
                source,
            })?;
        Ok(manifest)
    }

    /// Seals the live segment and writes the final manifest.
    fn finish(&mut self) -> Result<Closed, WriterError> {
        let segment = self.segment.take().expect("open");
        let last_seq = segment.next_seq() - 1;
        self.sealed
            .push(segment.seal(self.fs.as_ref()).map_err(step_error)?);
        let manifest = self.write_manifest()?;
        Ok(Closed { last_seq, manifest })
    }
}
