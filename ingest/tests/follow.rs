//! `trawl follow`: growing files, rotation by rename, copytruncate, and restarts after SIGKILL
//! with no line lost or written twice.

use std::{
    io::Write,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const TRAWL: &str = env!("CARGO_BIN_EXE_trawl");

struct Follower(Child);

impl Follower {
    fn start(bundle: &Path, files: &[&Path]) -> Self {
        let mut cmd = Command::new(TRAWL);
        cmd.args([
            "follow",
            "--poll-ms",
            "20",
            "--idle-flush-ms",
            "100",
            "--out",
        ])
        .arg(bundle)
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
        Self(cmd.spawn().unwrap())
    }

    fn kill(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }

    /// SIGTERM: a graceful stop.
    fn stop(mut self) {
        // SAFETY: plain kill(2) on our own child.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn append(path: &Path, from: u32, to: u32) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for i in from..to {
        writeln!(f, "2024-03-08 14:02:47 INFO line {i}").unwrap();
    }
}

/// The `line N` numbers in the bundle, in record order; `trawl verify` must pass first.
fn lines_in(bundle: &Path) -> Vec<u32> {
    let o = Command::new(TRAWL)
        .args(["verify", "--json"])
        .arg(bundle)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    lines_in_quiet(bundle)
}

fn trawl_segment_names(bundle: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(bundle) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".seg"))
        .collect();
    names.sort();
    names
}

fn wait_for(bundle: &Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if lines_in_quiet(bundle).len() >= count {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "follow did not reach {count} lines: {:?}",
        lines_in_quiet(bundle).len()
    );
}

#[test]
fn follows_growth_rotation_and_copytruncate_and_resumes_after_kill() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let bundle = dir.path().join("bundle");
    append(&log, 0, 100);
    let f = Follower::start(&bundle, &[&log]);
    wait_for(&bundle, 100);
    append(&log, 100, 150);
    wait_for(&bundle, 150);
    f.kill();

    // While it is down the file grows; on restart nothing is lost or repeated.
    append(&log, 150, 200);
    let f = Follower::start(&bundle, &[&log]);
    wait_for(&bundle, 200);

    // Rotation by rename: the rest of the old file is read, then the new one.
    append(&log, 200, 210);
    std::fs::rename(&log, dir.path().join("app.log.1")).unwrap();
    append(&log, 210, 230);
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines_in_quiet(&bundle).len() < 230 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }

    // Copytruncate: copied away and cut to zero, then written again.
    std::fs::copy(&log, dir.path().join("app.log.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, 230, 240);
    let deadline = Instant::now() + Duration::from_secs(20);
    while lines_in_quiet(&bundle).len() < 240 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    f.stop();
    let lines = lines_in(&bundle);
    assert_eq!(
        lines,
        (0..240).collect::<Vec<_>>(),
        "every line once, in order"
    );
}

/// Line numbers of the records so far (a live segment's unwritten tail is simply not read).
fn lines_in_quiet(bundle: &Path) -> Vec<u32> {
    let mut out = Vec::new();
    for name in trawl_segment_names(bundle) {
        let Ok(file) = std::fs::File::open(bundle.join(&name)) else {
            continue;
        };
        let Ok(mut reader) =
            trawl_bundle::SegmentReader::open(std::io::BufReader::new(file), &name)
        else {
            continue;
        };
        while let Some(Ok(item)) = reader.next() {
            if let trawl_bundle::Item::Records { records, .. } = item {
                for r in records {
                    let n = r.message.rsplit(' ').next().and_then(|n| n.parse().ok());
                    out.push(n.unwrap_or_else(|| panic!("unexpected record {:?}", r.message)));
                }
            }
        }
    }
    out
}

#[test]
fn repeated_kills_lose_and_repeat_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("app.log");
    let bundle = dir.path().join("bundle");
    let mut next = 0;
    for round in 0..8 {
        append(&log, next, next + 40);
        next += 40;
        let f = Follower::start(&bundle, &[&log]);
        // Kill at varying moments: sometimes before it catches up.
        std::thread::sleep(Duration::from_millis(20 + 30 * (round % 4)));
        f.kill();
    }
    let f = Follower::start(&bundle, &[&log]);
    wait_for(&bundle, next as usize);
    f.stop();
    assert_eq!(lines_in(&bundle), (0..next).collect::<Vec<_>>());
}
