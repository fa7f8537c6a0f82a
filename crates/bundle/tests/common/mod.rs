//! Helpers shared by the writer tests: deterministic records and the recovery invariant.

#![allow(dead_code)]

use std::path::Path;

use trawl_bundle::{fs::Fs, segment_files, Item, Level, Record, SegmentReader};

/// The record with sequence `seq`: its content derives from `seq` alone, with lengths from a
/// few bytes to `max_len`, so any record read back can be checked byte for byte.
pub fn record(seq: u64, max_len: usize) -> Record {
    let mut x = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xdead_beef;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let len = (next() as usize) % max_len.max(1);
    let body: String = (0..len)
        .map(|i| (b'a' + ((next() >> (i % 7)) % 26) as u8) as char)
        .collect();
    Record {
        ts_nanos: Some(1_700_000_000_000_000_000 + seq as i64 * 1_000_000),
        level: Level::from_code((seq % 6 + 1) as u8),
        message: format!("record {seq} {body}"),
        service: Some(format!("svc-{}", seq % 3)),
        raw: seq.is_multiple_of(5).then(|| vec![0xff, 0x00, seq as u8]),
        line: Some(seq),
        ..Record::default()
    }
}

/// Every record in `dir`, in order, with its sequence; fails on any finding.
pub fn read_all(fs: &dyn Fs, dir: &Path) -> Result<Vec<(u64, Record)>, String> {
    let mut out = Vec::new();
    for name in segment_files(fs, dir).map_err(|e| e.to_string())? {
        let src = fs.open_read(&dir.join(&name)).map_err(|e| e.to_string())?;
        let mut reader = SegmentReader::open(src, &name).map_err(|e| e.to_string())?;
        while let Some(item) = reader.next() {
            match item.map_err(|e| e.to_string())? {
                Item::Records {
                    first_seq, records, ..
                } => {
                    for (i, r) in records.into_iter().enumerate() {
                        out.push((first_seq + i as u64, r));
                    }
                }
                Item::Finding(f) => return Err(format!("finding after recovery: {f}")),
            }
        }
    }
    Ok(out)
}

/// The recovery invariant: what is in `dir` is exactly records `first..=k` of the workload
/// for some `k >= acked` (no loss of acknowledged records, no gap, no reordering, no
/// duplicate, every record byte-exact). Returns `k`.
pub fn check_prefix(
    fs: &dyn Fs,
    dir: &Path,
    first: u64,
    acked: u64,
    max_len: usize,
) -> Result<u64, String> {
    let records = read_all(fs, dir)?;
    let mut expected = first;
    for (seq, r) in &records {
        if *seq != expected {
            return Err(format!("expected record {expected}, found {seq}"));
        }
        if *r != record(*seq, max_len) {
            return Err(format!("record {seq} is not what was appended"));
        }
        expected += 1;
    }
    let k = expected - 1;
    if k < acked {
        return Err(format!(
            "acknowledged record {acked} lost: only {k} recovered"
        ));
    }
    Ok(k)
}
