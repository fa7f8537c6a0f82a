//! Segments made in memory, not by a [`Writer`](crate::Writer): for importers that turn other
//! input (a raw log file opened in the browser) into records the store takes, for a store
//! exporting the segments it holds, and for tests.

use crate::{
    block::BlockBuilder,
    format::{encode_trailer, Codec, Footer, FrameHeader, FrameKind, SegmentHeader},
    manifest::SegmentEntry,
    Record,
};

/// The bytes of a segment with `header`, holding `records` from sequence
/// `header.first_record_seq`, `per_frame` records a frame, without a footer (as a live
/// writer leaves it). [`SegmentReader`](crate::SegmentReader) reads it like any other.
pub fn segment_bytes(header: &SegmentHeader, records: &[Record], per_frame: usize) -> Vec<u8> {
    let mut encoder = SegmentEncoder::new(*header, per_frame, Codec::Zstd);
    for (seq, record) in (header.first_record_seq..).zip(records) {
        encoder.push(seq, record);
    }
    encoder.finish("", false).bytes
}

/// A segment encoded in memory record by record, in the format the [`Writer`](crate::Writer)
/// writes: what a store exports a segment it holds as, under the segment's own identity, so
/// that importing the copy anywhere is importing that segment (and importing it where the
/// segment already is adds nothing).
///
/// Records go in by increasing sequence. A sequence skipped (a record the store never had,
/// lost to a bad frame of the original) ends the frame, and a reader reports it as a
/// [`Finding::SequenceGap`](crate::Finding::SequenceGap): the copy keeps the hole visible.
#[derive(Debug)]
pub struct SegmentEncoder {
    header: SegmentHeader,
    per_frame: usize,
    out: Vec<u8>,
    block: BlockBuilder,
    /// Sequence of the first record in `block`.
    block_seq: u64,
    next_seq: u64,
    footer: Footer,
    /// Whether a sequence was skipped: such a segment cannot be sealed (its footer would
    /// disagree with its records).
    gapped: bool,
    payload: Vec<u8>,
}

/// A finished [`SegmentEncoder`]: the segment file's bytes and its manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedSegment {
    pub bytes: Vec<u8>,
    pub entry: SegmentEntry,
}

impl SegmentEncoder {
    /// An empty segment with `header`, `per_frame` records a frame at most, its blocks
    /// stored with `codec` when that makes them smaller (see [`BlockBuilder::with_codec`]).
    pub fn new(header: SegmentHeader, per_frame: usize, codec: Codec) -> Self {
        Self {
            header,
            per_frame: per_frame.max(1),
            out: header.encode().to_vec(),
            block: BlockBuilder::with_codec(codec),
            block_seq: header.first_record_seq,
            next_seq: header.first_record_seq,
            footer: Footer {
                first_seq: header.first_record_seq,
                ..Footer::default()
            },
            gapped: false,
            payload: Vec::new(),
        }
    }

    /// Adds record `seq`.
    ///
    /// # Panics
    /// If `seq` is below the segment's first sequence or not above the last one added.
    pub fn push(&mut self, seq: u64, record: &Record) {
        assert!(
            seq >= self.next_seq,
            "record {seq} pushed after record {}",
            self.next_seq.wrapping_sub(1)
        );
        if seq != self.next_seq {
            self.end_frame();
            self.gapped = true;
            self.block_seq = seq;
        }
        self.block.push(record);
        self.footer.add(record.ts_nanos, record.level);
        self.next_seq = seq + 1;
        if self.block.count() as usize >= self.per_frame {
            self.end_frame();
        }
    }

    /// Records added so far.
    pub fn record_count(&self) -> u64 {
        self.footer.record_count
    }

    /// Ends the segment, the file `file` (the name its manifest entry gives). With `seal` it is
    /// sealed with a footer and trailer like a writer seals it, unless a sequence was
    /// skipped: then, and without `seal`, it is left open like a live segment.
    pub fn finish(mut self, file: &str, seal: bool) -> EncodedSegment {
        self.end_frame();
        let sealed = seal && !self.gapped;
        if sealed {
            let footer_offset = self.out.len() as u64;
            let payload = self.footer.encode();
            self.write_frame(FrameKind::Footer, Codec::None, 0, &payload);
            self.out.extend_from_slice(&encode_trailer(footer_offset));
        }
        let mut entry = SegmentEntry::new(
            file.to_owned(),
            &self.header,
            &self.footer,
            self.out.len() as u64,
            sealed,
        );
        entry.crc32c = sealed.then(|| format!("{:08x}", crc32c::crc32c(&self.out)));
        EncodedSegment {
            bytes: self.out,
            entry,
        }
    }

    fn end_frame(&mut self) {
        if self.block.is_empty() {
            return;
        }
        let count = self.block.count();
        let mut payload = std::mem::take(&mut self.payload);
        let codec = self.block.finish_into(&mut payload);
        self.write_frame(FrameKind::Records, codec, count, &payload);
        self.payload = payload;
        self.block_seq += u64::from(count);
    }

    fn write_frame(&mut self, kind: FrameKind, codec: Codec, count: u32, payload: &[u8]) {
        let frame = FrameHeader {
            kind,
            codec,
            stored_len: payload.len() as u32,
            record_count: count,
            first_seq: if kind == FrameKind::Records {
                self.block_seq
            } else {
                self.next_seq
            },
        };
        self.out
            .extend_from_slice(&frame.encode(payload, self.header.salt));
        self.out.extend_from_slice(payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{format::WriterId, Item, SegmentReader};

    #[test]
    fn a_segment_made_in_memory_reads_back_whole() {
        let records: Vec<Record> = (0..2500)
            .map(|i| Record::message(format!("line {i}")))
            .collect();
        let header = SegmentHeader {
            writer_id: WriterId(7),
            segment_seq: 3,
            salt: 99,
            first_record_seq: 100,
            created_nanos: 1,
        };
        let bytes = segment_bytes(&header, &records, 1000);
        let mut reader = SegmentReader::open(&bytes[..], "mem").unwrap();
        let mut back = Vec::new();
        let mut next = 100;
        while let Some(item) = reader.next() {
            match item.unwrap() {
                Item::Records {
                    first_seq, records, ..
                } => {
                    assert_eq!(first_seq, next);
                    next += records.len() as u64;
                    back.extend(records);
                }
                Item::Finding(f) => panic!("{f}"),
            }
        }
        assert_eq!(back, records);
        let end = reader.finish().unwrap();
        assert!(end.footer.is_none());
    }

    fn header() -> SegmentHeader {
        SegmentHeader {
            writer_id: WriterId(7),
            segment_seq: 3,
            salt: 99,
            first_record_seq: 100,
            created_nanos: 1,
        }
    }

    fn read_all(bytes: &[u8]) -> (Vec<(u64, Record)>, Vec<crate::Finding>, crate::SegmentEnd) {
        let mut reader = SegmentReader::open(bytes, "mem").unwrap();
        let (mut records, mut findings) = (Vec::new(), Vec::new());
        while let Some(item) = reader.next() {
            match item.unwrap() {
                Item::Records {
                    first_seq,
                    records: r,
                    ..
                } => records.extend((first_seq..).zip(r)),
                Item::Finding(f) => findings.push(f),
            }
        }
        (records, findings, reader.finish().unwrap())
    }

    #[test]
    fn a_sealed_segment_made_in_memory_reads_back_as_a_writer_sealed_one() {
        let mut encoder = SegmentEncoder::new(header(), 400, Codec::Zstd);
        let records: Vec<(u64, Record)> = (100..1100)
            .map(|seq| {
                let mut r = Record::message(format!("line {seq}"));
                r.ts_nanos = Some(seq as i64 * 1000);
                r.level = Some(crate::Level::Warn);
                (seq, r)
            })
            .collect();
        for (seq, record) in &records {
            encoder.push(*seq, record);
        }
        let name = crate::format::segment_file_name(3);
        let EncodedSegment { bytes, entry } = encoder.finish(&name, true);
        let (back, findings, end) = read_all(&bytes);
        assert_eq!(back, records);
        assert!(findings.is_empty(), "{findings:?}");
        let footer = end.footer.expect("sealed");
        assert_eq!(footer.record_count, 1000);
        assert_eq!(
            (footer.min_ts_nanos, footer.max_ts_nanos),
            (Some(100_000), Some(1_099_000))
        );
        assert_eq!(footer.level_counts[3], 1000);
        assert!(entry.sealed);
        assert_eq!(entry.file, name);
        assert_eq!(entry.bytes, bytes.len() as u64);
        assert_eq!(
            entry.crc32c,
            Some(format!("{:08x}", crc32c::crc32c(&bytes)))
        );
    }

    #[test]
    fn a_skipped_sequence_stays_visible_and_leaves_the_segment_unsealed() {
        let mut encoder = SegmentEncoder::new(header(), 1000, Codec::None);
        let kept: Vec<(u64, Record)> = [101, 102, 103, 200, 201]
            .into_iter()
            .map(|seq| (seq, Record::message(format!("line {seq}"))))
            .collect();
        for (seq, record) in &kept {
            encoder.push(*seq, record);
        }
        let encoded = encoder.finish("x.seg", true);
        assert!(!encoded.entry.sealed);
        assert_eq!(encoded.entry.crc32c, None);
        let (back, findings, end) = read_all(&encoded.bytes);
        assert_eq!(back, kept);
        assert!(end.footer.is_none());
        let gaps: Vec<(u64, u64)> = findings
            .iter()
            .map(|f| match f {
                crate::Finding::SequenceGap {
                    expected, found, ..
                } => (*expected, *found),
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(gaps, [(100, 101), (104, 200)]);
    }
}
