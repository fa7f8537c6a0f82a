//! Simulated power loss: the real writer on [`SimFs`], crashed at every file-system operation
//! of a workload, the disk left in adversarial states, then recovered and checked.
//!
//! Counts: `TRAWL_CRASH_STATES` (default 400) crash states per test, from
//! `TRAWL_CRASH_SEED` (default 1). The documented long run uses 10,000 or more:
//! `TRAWL_CRASH_STATES=10000 cargo test --release -p trawl-bundle --test crash -- --nocapture`.

mod common;

use std::{path::Path, sync::Arc};

use common::{check_prefix, record};
use trawl_bundle::{
    sim::{Crash, SimFs},
    Durability, Options, Retention, Writer, WriterError,
};

const DIR: &str = "/bundle";

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy)]
struct Workload {
    records: u64,
    max_len: usize,
    durability: Durability,
    max_segment_bytes: u64,
    retention: Retention,
}

impl Workload {
    fn options(&self) -> Options {
        Options {
            durability: self.durability,
            max_segment_bytes: self.max_segment_bytes,
            retention: self.retention,
            block_bytes: 8 << 10,
            ..Options::default()
        }
    }
}

/// Runs `w` on `fs` from record `start`, stopping at the first error (the crash). Returns the
/// highest acknowledged sequence (durable by the API's promise when the call returned).
fn run(fs: &SimFs, w: &Workload, start: u64) -> u64 {
    let opened = Writer::open_with_fs(Arc::new(fs.clone()), Path::new(DIR), w.options());
    let Ok((writer, _)) = opened else {
        return start - 1;
    };
    let mut acked = start - 1;
    for seq in start..start + w.records {
        let result = writer.append(&record(seq, w.max_len));
        match result {
            Ok(got) => {
                assert_eq!(got, seq, "sequence numbers are consecutive");
                match w.durability {
                    Durability::EveryRecord => acked = seq,
                    _ if seq % 7 == 0 => match writer.sync() {
                        Ok(durable) => acked = durable,
                        Err(_) => return acked,
                    },
                    _ => {}
                }
            }
            Err(_) => return acked,
        }
    }
    match writer.close() {
        Ok(closed) => closed.last_seq,
        Err(_) => acked,
    }
}

/// Recovers `fs`, checks the invariant, appends more, recovers again after a clean close and
/// checks again. Returns the error if anything is off.
fn recover_and_check(fs: SimFs, w: &Workload, acked: u64) -> Result<(), String> {
    let first = first_seq(&fs)?;
    let (writer, report) = Writer::open_with_fs(Arc::new(fs.clone()), Path::new(DIR), w.options())
        .map_err(|e| format!("recovery failed: {e}"))?;
    drop(writer);
    // Opening twice recovers nothing new: recovery is idempotent.
    let (writer, again) = Writer::open_with_fs(Arc::new(fs.clone()), Path::new(DIR), w.options())
        .map_err(|e| format!("second recovery failed: {e}"))?;
    if again.truncated.is_some() {
        return Err(format!(
            "second recovery truncated again: {again:?} after {report:?}"
        ));
    }
    drop(writer);
    let k = check_prefix(&fs, Path::new(DIR), first, acked, w.max_len)?;
    // Liveness: appends resume right after, and survive.
    let more = Workload { records: 5, ..*w };
    let last = run(&fs, &more, k + 1);
    if last != k + 5 {
        return Err(format!(
            "after recovery appends {}..{} did not all land (last {last})",
            k + 1,
            k + 5
        ));
    }
    // Retention may have deleted the oldest segments meanwhile.
    let first = first_seq(&fs)?;
    check_prefix(&fs, Path::new(DIR), first, k + 5, w.max_len).map(drop)
}

fn first_seq(fs: &SimFs) -> Result<u64, String> {
    use trawl_bundle::fs::Fs;
    let names = trawl_bundle::segment_files(fs, Path::new(DIR)).map_err(|e| e.to_string())?;
    let Some(name) = names.first() else {
        return Ok(1);
    };
    let mut header = vec![0u8; 64];
    let mut src = fs
        .open_read(&Path::new(DIR).join(name))
        .map_err(|e| e.to_string())?;
    std::io::Read::read_exact(&mut src, &mut header).map_err(|e| e.to_string())?;
    trawl_bundle::SegmentHeader::decode(&header)
        .map(|h| h.first_record_seq)
        .map_err(|e| e.to_string())
}

/// Crashes `w` at operation `op` and checks the disk states `modes` leaves.
fn crash_at(w: &Workload, op: u64, modes: &[Crash]) -> Result<usize, String> {
    let fs = SimFs::new();
    fs.crash_at_op(op);
    let acked = run(&fs, w, 1);
    if !fs.has_crashed() {
        return Ok(0);
    }
    for &mode in modes {
        recover_and_check(fs.crash(mode), w, acked)
            .map_err(|e| format!("crash at op {op}, {mode:?}, acked {acked}: {e}"))?;
    }
    Ok(modes.len())
}

/// The modes to try at one crash point: the extremes, every choice when there are few, and
/// random ones.
fn modes(w: &Workload, op: u64, seed: &mut u64, random: usize) -> Vec<Crash> {
    let probe = SimFs::new();
    probe.crash_at_op(op);
    run(&probe, w, 1);
    let mut modes = vec![Crash::Clean, Crash::Everything];
    if let Some((sectors, names)) = probe.unsynced_at_crash() {
        if sectors <= 5 {
            for mask in 0..(1u64 << sectors) {
                for keep in 0..=names {
                    modes.push(Crash::Exact { mask, names: keep });
                }
            }
        }
    }
    for _ in 0..random {
        *seed += 1;
        modes.push(Crash::Random { seed: *seed });
    }
    modes
}

fn total_ops(w: &Workload) -> u64 {
    let fs = SimFs::new();
    run(&fs, w, 1);
    fs.ops()
}

/// Walks the crash points of `w` until `budget` crash states were checked.
fn explore(name: &str, w: Workload) {
    let budget = env_u64("TRAWL_CRASH_STATES", 400) as usize;
    let mut seed = env_u64("TRAWL_CRASH_SEED", 1) * 1_000_003;
    let ops = total_ops(&w);
    let mut checked = 0;
    let mut points = 0;
    // Visit every crash point once (as far as the budget goes), then again with new seeds.
    'outer: for round in 0.. {
        for op in 1..=ops {
            let remaining = budget.saturating_sub(checked);
            if remaining == 0 {
                break 'outer;
            }
            let random = if round == 0 { 1 } else { 3 };
            let mut m = modes(&w, op, &mut seed, random);
            m.truncate(remaining.max(1));
            match crash_at(&w, op, &m) {
                Ok(n) => checked += n,
                Err(e) => panic!("{name}: {e}"),
            }
            points += 1;
        }
    }
    println!("{name}: {checked} crash states at {points} crash points of {ops} operations: invariant held");
}

#[test]
fn every_record_durability_survives_power_loss() {
    explore(
        "every-record",
        Workload {
            records: 12,
            max_len: 700,
            durability: Durability::EveryRecord,
            max_segment_bytes: 2048,
            retention: Retention::default(),
        },
    );
}

#[test]
fn manual_sync_with_large_blocks_and_rotation_survives_power_loss() {
    explore(
        "manual-sync",
        Workload {
            records: 40,
            max_len: 3000,
            durability: Durability::Manual,
            max_segment_bytes: 16 << 10,
            retention: Retention::default(),
        },
    );
}

#[test]
fn retention_survives_power_loss() {
    explore(
        "retention",
        Workload {
            records: 30,
            max_len: 500,
            durability: Durability::EveryRecord,
            max_segment_bytes: 1500,
            retention: Retention {
                max_segments: Some(2),
                max_bytes: None,
                max_age: None,
            },
        },
    );
}

/// A crash during recovery, then recovery again: the same invariant.
#[test]
fn a_crash_during_recovery_is_recovered_from() {
    let w = Workload {
        records: 10,
        max_len: 900,
        durability: Durability::EveryRecord,
        max_segment_bytes: 2048,
        retention: Retention::default(),
    };
    let ops = total_ops(&w);
    let mut checked = 0;
    for op in (1..=ops).step_by(3) {
        let fs = SimFs::new();
        fs.crash_at_op(op);
        let acked = run(&fs, &w, 1);
        for seed in 0..4 {
            let crashed = fs.crash(Crash::Random {
                seed: op * 31 + seed,
            });
            // Recover, crashing at each of recovery's own operations in turn.
            let start = crashed.ops();
            for r_op in 1..=12 {
                let attempt = crashed.crash(Crash::Everything);
                attempt.crash_at_op(start + r_op);
                let opened =
                    Writer::open_with_fs(Arc::new(attempt.clone()), Path::new(DIR), w.options());
                drop(opened);
                let after = attempt.crash(Crash::Random { seed: r_op });
                recover_and_check(after, &w, acked).unwrap_or_else(|e| {
                    panic!("crash at op {op}, then in recovery at {r_op}: {e}")
                });
                checked += 1;
            }
        }
    }
    println!("crash during recovery: {checked} states checked");
}

/// fsync failures: nothing from the failed group is ever acknowledged, the writer stops,
/// and what recovery finds is a prefix holding every acknowledged record.
#[test]
fn a_failed_sync_poisons_the_writer_and_is_never_acknowledged() {
    let w = Workload {
        records: 12,
        max_len: 600,
        durability: Durability::EveryRecord,
        max_segment_bytes: 2048,
        retention: Retention::default(),
    };
    let mut checked = 0;
    for failing_sync in 1..40 {
        let fs = SimFs::new();
        fs.fail_sync_at(failing_sync);
        let opened = Writer::open_with_fs(Arc::new(fs.clone()), Path::new(DIR), w.options());
        let Ok((writer, _)) = opened else {
            continue;
        };
        let mut acked = 0;
        let mut failed_at = None;
        for seq in 1..=w.records {
            match writer.append(&record(seq, w.max_len)) {
                Ok(_) => {
                    assert!(
                        failed_at.is_none(),
                        "an append succeeded after the writer failed"
                    );
                    acked = seq;
                }
                Err(WriterError::Poisoned(reason)) => {
                    assert!(reason.contains("EIO"), "{reason}");
                    failed_at.get_or_insert(seq);
                }
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        if failed_at.is_some() {
            assert!(writer.sync().is_err(), "sync after a failure must fail");
            assert!(writer.close().is_err(), "close after a failure must fail");
        } else {
            drop(writer);
        }
        for seed in 0..3 {
            recover_and_check(fs.crash(Crash::Random { seed }), &w, acked)
                .unwrap_or_else(|e| panic!("sync {failing_sync} failed: {e}"));
            checked += 1;
        }
    }
    println!("failed syncs: {checked} states checked");
}
