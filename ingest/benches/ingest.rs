//! The ingest benchmark: `cargo bench -p trawl --bench ingest` (or scripts/bench-ingest.sh).
//!
//! For each format family it generates a corpus (cached under target/trawl-bench/corpus; the
//! JSON-lines one is 1 GiB by default, `TRAWL_BENCH_JSON_MB`), then measures in the same run:
//! `cat FILE > /dev/null` (the page-cache read baseline), `trawl ingest` into a fresh bundle
//! with the default durability policy, and lnav indexing the same file
//! (`lnav -n -c ';SELECT count(*) FROM all_logs'`, if lnav is installed; the share of lines
//! it recognised as records is printed beside it). Prints a table, then one line of JSON.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const SERVICES: [&str; 5] = ["payment-api", "checkout", "auth", "inventory", "gateway"];
const WORDS: [&str; 12] = [
    "request",
    "completed",
    "failed",
    "retrying",
    "cache",
    "miss",
    "order",
    "user",
    "timeout",
    "connection",
    "reset",
    "upstream",
];

fn message(g: &mut Gen) -> String {
    let n = 4 + g.next() % 8;
    let mut m = String::new();
    for i in 0..n {
        if i > 0 {
            m.push(' ');
        }
        m.push_str(WORDS[(g.next() % 12) as usize]);
    }
    m.push_str(&format!(
        " /api/v1/orders/{} in {}ms",
        g.next() % 100_000,
        g.next() % 900
    ));
    m
}

/// One line of `family` at time `t` (seconds since 2024-03-08T00:00:00Z).
fn line(family: &str, g: &mut Gen, t: u64) -> String {
    let level = ["info", "info", "info", "debug", "warn", "error"][(g.next() % 6) as usize];
    let svc = SERVICES[(g.next() % 5) as usize];
    let (h, m, s, ms) = (t / 3600 % 24, t / 60 % 60, t % 60, g.next() % 1000);
    let iso = format!("2024-03-08T{h:02}:{m:02}:{s:02}.{ms:03}Z");
    match family {
        "json" => match g.next() % 4 {
            0 => format!(r#"{{"level":"{level}","ts":{}.{ms:03},"caller":"server/handler.go:{}","msg":"{}","service":"{svc}","trace_id":"{:016x}{:016x}"}}"#, 1_709_856_000 + t, g.next() % 900, message(g), g.next(), g.next()),
            1 => format!(r#"{{"level":"{level}","time":"{iso}","message":"{}","service":"{svc}","user_id":{}}}"#, message(g), g.next() % 10_000),
            2 => format!(r#"{{"level":"{level}","msg":"{}","time":"{iso}","component":"{svc}","request_id":"{:08x}"}}"#, message(g), g.next() % u64::from(u32::MAX)),
            _ => format!(r#"{{"level":{},"time":{}{ms:03},"pid":17,"hostname":"web-{}","msg":"{}"}}"#, [30, 30, 20, 40, 50][(g.next() % 5) as usize], 1_709_856_000 + t, g.next() % 9, message(g)),
        },
        "logfmt" => format!("time={iso} level={level} service={svc} msg=\"{}\" user={}", message(g), g.next() % 10_000),
        "text" => format!("2024-03-08 {h:02}:{m:02}:{s:02},{ms:03} {} [main] org.example.{svc}.Handler: {}", level.to_uppercase(), message(g)),
        "access" => format!(
            "10.0.{}.{} - - [08/Mar/2024:{h:02}:{m:02}:{s:02} +0000] \"GET /api/v1/orders/{} HTTP/1.1\" {} {} \"-\" \"curl/8.{}\"",
            g.next() % 256, g.next() % 256, g.next() % 100_000, [200, 200, 201, 404, 500][(g.next() % 5) as usize], g.next() % 50_000, g.next() % 9
        ),
        "syslog" => format!("Mar  8 {h:02}:{m:02}:{s:02} node-{} {svc}[{}]: {}", g.next() % 9, g.next() % 30_000, message(g)),
        "cri" => format!("{iso} stdout F {}", line("json", g, t)),
        other => panic!("no generator for {other}"),
    }
}

fn corpus(dir: &Path, family: &str, mb: u64) -> PathBuf {
    let path = dir.join(format!("{family}-{mb}mb.log"));
    if path.exists() {
        return path;
    }
    let tmp = path.with_extension("tmp");
    let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp).unwrap());
    let mut g = Gen(0x9e37_79b9_7f4a_7c15 ^ family.len() as u64);
    let (mut written, mut t) = (0u64, 0u64);
    while written < mb << 20 {
        let l = line(family, &mut g, t / 20);
        written += l.len() as u64 + 1;
        writeln!(out, "{l}").unwrap();
        t += 1;
    }
    out.flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    path
}

/// Runs `cmd` and returns its seconds by the clock and what it printed.
fn time_output(cmd: &mut Command) -> (f64, String) {
    let start = Instant::now();
    let out = cmd.stderr(Stdio::null()).output().unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(out.status.success(), "{cmd:?}: {}", out.status);
    (secs, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn time(cmd: &mut Command) -> f64 {
    let start = Instant::now();
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{cmd:?}: {status}");
    start.elapsed().as_secs_f64()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/trawl-bench");
    let corpus_dir = root.join("corpus");
    std::fs::create_dir_all(&corpus_dir).unwrap();
    let work = root.join("ingest-out");
    let json_mb = env_u64("TRAWL_BENCH_JSON_MB", 1024);
    let other_mb = env_u64("TRAWL_BENCH_OTHER_MB", 200);
    let lnav = Command::new("lnav")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    let trawl = env!("CARGO_BIN_EXE_trawl");

    println!(
        "{:<8} {:>7} {:>11} {:>10} {:>11} {:>11} {:>10} {:>10} {:>9} {:>9}",
        "format",
        "MB",
        "lines",
        "cat MB/s",
        "trawl MB/s",
        "lines/s",
        "lnav MB/s",
        "lnav recs",
        "vs cat",
        "vs lnav"
    );
    let mut json = serde_json::Map::new();
    for (family, mb) in [
        ("json", json_mb),
        ("logfmt", other_mb),
        ("text", other_mb),
        ("access", other_mb),
        ("syslog", other_mb),
        ("cri", other_mb),
    ] {
        let file = corpus(&corpus_dir, family, mb);
        let bytes = std::fs::metadata(&file).unwrap().len() as f64;
        let lines = std::fs::read(&file)
            .map(|b| b.iter().filter(|&&c| c == b'\n').count())
            .unwrap() as f64;
        // Warm the page cache, then time cat.
        time(Command::new("cat").arg(&file));
        let cat = time(
            Command::new("sh")
                .arg("-c")
                .arg(format!("cat '{}' > /dev/null", file.display())),
        );
        let _ = std::fs::remove_dir_all(&work);
        let ingest = time(
            Command::new(trawl)
                .args(["ingest", "--out"])
                .arg(&work)
                .arg(&file),
        );
        // lnav's count says how much of the file it recognised as log records: a file in no
        // format it knows (generic JSON lines, for lnav 0.11) is only split into lines, so
        // its MB/s is then no parsing at all.
        let lnav_run = lnav.then(|| {
            let (secs, out) = time_output(
                Command::new("lnav")
                    .arg("-n")
                    .arg("-c")
                    .arg(";SELECT count(*) FROM all_logs")
                    .arg(&file),
            );
            let records = out
                .split_whitespace()
                .rev()
                .find_map(|w| w.parse::<u64>().ok())
                .unwrap_or(0);
            (secs, records)
        });
        let lnav_secs = lnav_run.map(|(secs, _)| secs);
        let mbs = |secs: f64| bytes / 1e6 / secs;
        println!(
            "{family:<8} {:>7.0} {:>11.0} {:>10.0} {:>11.1} {:>11.0} {:>10} {:>10} {:>9.3} {:>9}",
            bytes / 1e6,
            lines,
            mbs(cat),
            mbs(ingest),
            lines / ingest,
            lnav_secs.map_or("-".into(), |s| format!("{:.1}", mbs(s))),
            lnav_run.map_or("-".into(), |(_, r)| format!(
                "{:.0}%",
                100.0 * r as f64 / lines
            )),
            cat / ingest,
            lnav_secs.map_or("-".into(), |s| format!("{:.2}", s / ingest)),
        );
        json.insert(format!("{family}_mb"), (bytes / 1e6).into());
        json.insert(format!("{family}_cat_mb_s"), mbs(cat).into());
        json.insert(format!("{family}_trawl_mb_s"), mbs(ingest).into());
        json.insert(format!("{family}_trawl_lines_s"), (lines / ingest).into());
        if let Some((s, records)) = lnav_run {
            json.insert(format!("{family}_lnav_mb_s"), mbs(s).into());
            json.insert(format!("{family}_lnav_records"), records.into());
            json.insert(format!("{family}_trawl_vs_lnav"), (s / ingest).into());
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("{}", serde_json::Value::Object(json));
}
