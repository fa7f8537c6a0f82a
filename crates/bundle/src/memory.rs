//! Segments made in memory, not by a [`Writer`](crate::Writer): for importers that turn other
//! input (a raw log file opened in the browser) into records the store takes, and for tests.

use crate::{
    block::BlockBuilder,
    format::{FrameHeader, FrameKind, SegmentHeader},
    Record,
};

/// The bytes of a segment with `header`, holding `records` from sequence
/// `header.first_record_seq`, `per_frame` records a frame, without a footer (as a live
/// writer leaves it). [`SegmentReader`](crate::SegmentReader) reads it like any other.
pub fn segment_bytes(header: &SegmentHeader, records: &[Record], per_frame: usize) -> Vec<u8> {
    let mut out = header.encode().to_vec();
    let mut seq = header.first_record_seq;
    let mut block = BlockBuilder::default();
    for chunk in records.chunks(per_frame.max(1)) {
        for record in chunk {
            block.push(record);
        }
        let (codec, payload) = block.finish();
        let frame = FrameHeader {
            kind: FrameKind::Records,
            codec,
            stored_len: payload.len() as u32,
            record_count: chunk.len() as u32,
            first_seq: seq,
        };
        out.extend_from_slice(&frame.encode(&payload, header.salt));
        out.extend_from_slice(&payload);
        seq += chunk.len() as u64;
    }
    out
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
}
