//! Streaming import of bundle segments into the store.
//!
//! A segment is read frame by frame with [`SegmentReader`]; its records go in in batches, one
//! transaction each, so memory stays bounded by one batch whatever the segment's size. Each
//! batch also advances the segment's row in `segments` (the next sequence to import), in the
//! same transaction: an import that fails, is cancelled or is killed resumes exactly where
//! the last committed batch ended, and importing a segment again adds nothing it already has
//! (a live segment that grew adds just the new records).

use std::io::Read;

use rusqlite::{params, Transaction};
use rustc_hash::FxHashMap;
use trawl_bundle::{Finding, Item, ReadError, Record, SegmentEnd, SegmentHeader, SegmentReader};

use crate::batch_rows::BatchRows;
use crate::borrowed_insert::{BorrowedInsert, Param};
use crate::fields_text;
use crate::key::{self, KeyAllocator};
use crate::schema;

use crate::{Result, Store, StoreError};

/// `(minute, level, service, host, source id)`: what the rollup counts records by.
type RollupGroup<'a> = (
    i64,
    Option<u8>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
);

/// How an import is run.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// Records per transaction. Bigger batches import faster; progress, cancellation and the
    /// work lost to a failure come in batches of this size.
    pub batch_records: usize,
    /// Records in the first batch of a segment, if not [`batch_records`](Self::batch_records);
    /// the batches after it double in size up to `batch_records`. A viewer importing a bundle
    /// shows its first records once the first batch is committed, and answers the query for
    /// them between batches: small first batches show them sooner.
    pub first_batch_records: Option<usize>,
    /// A batch also ends once its frames span this many bytes of the segment, so one step of a
    /// [`SegmentImport`] reads less than this much plus two frames: what a caller that streams
    /// the segment in must have buffered ahead.
    pub batch_bytes: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            batch_records: 20_000,
            first_batch_records: None,
            batch_bytes: u64::MAX,
        }
    }
}

/// Where an import is, reported after every committed batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The segment file being imported.
    pub file: String,
    /// Records committed from this segment by this import so far.
    pub records: u64,
    /// How far into the segment file the import has read, in bytes.
    pub offset: u64,
}

/// What the progress callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop after the batch just committed; everything committed stays.
    Cancel,
}

/// What importing one segment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentReport {
    pub file: String,
    /// Records added by this import.
    pub imported: u64,
    /// Records skipped because the store already had them.
    pub already_present: u64,
    /// Integrity findings of the segment (torn tail, bad frames, gaps), also kept in the store.
    pub findings: Vec<Finding>,
    /// Whether the callback cancelled the import.
    pub cancelled: bool,
}

/// One record read from the segment, waiting for its batch.
pub(crate) struct Pending {
    seq: u64,
    record: Record,
    /// What the record's fields add to the full-text index ([`fields_text::values`]), if
    /// extracted ahead ([`Pending::extract_field_values`]); otherwise the full-text insert
    /// extracts it.
    field_values: Option<String>,
}

impl Pending {
    /// Extracts what the record's fields add to the full-text index now, off the importing
    /// thread. Not worth it on one thread: a string per record, where the full-text insert
    /// writes them all into one.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn extract_field_values(&mut self) {
        self.field_values = self.record.fields.as_deref().map(|json| {
            let mut values = String::new();
            fields_text::values(json, &mut values);
            values
        });
    }
}

/// What an import reads from a segment: a frame's records, ready to go in, or a finding.
pub(crate) enum Frame {
    Records { offset: u64, records: Vec<Pending> },
    Finding(Finding),
}

impl From<Item> for Frame {
    fn from(item: Item) -> Self {
        match item {
            Item::Finding(finding) => Frame::Finding(finding),
            Item::Records {
                offset,
                first_seq,
                records,
            } => Frame::Records {
                offset,
                records: (first_seq..)
                    .zip(records)
                    .map(|(seq, record)| Pending {
                        seq,
                        record,
                        field_values: None,
                    })
                    .collect(),
            },
        }
    }
}

impl Store {
    /// Imports the segment read from `src` (named `file` in reports, from bundle `bundle`),
    /// calling `progress` after each committed batch.
    ///
    /// Integrity findings inside the segment are not errors: the valid frames are imported and
    /// the findings reported and stored. An error (an unreadable segment, a full disk, an
    /// exhausted quota) rolls back the batch in flight and names the file and the offset of
    /// the batch; batches committed before it stay.
    ///
    /// Natively, a second thread reads and decodes the segment up to one batch ahead of the
    /// batch going in.
    pub fn import_segment<R: Read + Send>(
        &mut self,
        bundle: &str,
        file: &str,
        src: R,
        options: ImportOptions,
        progress: &mut dyn FnMut(&Progress) -> Flow,
    ) -> Result<SegmentReport> {
        let mut import = self.begin_segment(bundle, file, src, options)?;
        let reader = import.reader.take();
        #[cfg(not(target_arch = "wasm32"))]
        let report = std::thread::scope(|scope| {
            let mut frames = reader
                .map(|reader| {
                    crate::read_ahead::ReadAhead::spawn(scope, reader, options.batch_records)
                })
                .transpose()
                .map_err(|source| ReadError::Io {
                    file: file.to_owned(),
                    source,
                })?;
            import.run(self, &mut frames, progress)
        });
        #[cfg(target_arch = "wasm32")]
        let report = {
            let mut frames = reader;
            import.run(self, &mut frames, progress)
        };
        report
    }

    /// Starts importing the segment read from `src`, to be advanced one batch at a time with
    /// [`SegmentImport::step`]. This is [`import_segment`](Self::import_segment) for callers
    /// that must do other work between batches, like a browser worker answering queries
    /// while it imports.
    pub fn begin_segment<R: Read>(
        &mut self,
        bundle: &str,
        file: &str,
        src: R,
        options: ImportOptions,
    ) -> Result<SegmentImport<R>> {
        let reader = SegmentReader::open(src, file)?;
        let header = *reader.header();
        let writer_id = header.writer_id.to_string();
        let salt = format!("{:016x}", header.salt);
        let (segment_id, next_seq) = self
            .segment_row(&writer_id, &header, &salt, bundle, file)
            .map_err(|source| import_error(file, 0, source))?;
        Ok(SegmentImport {
            reader: Some(reader),
            file: file.to_owned(),
            next_seq,
            batch_records: options
                .first_batch_records
                .unwrap_or(options.batch_records)
                .max(1),
            full_batch_records: options.batch_records.max(1),
            batch_bytes: options.batch_bytes,
            offset: 0,
            batch: Batch {
                segment_id,
                pending: Vec::with_capacity(options.batch_records),
                offset: 0,
                keys: KeyAllocator::seeded(header.salt),
                last_source: None,
                committed: 0,
            },
            report: SegmentReport {
                file: file.to_owned(),
                imported: 0,
                already_present: 0,
                findings: Vec::new(),
                cancelled: false,
            },
        })
    }

    /// Removes every record imported from bundle `bundle`, with its segments and rollups, in
    /// one transaction. Returns how many records went.
    ///
    /// When it was the last bundle, the full-text index is emptied at once instead of record
    /// by record, and the database is then rebuilt (`VACUUM`, quick with nothing in it) to no
    /// more than the size of a new store, with the page size new stores get: the space goes
    /// back to the disk or to the browser's quota.
    pub fn delete_bundle(&mut self, bundle: &str) -> Result<u64> {
        let tx = self.conn.transaction()?;
        let last = !tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM segments WHERE bundle != ?1)",
            [bundle],
            |r| r.get::<_, bool>(0),
        )?;
        if last {
            tx.execute(
                "INSERT INTO records_fts(records_fts) VALUES ('delete-all')",
                [],
            )?;
        } else {
            unindex_bundle(&tx, bundle)?;
        }
        let removed = tx.execute(
            "DELETE FROM record_rows WHERE segment IN (SELECT id FROM segments WHERE bundle = ?1)",
            [bundle],
        )?;
        for table in ["rollup_minute", "rollup_hour", "source_minutes"] {
            tx.execute(
                &format!(
                    "DELETE FROM {table}
                     WHERE segment IN (SELECT id FROM segments WHERE bundle = ?1)"
                ),
                [bundle],
            )?;
        }
        tx.execute("DELETE FROM segments WHERE bundle = ?1", [bundle])?;
        tx.execute(
            "DELETE FROM sources
             WHERE NOT EXISTS (SELECT 1 FROM record_rows WHERE source_id = sources.id)",
            [],
        )?;
        tx.commit()?;
        if last {
            // The bundle is gone whether or not this works (it needs room for a copy of the
            // empty store): a store left as it is keeps its pages for the next import.
            let _ = self.conn.execute_batch(&format!(
                "PRAGMA page_size = {}; VACUUM;",
                schema::PAGE_SIZE
            ));
        }
        Ok(removed as u64)
    }

    /// The id of the segment's row (created if new) and the next sequence it needs.
    fn segment_row(
        &self,
        writer_id: &str,
        header: &SegmentHeader,
        salt: &str,
        bundle: &str,
        file: &str,
    ) -> rusqlite::Result<(i64, u64)> {
        self.conn.execute(
            "INSERT INTO segments(writer_id, segment_seq, salt, bundle, file, first_seq, next_seq,
                                  records, findings, complete, created_nanos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 0, '[]', 0, ?7)
             ON CONFLICT DO NOTHING",
            params![
                writer_id,
                header.segment_seq as i64,
                salt,
                bundle,
                file,
                header.first_record_seq as i64,
                header.created_nanos,
            ],
        )?;
        self.conn.query_row(
            "SELECT id, next_seq FROM segments
             WHERE writer_id = ?1 AND segment_seq = ?2 AND salt = ?3",
            params![writer_id, header.segment_seq as i64, salt],
            |row| Ok((row.get(0)?, row.get::<_, i64>(1)?.unsigned_abs())),
        )
    }
}

/// The import of one segment, in progress: [`step`](Self::step) reads on until the next
/// batch is committed. Dropping it between steps is a cancel: every committed batch stays,
/// and importing the segment again resumes after the last one.
pub struct SegmentImport<R: Read> {
    /// `None` once the segment has been read to its end.
    reader: Option<SegmentReader<R>>,
    file: String,
    /// The next record sequence the store needs from this segment.
    next_seq: u64,
    /// Records in the batch being read: from the first batch's size, doubling after each
    /// commit up to `full_batch_records`.
    batch_records: usize,
    full_batch_records: usize,
    batch_bytes: u64,
    /// Offset of the last frame read.
    offset: u64,
    batch: Batch,
    report: SegmentReport,
}

impl<R: Read> SegmentImport<R> {
    /// Reads on until a batch is committed, and says where the import is; `None` once the
    /// whole segment is in the store (and its findings are stored).
    ///
    /// `store` must be the store that [began](Store::begin_segment) this import. On error the
    /// batch in flight is rolled back; the import should then be dropped.
    pub fn step(&mut self, store: &mut Store) -> Result<Option<Progress>> {
        let mut reader = self.reader.take();
        let step = self.step_from(store, &mut reader);
        self.reader = reader;
        step
    }

    /// Steps until the end, calling `progress` after each batch.
    fn run<F: Frames>(
        mut self,
        store: &mut Store,
        frames: &mut Option<F>,
        progress: &mut dyn FnMut(&Progress) -> Flow,
    ) -> Result<SegmentReport> {
        while let Some(step) = self.step_from(store, frames)? {
            if progress(&step) == Flow::Cancel {
                self.report.cancelled = true;
                break;
            }
        }
        Ok(self.report)
    }

    /// [`step`](Self::step), reading from `frames` (`None` once read to the end).
    fn step_from<F: Frames>(
        &mut self,
        store: &mut Store,
        frames: &mut Option<F>,
    ) -> Result<Option<Progress>> {
        let Some(reader) = frames.as_mut() else {
            return Ok(None);
        };
        while let Some(frame) = reader.next_frame() {
            match frame? {
                Frame::Finding(finding) => self.report.findings.push(finding),
                Frame::Records {
                    offset: frame_offset,
                    records,
                } => {
                    self.offset = frame_offset;
                    if self.batch.pending.is_empty() {
                        self.batch.offset = frame_offset;
                    }
                    for pending in records {
                        if pending.seq < self.next_seq {
                            self.report.already_present += 1;
                        } else {
                            self.batch.pending.push(pending);
                        }
                    }
                    let spanned = frame_offset.saturating_sub(self.batch.offset);
                    if self.batch.pending.len() >= self.batch_records
                        || (spanned >= self.batch_bytes && !self.batch.pending.is_empty())
                    {
                        let (progress, committed) = self.commit(store, frame_offset)?;
                        reader.recycle(committed);
                        return Ok(Some(progress));
                    }
                }
            }
        }
        let reader = frames.take().expect("checked above");
        let end = reader.finish()?;
        let last = if self.batch.pending.is_empty() {
            None
        } else {
            Some(self.commit(store, end.file_len)?.0)
        };
        let findings = serde_json::to_string(&self.report.findings).expect("findings serialize");
        store
            .conn
            .execute(
                "UPDATE segments SET findings = ?2, complete = ?3, bytes = ?4 WHERE id = ?1",
                params![
                    self.batch.segment_id,
                    findings,
                    end.footer.is_some(),
                    end.file_len as i64
                ],
            )
            .map_err(|e| import_error(&self.file, self.offset, e))?;
        Ok(last)
    }

    /// What the import has done so far; complete once [`step`](Self::step) returned `None`.
    pub fn report(&self) -> &SegmentReport {
        &self.report
    }

    /// The segment file being imported.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Commits the batch; returns where the import is and the batch's records, done with.
    fn commit(&mut self, store: &mut Store, offset: u64) -> Result<(Progress, Vec<Pending>)> {
        if let Some(next) = self.batch.commit(store, &self.file)? {
            self.next_seq = next;
        }
        self.batch_records = (self.batch_records * 2).min(self.full_batch_records);
        self.report.imported = self.batch.committed;
        let committed = std::mem::replace(
            &mut self.batch.pending,
            Vec::with_capacity(self.batch_records),
        );
        let progress = Progress {
            file: self.file.clone(),
            records: self.report.imported,
            offset,
        };
        Ok((progress, committed))
    }
}

/// Takes the records of bundle `bundle` out of the full-text index, inside `tx`. A contentless
/// index needs each record's indexed text again to remove it.
fn unindex_bundle(tx: &Transaction<'_>, bundle: &str) -> rusqlite::Result<()> {
    let mut rows = tx.prepare(
        "SELECT r.id, r.message, r.fields, r.trace_id FROM record_rows r
         WHERE r.segment IN (SELECT id FROM segments WHERE bundle = ?1)",
    )?;
    let mut unindex = tx.prepare(
        "INSERT INTO records_fts(records_fts, rowid, message, fields, trace)
         VALUES ('delete', ?1, ?2, ?3, ?4)",
    )?;
    let mut values_text = String::new();
    let mut found = rows.query([bundle])?;
    while let Some(row) = found.next()? {
        let fields: Option<String> = row.get(2)?;
        let fields = fields.map(|json| {
            fields_text::values(&json, &mut values_text);
            values_text.clone()
        });
        unindex.execute(params![
            row.get::<_, i64>(0)?,
            row.get::<_, String>(1)?,
            fields,
            row.get::<_, Option<String>>(3)?
        ])?;
    }
    Ok(())
}

/// Where an import reads a segment's items from: the segment's reader itself, or a thread
/// reading it ahead.
pub(crate) trait Frames {
    /// The next frame; `None` once the segment is read.
    fn next_frame(&mut self) -> Option<Result<Frame, ReadError>>;
    /// Takes back the records of a committed batch, to free them where they were made.
    fn recycle(&mut self, committed: Vec<Pending>) {
        drop(committed);
    }
    /// What the segment turned out to be, once every frame is taken.
    fn finish(self) -> Result<SegmentEnd, ReadError>;
}

impl<R: Read> Frames for SegmentReader<R> {
    fn next_frame(&mut self) -> Option<Result<Frame, ReadError>> {
        self.next().map(|item| item.map(Frame::from))
    }

    fn finish(self) -> Result<SegmentEnd, ReadError> {
        SegmentReader::finish(self)
    }
}

/// Records waiting to be committed together.
struct Batch {
    segment_id: i64,
    pending: Vec<Pending>,
    /// Offset of the frame the batch starts in: where an error is reported.
    offset: u64,
    keys: KeyAllocator,
    last_source: Option<String>,
    committed: u64,
}

impl Batch {
    /// Commits the pending records in one transaction (leaving them pending, for the caller to
    /// take); returns the next sequence the segment needs, or `None` if nothing was pending.
    /// On error nothing of the batch is stored.
    fn commit(&mut self, store: &mut Store, file: &str) -> Result<Option<u64>> {
        let Some(last) = self.pending.last() else {
            return Ok(None);
        };
        let next_seq = last.seq + 1;
        let at = self.offset;
        let tx = store
            .conn
            .transaction()
            .map_err(|e| import_error(file, at, e))?;
        insert_batch(&tx, self)
            .and_then(|()| tx.commit())
            .map_err(|e| import_error(file, at, e))?;
        self.committed += self.pending.len() as u64;
        Ok(Some(next_seq))
    }
}

/// A record of a batch with its key and its source's id.
struct Keyed<'a> {
    key: i64,
    pending: &'a Pending,
    source_id: Option<i64>,
}

/// Inserts one batch and advances its segment's row, inside `tx`.
///
/// The batch's keys are planned first. If they are distinct and the store holds no key in
/// their range (a first import, or logs of another time), the rows cannot collide and go in
/// with one statement in key order ([`insert_at_once`]). Otherwise each row goes in on its own
/// and a taken key is replaced ([`insert_one_by_one`]).
fn insert_batch(tx: &Transaction<'_>, batch: &mut Batch) -> rusqlite::Result<()> {
    let Batch {
        segment_id,
        pending,
        keys,
        last_source,
        ..
    } = batch;
    let segment_id = *segment_id;
    let mut sources = SourceIds::new(tx)?;
    let mut planned_keys = keys.clone();
    let mut planned_source = last_source.clone();
    let mut keyed = Vec::with_capacity(pending.len());
    for p in pending.iter() {
        let record = &p.record;
        if record.source != planned_source {
            planned_keys.reset_time();
            planned_source.clone_from(&record.source);
        }
        keyed.push(Keyed {
            key: planned_keys.next(record.ts_nanos),
            pending: p,
            source_id: sources.id_of(record.source.as_deref())?,
        });
    }
    keyed.sort_unstable_by_key(|k| k.key);
    let distinct = keyed.windows(2).all(|pair| pair[0].key < pair[1].key);
    let free = match (keyed.first(), keyed.last()) {
        (Some(first), Some(last)) => !tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM record_rows WHERE id BETWEEN ?1 AND ?2)",
            params![first.key, last.key],
            |r| r.get::<_, bool>(0),
        )?,
        _ => true,
    };
    if distinct && free {
        *keys = planned_keys;
        *last_source = planned_source;
        insert_at_once(tx, segment_id, &keyed)?;
    } else {
        keyed = insert_one_by_one(tx, segment_id, pending, keys, last_source, &mut sources)?;
        keyed.sort_unstable_by_key(|k| k.key);
    }
    // FTS5 writes its pending terms out as a new segment whenever a rowid is lower than the
    // one before it: logs whose times step back now and then (concurrent writers, several
    // sources, a bundle overlapping another) would leave one small segment per step back, to
    // be merged again and again. In key order, a batch is one segment (while its terms fit
    // in FTS5's pending-term hash).
    index_at_once(tx, &keyed)?;

    let mut rollup: FxHashMap<RollupGroup<'_>, i64> = FxHashMap::default();
    let (mut min_ts, mut max_ts) = (None::<i64>, None::<i64>);
    for k in &keyed {
        let record = &k.pending.record;
        let group = (
            key::minute_of(k.key),
            record.level.map(|l| l.code()),
            record.service.as_deref(),
            record.host.as_deref(),
            k.source_id,
        );
        *rollup.entry(group).or_default() += 1;
        if let Some(ts) = record.ts_nanos {
            min_ts = Some(min_ts.map_or(ts, |m| m.min(ts)));
            max_ts = Some(max_ts.map_or(ts, |m| m.max(ts)));
        }
    }
    let mut hours: FxHashMap<RollupGroup<'_>, i64> = FxHashMap::default();
    for (&(minute, level, service, host, source), &n) in &rollup {
        *hours
            .entry((minute - minute.rem_euclid(60), level, service, host, source))
            .or_default() += n;
    }
    let mut active: Vec<(i64, Option<i64>)> = rollup
        .keys()
        .map(|&(minute, _, _, _, source)| (minute, source))
        .collect();
    active.sort_unstable();
    active.dedup();
    let mut add = tx.prepare_cached(
        "INSERT INTO source_minutes(segment, source_id, minute) VALUES (?1, ?2, ?3)",
    )?;
    for (minute, source) in active {
        add.execute(params![segment_id, source, minute])?;
    }
    for (table, groups) in [("rollup_minute", rollup), ("rollup_hour", hours)] {
        let mut add = tx.prepare_cached(&format!(
            "INSERT INTO {table}(segment, minute, level, service, host, source_id, n)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))?;
        for ((minute, level, service, host, source), n) in groups {
            add.execute(params![segment_id, minute, level, service, host, source, n])?;
        }
    }
    let last_seq = pending.last().map_or(0, |p| p.seq);
    tx.execute(
        "UPDATE segments SET next_seq = ?2, records = records + ?3,
             min_ts = CASE WHEN ?4 IS NULL THEN min_ts ELSE min(coalesce(min_ts, ?4), ?4) END,
             max_ts = CASE WHEN ?5 IS NULL THEN max_ts ELSE max(coalesce(max_ts, ?5), ?5) END
         WHERE id = ?1",
        params![
            segment_id,
            (last_seq + 1) as i64,
            pending.len() as i64,
            min_ts,
            max_ts
        ],
    )?;
    Ok(())
}

/// The values of a `record_rows` row, in the column order of [`ROW_COLUMNS`].
fn row_values<'a>(k: &Keyed<'a>, segment_id: i64) -> [Param<'a>; ROW_WIDTH] {
    let record = &k.pending.record;
    // The raw line is kept only where it says more than the message.
    let raw = record
        .raw
        .as_deref()
        .filter(|raw| *raw != record.message.as_bytes());
    [
        k.key.into(),
        record.ts_nanos.into(),
        record.level.map(|l| i64::from(l.code())).into(),
        record.service.as_deref().into(),
        record.host.as_deref().into(),
        record.trace_id.as_deref().into(),
        record.span_id.as_deref().into(),
        record.message.as_str().into(),
        record.fields.as_deref().into(),
        raw.into(),
        k.source_id.into(),
        record.line.map(|l| l as i64).into(),
        segment_id.into(),
        (k.pending.seq as i64).into(),
    ]
}

/// How many values [`row_values`] gives.
const ROW_WIDTH: usize = 14;

/// The columns [`row_values`] gives, in order.
const ROW_COLUMNS: &str =
    "id, ts, level, service, host, trace_id, span_id, message, fields, raw, source_id, line, \
     segment, seq";

/// Inserts the rows of `keyed` (in key order, keys free) with one statement.
fn insert_at_once(
    tx: &Transaction<'_>,
    segment_id: i64,
    keyed: &[Keyed<'_>],
) -> rusqlite::Result<()> {
    let values: Vec<Param<'_>> = keyed
        .iter()
        .flat_map(|k| row_values(k, segment_id))
        .collect();
    let rows = BatchRows::new(ROW_WIDTH, &values).expect("whole rows of ROW_WIDTH values");
    let columns: Vec<String> = (0..ROW_WIDTH).map(|i| format!("c{i}")).collect();
    let mut insert = BorrowedInsert::prepare(
        tx,
        &format!(
            "INSERT INTO record_rows({ROW_COLUMNS}) SELECT {} FROM trawl_batch(?1)",
            columns.join(", ")
        ),
    )?;
    insert.execute(&[Param::Rows(&rows)])?;
    Ok(())
}

/// Inserts the records of `pending` one row at a time, in arrival order, each under the next
/// key of `keys` or, where that key is taken, the next free key after the millisecond's
/// highest. Returns the records with the keys they got.
fn insert_one_by_one<'a>(
    tx: &Transaction<'_>,
    segment_id: i64,
    pending: &'a [Pending],
    keys: &mut KeyAllocator,
    last_source: &mut Option<String>,
    sources: &mut SourceIds<'_>,
) -> rusqlite::Result<Vec<Keyed<'a>>> {
    let mut insert = BorrowedInsert::prepare(
        tx,
        &format!(
            "INSERT INTO record_rows({ROW_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT(id) DO NOTHING"
        ),
    )?;
    let mut highest_key = tx.prepare_cached(
        "SELECT coalesce(max(id), ?1) FROM record_rows WHERE id >= ?1 AND id < ?2",
    )?;
    let mut keyed = Vec::with_capacity(pending.len());
    for p in pending {
        let record = &p.record;
        if record.source != *last_source {
            keys.reset_time();
            last_source.clone_from(&record.source);
        }
        let mut k = Keyed {
            key: keys.next(record.ts_nanos),
            pending: p,
            source_id: sources.id_of(record.source.as_deref())?,
        };
        while insert.execute(&row_values(&k, segment_id))? == 0 {
            let (start, end) = KeyAllocator::millisecond_of(k.key);
            let highest: i64 = highest_key.query_row(params![start, end], |r| r.get(0))?;
            k.key = keys.taken(k.key, highest);
        }
        keyed.push(k);
    }
    Ok(keyed)
}

/// Adds the records of `keyed` (in key order) to the full-text index with one statement.
fn index_at_once(tx: &Transaction<'_>, keyed: &[Keyed<'_>]) -> rusqlite::Result<()> {
    // The searchable text of the fields not extracted ahead, one after another.
    let mut text = String::new();
    let mut one = String::new();
    let mut ends = Vec::with_capacity(keyed.len());
    for k in keyed {
        let pending = k.pending;
        if let (Some(json), None) = (&pending.record.fields, &pending.field_values) {
            fields_text::values(json, &mut one);
            text.push_str(&one);
        }
        ends.push(text.len());
    }
    let mut values: Vec<Param<'_>> = Vec::with_capacity(keyed.len() * 4);
    let mut start = 0;
    for (k, end) in keyed.iter().zip(ends) {
        let Pending {
            record,
            field_values,
            ..
        } = k.pending;
        let fields = match field_values {
            Some(made) => Some(made.as_str()),
            None => record.fields.as_ref().map(|_| &text[start..end]),
        };
        start = end;
        values.extend::<[Param<'_>; 4]>([
            k.key.into(),
            record.message.as_str().into(),
            fields.into(),
            record.trace_id.as_deref().into(),
        ]);
    }
    let rows = BatchRows::new(4, &values).expect("rows of 4 values");
    let mut index = BorrowedInsert::prepare(
        tx,
        "INSERT INTO records_fts(rowid, message, fields, trace)
         SELECT c0, c1, c2, c3 FROM trawl_batch(?1)",
    )?;
    index.execute(&[Param::Rows(&rows)])?;
    Ok(())
}

/// The ids of source paths in `sources`, adding the paths met for the first time. Lives for
/// one batch's transaction: ids it added go with the transaction if it rolls back.
struct SourceIds<'tx> {
    add: rusqlite::CachedStatement<'tx>,
    find: rusqlite::CachedStatement<'tx>,
    known: FxHashMap<String, i64>,
}

impl<'tx> SourceIds<'tx> {
    fn new(tx: &'tx Transaction<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            add: tx
                .prepare_cached("INSERT INTO sources(path) VALUES (?1) ON CONFLICT DO NOTHING")?,
            find: tx.prepare_cached("SELECT id FROM sources WHERE path = ?1")?,
            known: FxHashMap::default(),
        })
    }

    /// The id of the source `path`, if the record has one.
    fn id_of(&mut self, path: Option<&str>) -> rusqlite::Result<Option<i64>> {
        path.map(|path| self.id(path)).transpose()
    }

    fn id(&mut self, path: &str) -> rusqlite::Result<i64> {
        if let Some(&id) = self.known.get(path) {
            return Ok(id);
        }
        self.add.execute([path])?;
        let id = self.find.query_row([path], |r| r.get(0))?;
        self.known.insert(path.to_owned(), id);
        Ok(id)
    }
}

fn import_error(file: &str, offset: u64, source: rusqlite::Error) -> StoreError {
    StoreError::Import {
        file: file.to_owned(),
        offset,
        source,
    }
}
