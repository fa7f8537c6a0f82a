//! Fuzzes the segment reader: whatever the bytes, it must not panic, and whatever it yields
//! must be in order. The first input byte picks how the rest is used:
//! 0: as a whole segment file; 1: as the frames after a valid header; 2: as payloads of
//! frames with valid checksums (so block and record decoding get fuzzed too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use trawl_bundle::{
    format::{Codec, FrameHeader, FrameKind, SegmentHeader, WriterId},
    Item, Record, SegmentReader,
};

const SALT: u64 = 0x5eed;

fn header() -> Vec<u8> {
    SegmentHeader {
        writer_id: WriterId(1),
        segment_seq: 1,
        salt: SALT,
        first_record_seq: 1,
        created_nanos: 0,
    }
    .encode()
    .to_vec()
}

fn read_all(bytes: &[u8]) {
    let Ok(mut reader) = SegmentReader::open(bytes, "fuzz") else {
        return;
    };
    let mut last = 0;
    while let Some(item) = reader.next() {
        if let Ok(Item::Records { first_seq, records, .. }) = item {
            assert!(first_seq > last || records.is_empty());
            last = first_seq + records.len() as u64 - 1;
        }
    }
    let _ = reader.finish();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => read_all(rest),
        1 => read_all(&[header(), rest.to_vec()].concat()),
        _ => {
            let mut file = header();
            let mut seq = 1;
            for (i, chunk) in rest.split(|&b| b == 0xfe).enumerate() {
                let (codec, count) = match chunk.first() {
                    Some(&b) => (if b & 1 == 0 { Codec::None } else { Codec::Zstd }, u32::from(b >> 1) % 8),
                    None => (Codec::None, 0),
                };
                let payload = chunk.get(1..).unwrap_or_default();
                let kind = if i % 5 == 4 { FrameKind::Footer } else { FrameKind::Records };
                let h = FrameHeader { kind, codec, stored_len: payload.len() as u32, record_count: count, first_seq: seq };
                file.extend_from_slice(&h.encode(payload, SALT));
                file.extend_from_slice(payload);
                seq += u64::from(count);
            }
            read_all(&file);
            let _ = Record::decode(rest);
        }
    }
});
