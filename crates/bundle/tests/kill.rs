//! Real processes, real SIGKILL: a child appends records and prints `ACK n` once record `n`
//! is durable; the parent kills it at random moments, recovers, checks that every
//! acknowledged record is there (and nothing else is wrong), and starts it again.
//!
//! `TRAWL_KILL_ROUNDS` (default 100) sets the number of kills; the long run uses 1,000.
//! With `TRAWL_LOOP_TESTS=1` (root; ext4 and XFS images on loop devices), the same is done
//! with the file system shut down under the child by `FS_IOC_SHUTDOWN` without log flush,
//! then unmounted and mounted again: see `shutdown_on_loop_devices` below.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use common::{check_prefix, record};
use rand::{rngs::StdRng, Rng, SeedableRng};
use trawl_bundle::{fs::StdFs, Durability, Options, Writer};

const CHILD_DIR: &str = "TRAWL_KILL_CHILD_DIR";
const CHILD_MODE: &str = "TRAWL_KILL_CHILD_MODE";
const MAX_LEN: usize = 2000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn options(mode: &str) -> Options {
    Options {
        durability: if mode == "manual" {
            Durability::Manual
        } else {
            Durability::EveryRecord
        },
        max_segment_bytes: 256 << 10,
        block_bytes: 16 << 10,
        ..Options::default()
    }
}

/// The child: a no-op in a normal test run; the writer process when the parent starts it.
#[test]
fn child_process() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let mode = std::env::var(CHILD_MODE).unwrap_or_default();
    let (writer, report) = Writer::open(&dir, options(&mode)).expect("child: open");
    let mut out = std::io::stdout().lock();
    let mut seq = report.last_seq + 1;
    loop {
        writer.append(&record(seq, MAX_LEN)).expect("child: append");
        let durable = if mode == "manual" {
            if seq % 16 != 0 {
                seq += 1;
                continue;
            }
            writer.sync().expect("child: sync")
        } else {
            seq
        };
        if writeln!(out, "ACK {durable}")
            .and_then(|_| out.flush())
            .is_err()
        {
            return;
        }
        seq += 1;
    }
}

/// A running child and the highest `ACK` it printed.
struct Appender {
    child: Child,
    acked: Arc<AtomicU64>,
    lines: Option<JoinHandle<()>>,
}

impl Appender {
    fn start(dir: &Path, mode: &str) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "child_process",
                "--nocapture",
                "--test-threads=1",
                "-q",
            ])
            .env(CHILD_DIR, dir)
            .env(CHILD_MODE, mode)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the child");
        let stdout = child.stdout.take().unwrap();
        let acked = Arc::new(AtomicU64::new(0));
        let seen = acked.clone();
        let lines = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ACK ").and_then(|n| n.parse().ok()) {
                    seen.fetch_max(n, Ordering::SeqCst);
                }
            }
        });
        Self {
            child,
            acked,
            lines: Some(lines),
        }
    }

    /// Stops the child (SIGSTOP) and returns the highest sequence it acknowledged before:
    /// every acknowledgement counted happened before whatever the caller does next.
    fn freeze(&mut self) -> u64 {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGSTOP) };
        // Let the reader thread take in everything the child printed before it stopped.
        let mut last = self.acked.load(Ordering::SeqCst);
        loop {
            std::thread::sleep(Duration::from_millis(30));
            let now = self.acked.load(Ordering::SeqCst);
            if now == last {
                return now;
            }
            last = now;
        }
    }

    /// SIGKILLs the child and returns the highest sequence it acknowledged.
    fn kill(mut self) -> u64 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(lines) = self.lines.take() {
            let _ = lines.join();
        }
        self.acked.load(Ordering::SeqCst)
    }
}

impl Drop for Appender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Recovers `dir` and checks the invariant; returns the number of records in it.
fn recover_and_check(dir: &Path, acked: u64) -> u64 {
    let (writer, report) = Writer::open(dir, Options::default()).expect("recovery");
    drop(writer);
    check_prefix(&StdFs, dir, 1, acked, MAX_LEN)
        .unwrap_or_else(|e| panic!("after a kill: {e}\nrecovery: {report:?}"))
}

/// Kills the child `rounds` times at random moments under `dir`, checking after each kill.
fn kill_rounds(dir: &Path, rounds: u64, seed: u64) -> (u64, u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut acked_total = 0;
    let mut records = 0;
    for round in 0..rounds {
        let mode = if round % 3 == 2 { "manual" } else { "every" };
        let child = Appender::start(dir, mode);
        // Let it start and write for a random while.
        std::thread::sleep(Duration::from_millis(rng.random_range(5..60)));
        let acked = child.kill();
        records = recover_and_check(dir, acked.max(acked_total));
        acked_total = acked_total.max(acked);
    }
    (acked_total, records)
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_record() {
    if std::env::var(CHILD_DIR).is_ok() {
        return;
    }
    let rounds = env_u64("TRAWL_KILL_ROUNDS", 100);
    let dir = tempfile::tempdir().unwrap();
    let (acked, records) = kill_rounds(dir.path(), rounds, 7);
    assert!(
        acked > rounds,
        "the child made progress: {acked} acknowledged"
    );
    println!("sigkill: {rounds} kills, {acked} records acknowledged, {records} recovered, invariant held");
}

/// Opt-in (root): ext4 and XFS on loop devices, shut down under the writing child with
/// `FS_IOC_SHUTDOWN` and no log flush, then unmounted, mounted again, recovered, checked.
/// `TRAWL_LOOP_TESTS=1 cargo test -p trawl-bundle --test kill shutdown -- --nocapture`
#[test]
fn shutdown_on_loop_devices() {
    if std::env::var(CHILD_DIR).is_ok() || std::env::var("TRAWL_LOOP_TESTS").is_err() {
        return;
    }
    let rounds = env_u64("TRAWL_LOOP_ROUNDS", 20);
    for (fs_type, mkfs) in [
        ("ext4", vec!["mkfs.ext4", "-q", "-F"]),
        ("xfs", vec!["mkfs.xfs", "-q", "-f"]),
    ] {
        let work = tempfile::tempdir().unwrap();
        let image = work.path().join(format!("{fs_type}.img"));
        let mnt = work.path().join("mnt");
        std::fs::create_dir(&mnt).unwrap();
        run(Command::new("truncate").args(["-s", "512M"]).arg(&image));
        run(Command::new(mkfs[0]).args(&mkfs[1..]).arg(&image));
        let mount = || {
            run(Command::new("mount")
                .args(["-o", "loop"])
                .arg(&image)
                .arg(&mnt))
        };
        let umount = || run(Command::new("umount").arg(&mnt));
        mount();
        let dir = mnt.join("bundle");
        let mut rng = StdRng::seed_from_u64(11);
        let mut acked_total = 0;
        let mut records = 0;
        for round in 0..rounds {
            let mode = if round % 3 == 2 { "manual" } else { "every" };
            let mut child = Appender::start(&dir, mode);
            std::thread::sleep(Duration::from_millis(rng.random_range(20..200)));
            // Acknowledgements printed before the shutdown must survive it; a sync that is
            // in flight when the file system goes down may be lost, and was never printed.
            let acked = child.freeze();
            shutdown(&mnt);
            child.kill();
            umount();
            mount();
            records = recover_and_check(&dir, acked.max(acked_total));
            if std::env::var("TRAWL_LOOP_VERBOSE").is_ok() {
                println!("{fs_type} round {round} ({mode}): acked {acked}, recovered {records}");
            }
            acked_total = acked_total.max(acked);
        }
        umount();
        assert!(acked_total > 0, "{fs_type}: the child made progress");
        println!("{fs_type}: {rounds} shutdowns, {acked_total} acknowledged, {records} recovered, invariant held");
    }
}

fn run(cmd: &mut Command) {
    let status = cmd.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(status.success(), "{cmd:?}: {status}");
}

/// `ioctl(FS_IOC_SHUTDOWN, FS_SHUTDOWN_FLAGS_NOLOGFLUSH)` on the file system at `mnt`.
fn shutdown(mnt: &Path) {
    use std::os::fd::AsRawFd;
    const FS_IOC_SHUTDOWN: libc::c_ulong = 0x8004_587d;
    const NOLOGFLUSH: u32 = 2;
    let dir = std::fs::File::open(mnt).unwrap();
    let flags = NOLOGFLUSH;
    // SAFETY: the fd is open for the call's duration; the argument is a pointer to a u32 as
    // the ioctl expects.
    let rc = unsafe { libc::ioctl(dir.as_raw_fd(), FS_IOC_SHUTDOWN, &flags as *const u32) };
    assert_eq!(
        rc,
        0,
        "FS_IOC_SHUTDOWN: {}",
        std::io::Error::last_os_error()
    );
}
