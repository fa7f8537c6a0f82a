//! The reader on damaged segments: it yields only valid frames, in order, and names every
//! problem with its file and offset.

mod common;

use std::{io::Read, path::Path, sync::Arc};

use common::record;
use proptest::prelude::*;
use trawl_bundle::{sim::SimFs, Durability, Finding, Item, Options, Record, SegmentReader, Writer};

/// A sealed segment of `n` records in frames of about `block` bytes, and each frame's offset.
fn segment(n: u64, block: usize) -> (Vec<u8>, Vec<u64>) {
    let fs = SimFs::new();
    let options = Options {
        durability: Durability::Manual,
        block_bytes: block,
        ..Options::default()
    };
    let (writer, _) = Writer::open_with_fs(Arc::new(fs.clone()), Path::new("/b"), options).unwrap();
    for seq in 1..=n {
        writer.append(&record(seq, 300)).unwrap();
        if seq % 4 == 0 {
            writer.sync().unwrap();
        }
    }
    writer.close().unwrap();
    let name = trawl_bundle::segment_files(&fs, Path::new("/b"))
        .unwrap()
        .remove(0);
    let bytes = fs.read_file(&Path::new("/b").join(name)).unwrap();
    let mut offsets = Vec::new();
    let mut reader = SegmentReader::open(bytes.as_slice(), "seg").unwrap();
    while let Some(item) = reader.next() {
        if let Item::Records { offset, .. } = item.unwrap() {
            offsets.push(offset);
        }
    }
    (bytes, offsets)
}

fn read(bytes: &[u8]) -> (Vec<u64>, Vec<Finding>, trawl_bundle::SegmentEnd) {
    let mut reader = SegmentReader::open(bytes, "seg").unwrap();
    let mut seqs = Vec::new();
    let mut findings = Vec::new();
    while let Some(item) = reader.next() {
        match item.unwrap() {
            Item::Records {
                first_seq, records, ..
            } => {
                for (i, r) in records.iter().enumerate() {
                    let seq = first_seq + i as u64;
                    assert_eq!(
                        *r,
                        record(seq, 300),
                        "record {seq} is exactly what was written"
                    );
                    seqs.push(seq);
                }
            }
            Item::Finding(f) => findings.push(f),
        }
    }
    (seqs, findings, reader.finish().unwrap())
}

#[test]
fn a_clean_sealed_segment_reads_whole() {
    let (bytes, offsets) = segment(40, 2000);
    assert!(offsets.len() > 4);
    let (seqs, findings, end) = read(&bytes);
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
    assert!(findings.is_empty(), "{findings:?}");
    let footer = end.footer.expect("sealed");
    assert_eq!(footer.record_count, 40);
    assert_eq!(end.prefix_len, bytes.len() as u64);
}

#[test]
fn torn_tails_of_every_shape_stop_at_the_last_valid_frame() {
    let (bytes, offsets) = segment(40, 2000);
    let last = *offsets.last().unwrap() as usize;
    let cut = last + 30; // inside the last records frame
    let tails: [(&str, Vec<u8>); 3] = [
        ("cut short", bytes[..cut].to_vec()),
        ("zero-filled", [&bytes[..cut], &vec![0; 4000][..]].concat()),
        (
            "garbage",
            [
                &bytes[..cut],
                &(0..4000u32)
                    .map(|i| (i * 7919 % 251) as u8)
                    .collect::<Vec<_>>()[..],
            ]
            .concat(),
        ),
    ];
    for (what, damaged) in tails {
        let (seqs, findings, end) = read(&damaged);
        assert_eq!(findings.len(), 1, "{what}: {findings:?}");
        let Finding::TornTail { offset, file, .. } = &findings[0] else {
            panic!("{what}: {findings:?}");
        };
        assert_eq!((*offset, file.as_str()), (last as u64, "seg"), "{what}");
        assert_eq!(end.prefix_len, last as u64, "{what}");
        assert!(end.footer.is_none(), "{what}: not sealed");
        assert_eq!(*seqs.last().unwrap() + 1, end.prefix_next_seq, "{what}");
    }
}

#[test]
fn mid_segment_corruption_is_reported_and_later_frames_still_read() {
    let (bytes, offsets) = segment(40, 2000);
    let mut damaged = bytes.clone();
    let victim = offsets[1] as usize;
    damaged[victim + 40] ^= 0xff;
    let (seqs, findings, end) = read(&damaged);
    assert!(
        matches!(&findings[0], Finding::BadFrame { offset, .. } if *offset == victim as u64),
        "{findings:?}"
    );
    assert!(
        matches!(&findings[1], Finding::SequenceGap { .. }),
        "{findings:?}"
    );
    assert!(seqs.contains(&40), "frames after the damage still read");
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(end.footer.is_some(), "the footer is still found");
    assert_eq!(end.prefix_len, victim as u64);
    let message = findings[0].to_string();
    assert!(
        message.contains("seg") && message.contains(&victim.to_string()),
        "{message}"
    );
}

#[test]
fn frames_from_another_segment_never_validate() {
    let (a, offsets) = segment(20, 2000);
    let (b, _) = segment(20, 2000);
    // Splice a frame of segment b (another salt) into the tail of a.
    let start = offsets[2] as usize;
    let spliced = [&a[..start], &b[start..]].concat();
    let (seqs, findings, _) = read(&spliced);
    assert!(
        seqs.iter().all(|&s| s < 20),
        "nothing from b is read as a's"
    );
    assert!(
        matches!(findings.last(), Some(Finding::TornTail { .. })),
        "{findings:?}"
    );
}

#[test]
fn a_file_that_is_not_a_segment_is_an_error_naming_it() {
    let err = SegmentReader::open(&b"2024-01-01 INFO just a log line\n"[..], "app.log")
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        text.starts_with("app.log:") && text.contains("not a trawl segment"),
        "{text}"
    );
}

/// A source that returns one byte per read: streaming must not depend on read sizes.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((b, rest)), Some(slot)) => {
                *slot = *b;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

#[test]
fn reading_one_byte_at_a_time_gives_the_same_result() {
    let (bytes, offsets) = segment(30, 1500);
    let mut damaged = bytes.clone();
    damaged[offsets[2] as usize + 30] ^= 1;
    let mut reader = SegmentReader::open(Trickle(&damaged), "seg").unwrap();
    let mut items = Vec::new();
    while let Some(item) = reader.next() {
        items.push(item.unwrap());
    }
    let mut whole = SegmentReader::open(damaged.as_slice(), "seg").unwrap();
    let mut expected = Vec::new();
    while let Some(item) = whole.next() {
        expected.push(item.unwrap());
    }
    assert_eq!(items, expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Records through the writer and back through the reader are unchanged.
    #[test]
    fn records_round_trip_through_writer_and_reader(messages in proptest::collection::vec(".{0,300}", 1..60), block in 64usize..5000) {
        let fs = SimFs::new();
        let options = Options { durability: Durability::Manual, block_bytes: block, ..Options::default() };
        let (writer, _) = Writer::open_with_fs(Arc::new(fs.clone()), Path::new("/b"), options).unwrap();
        let records: Vec<Record> = messages.iter().map(|m| Record::message(m.clone())).collect();
        writer.append_all(&records).unwrap();
        writer.close().unwrap();
        let read = common::read_all(&fs, Path::new("/b")).unwrap();
        prop_assert_eq!(read.into_iter().map(|(_, r)| r).collect::<Vec<_>>(), records);
    }

    /// Arbitrary damage anywhere never panics the reader, and whatever it yields is a valid,
    /// increasing sequence of exactly the records written.
    #[test]
    fn damage_anywhere_never_yields_a_wrong_record(flips in proptest::collection::vec((0usize..20_000, any::<u8>()), 1..6), cut in proptest::option::of(0usize..20_000)) {
        let (bytes, _) = segment(30, 1000);
        let mut damaged = bytes.clone();
        for (at, mask) in flips {
            let at = at % damaged.len();
            damaged[at] ^= mask;
        }
        if let Some(cut) = cut {
            damaged.truncate(cut % (damaged.len() + 1));
        }
        if let Ok(mut reader) = SegmentReader::open(damaged.as_slice(), "seg") {
            let mut last = 0;
            while let Some(item) = reader.next() {
                if let Item::Records { first_seq, records, .. } = item.unwrap() {
                    for (i, r) in records.iter().enumerate() {
                        let seq = first_seq + i as u64;
                        prop_assert!(seq > last);
                        prop_assert_eq!(r, &record(seq, 300));
                        last = seq;
                    }
                }
            }
        }
    }
}
