//! Test data for both targets: real sample logs parsed by trawl-parse, written as segments in
//! memory with the bundle format's own frame encoding (what the writer writes, minus the
//! files).

use trawl_bundle::block::BlockBuilder;
use trawl_bundle::format::{FrameHeader, FrameKind, SegmentHeader, WriterId};
use trawl_bundle::Record;
use trawl_parse::{sniff::sniff, time::TimeContext, Options, Parser};

/// Sample files compiled in, so the same tests run in the browser.
pub const OPENSSH: &str = include_str!("../../../../../shared/samples/loghub/OpenSSH_2k.log");
pub const HDFS: &str = include_str!("../../../../../shared/samples/loghub/HDFS_2k.log");
pub const CRI_JSON: &str =
    include_str!("../../../../../shared/samples/synthetic/cri_containerd_json_apps.log");

/// The records trawl ingest makes of `text`, with `source` as their file.
pub fn parse(source: &str, text: &str) -> Vec<Record> {
    let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
    let time = TimeContext {
        year: 2024,
        ..TimeContext::default()
    };
    let format = sniff(lines.iter().take(50).copied(), &time);
    let options = Options {
        time,
        source: source.to_owned(),
        ..Options::default()
    };
    let mut parser = Parser::new(format, options);
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        parser.line(line, i as u64 + 1, &mut out);
    }
    parser.finish(&mut out);
    out
}

/// A segment (unsealed, as a live writer leaves it) holding `records` from sequence
/// `first_seq`, `per_frame` records a frame.
pub fn segment(
    writer: u128,
    segment_seq: u64,
    first_seq: u64,
    records: &[Record],
    per_frame: usize,
) -> Vec<u8> {
    let header = SegmentHeader {
        writer_id: WriterId(writer),
        segment_seq,
        salt: 0x5eed ^ u64::try_from(writer & 0xffff).unwrap() ^ segment_seq,
        first_record_seq: first_seq,
        created_nanos: 1_700_000_000_000_000_000,
    };
    let mut out = header.encode().to_vec();
    let mut seq = first_seq;
    for chunk in records.chunks(per_frame.max(1)) {
        let mut block = BlockBuilder::default();
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
