//! The durable writer: appends records to a bundle directory with group commit, rotation,
//! retention and the durability policy the caller chooses.
//!
//! Callers encode their records and queue them. Whoever finds work to do and no one doing it
//! becomes the *leader*: it takes everything queued (up to [`Options::max_group_bytes`]),
//! writes it as one or more blocks, syncs once for all of it, publishes the new
//! [`Writer::durable_seq`] and wakes the callers it covered; records queued meanwhile go in
//! the next group. An appender waiting for its sync (see [`Durability::EveryRecord`]) usually
//! leads itself, so an uncontended append costs one write and one `fdatasync` with no thread
//! hand-off. A background thread leads the work no caller waits for: timed and size-based
//! syncs, full blocks, age-based rotation and closing. The queue lock is never held across a
//! write or a sync. When callers outrun the disk, [`Writer::append`] blocks (backpressure): a
//! record is never dropped.
//!
//! A failed write or sync poisons the writer: every waiting and later call fails with that
//! error, and nothing written since the last successful sync is ever reported durable. A sync
//! is never retried, because after a failed `fdatasync` Linux may report the next one as a
//! success without having written the data.

use std::{
    collections::VecDeque,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard},
    thread::{JoinHandle, Thread},
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

pub use crate::format::LOCK_FILE;

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
    /// Delete a segment once it has been sealed this long (its successor is this old).
    pub max_age: Option<Duration>,
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

/// Records queued by one call, already in block form (each record length-prefixed).
#[derive(Debug, Default)]
struct Chunk {
    block_bytes: Vec<u8>,
    /// Per record: encoded length (with its prefix), time and level.
    records: Vec<(usize, Option<i64>, Option<Level>)>,
}

#[derive(Debug)]
struct State {
    queue: VecDeque<Chunk>,
    queued_records: u64,
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
    /// Someone is writing (and holds `Shared::io`).
    leader: bool,
    /// Callers parked until a sequence is durable (`Some`) or until any progress (`None`).
    /// The leader wakes exactly those its round satisfies: no thundering herd.
    waiters: Vec<(Option<u64>, Thread)>,
    /// When the live segment received its first record in this process.
    segment_since: Option<Instant>,
    /// Why the writer stopped, if it failed.
    failed: Option<Arc<str>>,
    closing: bool,
}

/// The work a leader does in one round.
struct Round {
    chunks: Vec<Chunk>,
    records: u64,
    first_seq: u64,
    sync: bool,
    rotate_for_age: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// The files; locked only by the leader, while the state lock is released.
    io: Mutex<Io>,
    /// Wakes the background thread.
    work: Condvar,
    /// Chunks the leader has written, emptied for the next calls to fill (at most
    /// [`SPARE_CHUNKS`]): a batch encodes into memory already mapped, where a fresh buffer
    /// for every call meant page faults and zeroed pages for every batch of an ingest.
    spare: Mutex<Vec<Chunk>>,
    options: Options,
}

/// How many written chunks [`Shared::spare`] keeps.
const SPARE_CHUNKS: usize = 4;
/// A chunk holding more than this is freed, not kept.
const SPARE_CHUNK_BYTES: usize = 4 << 20;

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is a plain assignment: a panic elsewhere cannot leave it
        // half-changed, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An empty chunk, written before if one is spare.
    fn empty_chunk(&self) -> Chunk {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        spare.pop().unwrap_or_default()
    }

    /// Keeps written chunks for [`Shared::empty_chunk`].
    fn recycle(&self, chunks: Vec<Chunk>) {
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        for mut chunk in chunks {
            if spare.len() == SPARE_CHUNKS {
                break;
            }
            if chunk.block_bytes.capacity() <= SPARE_CHUNK_BYTES {
                chunk.block_bytes.clear();
                chunk.records.clear();
                spare.push(chunk);
            }
        }
    }

    fn wait<'a>(&self, condvar: &Condvar, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        condvar.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Parks the calling thread until the leader reports `until` durable (or any progress,
    /// for `None`), or fails. Returns with the state locked again; the caller re-checks.
    fn park<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        until: Option<u64>,
    ) -> MutexGuard<'a, State> {
        st.waiters.push((until, std::thread::current()));
        drop(st);
        std::thread::park();
        self.lock()
    }

    /// Wakes the parked callers whose wait is over (all of them if the writer failed or no
    /// one leads any more).
    fn wake(&self, st: &mut State) {
        let everyone = st.failed.is_some() || !st.leader;
        let durable = st.durable_seq;
        st.waiters.retain(|(until, thread)| {
            let done = everyone || until.is_none_or(|seq| seq <= durable);
            if done {
                thread.unpark();
            }
            !done
        });
    }

    /// What is due now, if anything, and how long until something else may be.
    fn due(&self, st: &State) -> (Option<(bool, bool)>, Option<Duration>) {
        let options = &self.options;
        let unsynced = st.next_seq - 1 > st.durable_seq;
        let mut timeout: Option<Duration> = None;
        let mut soon = |left: Duration| timeout = Some(timeout.map_or(left, |t| t.min(left)));
        let policy_due = match options.durability {
            Durability::Bytes(n) => unsynced && st.unsynced_bytes >= n,
            Durability::Interval(every) => match st.oldest_unsynced {
                Some(since) if unsynced => {
                    let left = every.saturating_sub(since.elapsed());
                    soon(left);
                    left.is_zero()
                }
                _ => false,
            },
            Durability::EveryRecord | Durability::Manual => false,
        };
        let age_due = match (options.max_segment_age, st.segment_since) {
            (Some(max), Some(since)) => {
                let left = max.saturating_sub(since.elapsed());
                soon(left);
                left.is_zero()
            }
            _ => false,
        };
        let sync = st.sync_target > st.durable_seq || policy_due || (st.closing && unsynced);
        let full = st.queued_bytes >= options.block_bytes.min(options.max_queue_bytes);
        let due = (sync || full || age_due).then_some((sync, age_due));
        (due, timeout)
    }

    /// Leads rounds while work is due. Call with the state locked, `leader` false and work
    /// due; returns with the state locked and `leader` false again.
    fn lead<'a>(&'a self, mut st: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        st.leader = true;
        loop {
            if st.failed.is_some() {
                break;
            }
            let (Some((sync, rotate_for_age)), _) = self.due(&st) else {
                break;
            };
            let round = self.take_round(&mut st, sync, rotate_for_age);
            drop(st);
            let result = {
                let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
                io.write(&round, &self.options)
            };
            self.recycle(round.chunks);
            st = self.lock();
            match result {
                Ok(segment_fresh) => {
                    if round.sync {
                        st.durable_seq = st.durable_seq.max(round.first_seq + round.records - 1);
                        st.unsynced_bytes = st.queued_bytes;
                        st.oldest_unsynced = (!st.queue.is_empty()).then(Instant::now);
                    }
                    if segment_fresh {
                        st.segment_since = None;
                    }
                    if round.records > 0 {
                        st.segment_since.get_or_insert_with(Instant::now);
                    }
                }
                Err(err) => st.failed = Some(err.to_string().into()),
            }
            self.wake(&mut st);
        }
        st.leader = false;
        // Whoever still waits re-checks (and may lead); the background thread may have work
        // (timers) that this leader left.
        self.wake(&mut st);
        self.work.notify_one();
        st
    }

    fn take_round(&self, st: &mut State, sync: bool, rotate_for_age: bool) -> Round {
        let first_seq = st.next_seq - st.queued_records;
        let mut chunks = Vec::new();
        let mut records = 0;
        let mut bytes = 0;
        while let Some(chunk) = st.queue.front() {
            if !chunks.is_empty() && bytes + chunk.block_bytes.len() > self.options.max_group_bytes
            {
                break;
            }
            let chunk = st.queue.pop_front().expect("front exists");
            records += chunk.records.len() as u64;
            bytes += chunk.block_bytes.len();
            chunks.push(chunk);
        }
        st.queued_records -= records;
        st.queued_bytes -= bytes;
        // Only sync if this round takes everything the sync is for (else the next round will).
        let sync = sync
            && (st.queue.is_empty() || first_seq + records > st.sync_target.min(st.next_seq - 1));
        Round {
            chunks,
            records,
            first_seq,
            sync,
            rotate_for_age,
        }
    }
}

/// Appends records durably to one bundle directory. `Send + Sync`: share it between threads.
#[derive(Debug)]
pub struct Writer {
    shared: Arc<Shared>,
    background: Option<JoinHandle<Result<Closed, WriterError>>>,
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
                queued_records: 0,
                queued_bytes: 0,
                next_seq: recovered.next_seq,
                durable_seq: recovered.next_seq - 1,
                sync_target: 0,
                unsynced_bytes: 0,
                oldest_unsynced: None,
                leader: false,
                waiters: Vec::new(),
                segment_since: None,
                failed: None,
                closing: false,
            }),
            io: Mutex::new(Io {
                fs,
                dir: dir.to_owned(),
                writer_id,
                sealed: recovered.sealed,
                segment: Some(segment),
                block: BlockBuilder::default(),
            }),
            work: Condvar::new(),
            spare: Mutex::new(Vec::new()),
            options,
        });
        let background = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("trawl-writer".into())
                .spawn(move || background(&shared))
                .map_err(|e| io_err(dir, e))?
        };
        Ok((
            Self {
                shared,
                background: Some(background),
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

    /// Appends `records` in order, as one group; returns the first and last sequence numbers
    /// they got. Durability as for [`Writer::append`], for the last record (and so for all).
    pub fn append_all(&self, records: &[Record]) -> Result<(u64, u64), WriterError> {
        let mut chunk = self.shared.empty_chunk();
        chunk.block_bytes.reserve(records.len() * 256);
        chunk.records.reserve(records.len());
        for r in records {
            let start = chunk.block_bytes.len();
            BlockBuilder::encode_into(r, &mut chunk.block_bytes);
            chunk
                .records
                .push((chunk.block_bytes.len() - start, r.ts_nanos, r.level));
        }
        let shared = &self.shared;
        let mut st = shared.lock();
        loop {
            if let Some(reason) = &st.failed {
                return Err(WriterError::Poisoned(reason.clone()));
            }
            if st.closing {
                return Err(WriterError::Closed);
            }
            if st.queued_bytes < shared.options.max_queue_bytes || st.queue.is_empty() {
                break;
            }
            // The queue is full: write it ourselves if no one is, else wait for space.
            st = if st.leader {
                shared.park(st, None)
            } else {
                shared.lead(st)
            };
        }
        let first = st.next_seq;
        let count = chunk.records.len() as u64;
        st.next_seq += count;
        st.queued_records += count;
        st.queued_bytes += chunk.block_bytes.len();
        st.unsynced_bytes += chunk.block_bytes.len();
        // The first unsynced record starts the interval policy's clock, which the background
        // thread (possibly waiting with no deadline) has to be told about.
        let starts_clock = st.oldest_unsynced.is_none()
            && matches!(shared.options.durability, Durability::Interval(_));
        st.oldest_unsynced.get_or_insert_with(Instant::now);
        st.queue.push_back(chunk);
        let last = st.next_seq - 1;
        if shared.options.durability == Durability::EveryRecord {
            st.sync_target = st.sync_target.max(last);
            self.wait_until_durable(st, last)?;
        } else if !st.leader && (starts_clock || shared.due(&st).0.is_some()) {
            shared.work.notify_one();
        }
        Ok((first, last))
    }

    /// Makes every record appended before this call durable; returns the highest durable
    /// sequence (0 if nothing was ever appended).
    pub fn sync(&self) -> Result<u64, WriterError> {
        let mut st = self.shared.lock();
        let target = st.next_seq - 1;
        st.sync_target = st.sync_target.max(target);
        self.wait_until_durable(st, target)?;
        Ok(target)
    }

    /// Blocks until record `seq` is durable (under any policy), leading the writes if no one
    /// else is. With a policy whose appends return early, a second thread calling this in
    /// sequence order receives acknowledgements as soon as their syncs complete.
    pub fn wait_durable(&self, seq: u64) -> Result<(), WriterError> {
        let mut st = self.shared.lock();
        st.sync_target = st.sync_target.max(seq.min(st.next_seq - 1));
        self.wait_until_durable(st, seq)
    }

    /// Waits until `seq` is durable, leading the writes whenever no one else is.
    fn wait_until_durable<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        seq: u64,
    ) -> Result<(), WriterError> {
        let shared = &self.shared;
        loop {
            if st.durable_seq >= seq {
                return Ok(());
            }
            if let Some(reason) = &st.failed {
                return Err(WriterError::Poisoned(reason.clone()));
            }
            st = if !st.leader && shared.due(&st).0.is_some() {
                shared.lead(st)
            } else {
                // Someone leads, or nothing is due yet (`seq` not appended, or the policy
                // has not asked for a sync): whoever makes progress wakes us.
                shared.park(st, Some(seq))
            };
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
        let Some(background) = self.background.take() else {
            return Err(WriterError::Closed);
        };
        self.shared.lock().closing = true;
        self.shared.work.notify_one();
        background
            .join()
            .unwrap_or_else(|_| Err(WriterError::Poisoned("the writer thread panicked".into())))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Closing writes and syncs what was appended; errors have nowhere to go here, and
        // callers that care call `close`.
        let _ = self.shutdown();
    }
}

/// The background thread: leads the work no caller waits for, then closes.
fn background(shared: &Shared) -> Result<Closed, WriterError> {
    let mut st = shared.lock();
    loop {
        if let Some(reason) = &st.failed {
            return Err(WriterError::Poisoned(reason.clone()));
        }
        let (due, timeout) = shared.due(&st);
        if !st.leader {
            if due.is_some() {
                st = shared.lead(st);
                continue;
            }
            if st.closing {
                break;
            }
        }
        st = match timeout {
            Some(t) if !st.leader => {
                shared
                    .work
                    .wait_timeout(st, t.max(Duration::from_millis(1)))
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            _ => shared.wait(&shared.work, st),
        };
    }
    // Closing, nothing queued, everything durable, no leader: seal and write the manifest.
    drop(st);
    let result = shared.io.lock().unwrap_or_else(|e| e.into_inner()).finish();
    if let Err(err) = &result {
        let mut st = shared.lock();
        st.failed = Some(err.to_string().into());
        shared.wake(&mut st);
    }
    result
}

fn step_error((path, source): (PathBuf, std::io::Error)) -> WriterError {
    WriterError::Io { path, source }
}

/// The files. Only the leader touches them.
#[derive(Debug)]
struct Io {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    writer_id: WriterId,
    sealed: Vec<SegmentEntry>,
    segment: Option<SegmentWriter>,
    block: BlockBuilder,
}

impl Io {
    fn segment(&mut self) -> &mut SegmentWriter {
        self.segment
            .as_mut()
            .expect("a segment is open until close")
    }

    /// Writes the round's records as blocks, rotating as needed, and syncs if asked. Returns
    /// whether a new segment was started.
    fn write(&mut self, round: &Round, options: &Options) -> Result<bool, WriterError> {
        let mut rotated = false;
        if round.rotate_for_age && self.segment().record_count() > 0 {
            self.rotate(options)?;
            rotated = true;
        }
        let mut stats = Vec::new();
        for chunk in &round.chunks {
            let mut at = 0;
            for &(len, ts, level) in &chunk.records {
                if !self.block.is_empty() && self.block.len() + len > options.block_bytes {
                    rotated |= self.flush_block(&mut stats, options)?;
                }
                self.block
                    .push_block_bytes(&chunk.block_bytes[at..at + len]);
                stats.push((ts, level));
                at += len;
            }
        }
        if !self.block.is_empty() {
            rotated |= self.flush_block(&mut stats, options)?;
        }
        if round.sync {
            self.segment().sync().map_err(step_error)?;
        }
        Ok(rotated)
    }

    fn flush_block(
        &mut self,
        stats: &mut Vec<(Option<i64>, Option<Level>)>,
        options: &Options,
    ) -> Result<bool, WriterError> {
        let estimate = (FRAME_HEADER_LEN + self.block.len()) as u64;
        let segment = self.segment();
        let rotate =
            segment.record_count() > 0 && segment.len() + estimate > options.max_segment_bytes;
        if rotate {
            self.rotate(options)?;
        }
        let segment = self.segment.as_mut().expect("open");
        segment
            .write_block(&mut self.block, stats.drain(..))
            .map_err(step_error)?;
        Ok(rotate)
    }

    /// Seals the live segment, creates the next one durably, then applies retention and
    /// rewrites the manifest.
    fn rotate(&mut self, options: &Options) -> Result<(), WriterError> {
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
        self.apply_retention(options.retention)?;
        self.write_manifest().map(drop)
    }

    fn apply_retention(&mut self, retention: Retention) -> Result<(), WriterError> {
        let live = self.segment.as_ref().expect("open");
        let (live_bytes, live_created) = (live.len(), live.created_nanos());
        let oldest_kept = retention
            .max_age
            .map(|age| crate::segment::now_nanos().saturating_sub(age.as_nanos() as i64));
        let mut removed = false;
        loop {
            let count = self.sealed.len() + 1;
            let bytes: u64 = self.sealed.iter().map(|s| s.bytes).sum::<u64>() + live_bytes;
            // A segment stopped taking records when its successor was created.
            let sealed_at = self
                .sealed
                .get(1)
                .map_or(live_created, |next| next.created_nanos);
            let over = retention.max_segments.is_some_and(|max| count > max.max(1))
                || retention.max_bytes.is_some_and(|max| bytes > max)
                || oldest_kept.is_some_and(|oldest| sealed_at <= oldest);
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
