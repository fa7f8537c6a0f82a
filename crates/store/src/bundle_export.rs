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
    manifest::MANIFEST_FILE,
    memory::{EncodedSegment, SegmentEncoder},
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

impl Store {
    /// Writes bundle `bundle` out as a bundle directory, one file at a time: each of its
    /// segments (in writer and sequence order), then `manifest.json`. `each` is called with
    /// every file; memory holds one segment at a time, plus 24 bytes per record of the bundle
    /// to put the records in sequence order. An error from `each` stops the export.
    ///
    /// Returns the manifest written last. Fails with [`StoreError::UnknownBundle`] if the
    /// store has no bundle of that name.
    pub fn export_bundle<E: From<StoreError>>(
        &self,
        bundle: &str,
        mut each: impl FnMut(ExportedFile) -> Result<(), E>,
    ) -> Result<Manifest, E> {
        let segments = self.stored_segments(bundle).map_err(StoreError::from)?;
        let Some(first) = segments.first() else {
            return Err(StoreError::UnknownBundle(bundle.to_owned()).into());
        };
        let writer_id = first.header.writer_id.to_string();
        // Segment files are named by their sequence, as the writer names them; a bundle put
        // together from several writers' segments is numbered in order instead.
        let mut seqs: Vec<u64> = segments.iter().map(|s| s.header.segment_seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let by_own_seq = seqs.len() == segments.len();
        let mut order = self.records_in_order(bundle).map_err(StoreError::from)?;
        let mut entries = Vec::with_capacity(segments.len());
        for (n, segment) in (1..).zip(&segments) {
            let name = segment_file_name(if by_own_seq {
                segment.header.segment_seq
            } else {
                n
            });
            let ids = order.remove(&segment.id).unwrap_or_default();
            let encoded = self
                .encode_segment(segment, &ids, &name)
                .map_err(StoreError::from)?;
            entries.push(encoded.entry);
            each(ExportedFile {
                name,
                bytes: encoded.bytes,
            })?;
        }
        let manifest = Manifest::new(writer_id, entries);
        let mut text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
        text.push(b'\n');
        each(ExportedFile {
            name: MANIFEST_FILE.to_owned(),
            bytes: text,
        })?;
        Ok(manifest)
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
            "SELECT segment, seq, id FROM records
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

    fn encode_segment(
        &self,
        segment: &StoredSegment,
        ids: &[(u64, i64)],
        name: &str,
    ) -> rusqlite::Result<EncodedSegment> {
        let mut record_of = self.conn.prepare_cached(&format!(
            "SELECT {ROW_COLUMNS}, r.raw FROM records r WHERE r.id = ?1"
        ))?;
        let mut encoder = SegmentEncoder::new(segment.header, FRAME_RECORDS, Codec::Zstd);
        for &(seq, id) in ids {
            let record = record_of.query_row([id], |sql| {
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
            })?;
            encoder.push(seq, &record);
        }
        Ok(encoder.finish(name, segment.complete))
    }
}
