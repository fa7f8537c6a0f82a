//! A stored bundle written back out as a bundle directory: how records move between stores
//! that cannot see each other (the viewer opened directly and the same viewer inside a portal
//! live in separate, partitioned browser storages).
//!
//! Each stored segment is encoded again under its own identity (writer id, segment sequence,
//! salt, first sequence), its records in sequence order, so importing the copy anywhere is
//! importing that segment: a store that already has it adds nothing, one that has part of it
//! adds the rest. A segment the store holds whole is sealed like a writer seals it; one with
//! records missing (bad frames in the original, an import cancelled halfway) is left open, and
//! its holes read back as sequence gaps.
//!
//! What a store does not keep is not in the copy: the time and level exactly as the source
//! spelled them (`ts_text`, `level_text`; the normalised values are kept), fields of newer
//! record formats, and a raw line equal to the message (the reader falls back to the message).

use std::collections::BTreeMap;

use trawl_bundle::{
    format::{segment_file_name, Codec, WriterId},
    manifest::SegmentEntry,
    manifest::MANIFEST_FILE,
    memory::SegmentEncoder,
    Level, Manifest, Record, SegmentHeader,
};

use crate::{
    search::{row_from_sql, ROW_COLUMNS},
    Store, StoreError,
};

/// Records a frame in an exported segment: the writer's block size for typical records, so
/// the copy compresses as well as the original.
const FRAME_RECORDS: usize = 1000;

/// One file of an exported bundle, to be written into the bundle's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedFile {
    /// The file's name inside the bundle directory.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A stored segment, as the `segments` table has it.
struct StoredSegment {
    id: i64,
    header: SegmentHeader,
    /// Whether the store holds the segment whole (it was sealed and read to its end).
    complete: bool,
}

/// What one [`BundleExport::step`] did.
#[derive(Debug)]
pub enum ExportStep {
    /// Records were encoded; no file is complete yet.
    Records,
    /// A file of the bundle is complete: a segment, or the manifest, which comes last.
    File(ExportedFile),
    /// Every file has been handed over; the manifest they make up.
    Done(Manifest),
}

/// A bundle being written out a step at a time (see [`Store::begin_bundle_export`]), so a
/// caller that serves other requests (the browser worker) can answer them between steps and
/// report progress or stop. It reads the records listed when it began: records imported
/// since are not in the copy; a bundle deleted meanwhile fails the next step.
pub struct BundleExport {
    writer_id: String,
    /// The segments still to start, each with its file name, last first.
    waiting: Vec<(StoredSegment, String)>,
    /// The ids of each segment's records, in sequence order.
    order: BTreeMap<i64, Vec<(u64, i64)>>,
    current: Option<SegmentInProgress>,
    entries: Vec<SegmentEntry>,
    records_total: u64,
    records_done: u64,
    manifest: Option<Manifest>,
}

struct SegmentInProgress {
    segment: StoredSegment,
    name: String,
    ids: Vec<(u64, i64)>,
    next: usize,
    encoder: SegmentEncoder,
}

/// Shows the progress only: the listed ids run to millions.
impl std::fmt::Debug for BundleExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleExport")
            .field("records_total", &self.records_total)
            .field("records_done", &self.records_done)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Begins writing bundle `bundle` out as a bundle directory: each of its segments (in
    /// writer and sequence order), then `manifest.json`, handed over by
    /// [`BundleExport::step`]. Memory holds one segment at a time, plus 24 bytes per record
    /// of the bundle to put the records in sequence order.
    ///
    /// Fails with [`StoreError::UnknownBundle`] if the store has no bundle of that name.
    pub fn begin_bundle_export(&self, bundle: &str) -> crate::Result<BundleExport> {
        let segments = self.stored_segments(bundle)?;
        let Some(first) = segments.first() else {
            return Err(StoreError::UnknownBundle(bundle.to_owned()));
        };
        let writer_id = first.header.writer_id.to_string();
        // Segment files are named by their sequence, as the writer names them; a bundle put
        // together from several writers' segments is numbered in order instead.
        let mut seqs: Vec<u64> = segments.iter().map(|s| s.header.segment_seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let by_own_seq = seqs.len() == segments.len();
        let order = self.records_in_order(bundle)?;
        let records_total = order.values().map(|ids| ids.len() as u64).sum();
        let mut waiting: Vec<(StoredSegment, String)> = (1..)
            .zip(segments)
            .map(|(n, segment)| {
                let seq = if by_own_seq {
                    segment.header.segment_seq
                } else {
                    n
                };
                (segment, segment_file_name(seq))
            })
            .collect();
        waiting.reverse();
        Ok(BundleExport {
            writer_id,
            waiting,
            order,
            current: None,
            entries: Vec::new(),
            records_total,
            records_done: 0,
            manifest: None,
        })
    }

    /// Writes bundle `bundle` out as a bundle directory in one go: [`Store::begin_bundle_export`]
    /// stepped to its end, `each` called with every file. An error from `each` stops the
    /// export. Returns the manifest written last.
    pub fn export_bundle<E: From<StoreError>>(
        &self,
        bundle: &str,
        mut each: impl FnMut(ExportedFile) -> Result<(), E>,
    ) -> Result<Manifest, E> {
        let mut export = self.begin_bundle_export(bundle)?;
        loop {
            match export.step(self, usize::MAX)? {
                ExportStep::Records => {}
                ExportStep::File(file) => each(file)?,
                ExportStep::Done(manifest) => return Ok(manifest),
            }
        }
    }

    fn stored_segments(&self, bundle: &str) -> rusqlite::Result<Vec<StoredSegment>> {
        let mut rows = self.conn.prepare(
            "SELECT id, writer_id, segment_seq, salt, first_seq, created_nanos, complete,
                    next_seq - first_seq = records
             FROM segments WHERE bundle = ?1 ORDER BY writer_id, segment_seq",
        )?;
        let segments = rows.query_map([bundle], |row| {
            let hex = |i: usize| -> rusqlite::Result<String> { row.get(i) };
            let (writer_id, salt) = (hex(1)?, hex(3)?);
            let parse_error = |i: usize, text: &str| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    format!("not hexadecimal: {text:?}").into(),
                )
            };
            Ok(StoredSegment {
                id: row.get(0)?,
                header: SegmentHeader {
                    writer_id: WriterId(
                        u128::from_str_radix(&writer_id, 16)
                            .map_err(|_| parse_error(1, &writer_id))?,
                    ),
                    segment_seq: row.get::<_, i64>(2)? as u64,
                    salt: u64::from_str_radix(&salt, 16).map_err(|_| parse_error(3, &salt))?,
                    first_record_seq: row.get::<_, i64>(4)? as u64,
                    created_nanos: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                },
                complete: row.get::<_, bool>(6)? && row.get::<_, bool>(7)?,
            })
        })?;
        segments.collect()
    }

    /// The ids of the bundle's records per segment, in sequence order: one pass over the
    /// records rather than one per segment (the records are not indexed by segment).
    fn records_in_order(&self, bundle: &str) -> rusqlite::Result<BTreeMap<i64, Vec<(u64, i64)>>> {
        let mut rows = self.conn.prepare(
            "SELECT segment, seq, id FROM record_rows
             WHERE segment IN (SELECT id FROM segments WHERE bundle = ?1)",
        )?;
        let mut order: BTreeMap<i64, Vec<(u64, i64)>> = BTreeMap::new();
        let mut found = rows.query([bundle])?;
        while let Some(row) = found.next()? {
            order
                .entry(row.get(0)?)
                .or_default()
                .push((row.get::<_, i64>(1)? as u64, row.get(2)?));
        }
        for ids in order.values_mut() {
            ids.sort_unstable();
        }
        Ok(order)
    }
}

impl BundleExport {
    /// Records in the export.
    pub fn records_total(&self) -> u64 {
        self.records_total
    }

    /// Records encoded so far.
    pub fn records_done(&self) -> u64 {
        self.records_done
    }

    /// Encodes up to `max_records` more records, and hands over a file when one is complete.
    /// `store` must be the store the export began on. Once [`ExportStep::Done`] is returned,
    /// every later step returns it again.
    pub fn step(&mut self, store: &Store, max_records: usize) -> crate::Result<ExportStep> {
        if let Some(manifest) = &self.manifest {
            return Ok(ExportStep::Done(manifest.clone()));
        }
        if self.current.is_none() {
            let Some((segment, name)) = self.waiting.pop() else {
                return Ok(self.manifest_file());
            };
            let ids = self.order.remove(&segment.id).unwrap_or_default();
            self.current = Some(SegmentInProgress {
                encoder: SegmentEncoder::new(segment.header, FRAME_RECORDS, Codec::Zstd),
                segment,
                name,
                ids,
                next: 0,
            });
        }
        let current = self.current.as_mut().expect("a segment in progress");
        let end = current
            .ids
            .len()
            .min(current.next.saturating_add(max_records));
        let mut record_of = store.conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS}, r.raw FROM record_rows r WHERE r.id = ?1"
        ))?;
        for &(seq, id) in &current.ids[current.next..end] {
            let record = record_of
                .query_row([id], record_from_sql)
                .map_err(|err| match err {
                    rusqlite::Error::QueryReturnedNoRows => StoreError::ExportedRecordGone {
                        segment: current.name.clone(),
                        id,
                    },
                    err => err.into(),
                })?;
            current.encoder.push(seq, &record);
        }
        self.records_done += (end - current.next) as u64;
        current.next = end;
        if end < current.ids.len() {
            return Ok(ExportStep::Records);
        }
        let done = self.current.take().expect("a segment in progress");
        let encoded = done.encoder.finish(&done.name, done.segment.complete);
        self.entries.push(encoded.entry);
        Ok(ExportStep::File(ExportedFile {
            name: done.name,
            bytes: encoded.bytes,
        }))
    }

    /// The manifest, as the last file.
    fn manifest_file(&mut self) -> ExportStep {
        let manifest = Manifest::new(self.writer_id.clone(), std::mem::take(&mut self.entries));
        let mut text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        text.push(b'\n');
        self.manifest = Some(manifest);
        ExportStep::File(ExportedFile {
            name: MANIFEST_FILE.to_owned(),
            bytes: text,
        })
    }
}

/// A record as the export encodes it, from a row of `ROW_COLUMNS` and `raw`.
fn record_from_sql(sql: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    let row = row_from_sql(sql)?;
    Ok(Record {
        ts_nanos: row.ts_nanos,
        level: row.level.and_then(Level::from_code),
        service: row.service,
        host: row.host,
        trace_id: row.trace_id,
        span_id: row.span_id,
        message: row.message,
        fields: row.fields,
        raw: sql.get(11)?,
        source: row.source,
        line: row.line,
        ..Record::default()
    })
}
