//! The writer benchmark: `cargo bench -p trawl-bundle --bench writer` (prints a table, then
//! one line of JSON). Every writer figure stands next to a baseline measured in the same run
//! on the same disk: raw `write` + `fdatasync` of the same bytes.
//!
//! Environment: `TRAWL_BENCH_DIR` (default: the system temp dir), `TRAWL_BENCH_MB` (data per
//! throughput run, default 64), `TRAWL_BENCH_SECS` (duration of timed runs, default 3).

use std::{
    fs::OpenOptions,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use trawl_bundle::{block, format::Codec, Durability, Level, Options, Record, Writer};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Realistic records of about 200 encoded bytes: services, hosts, levels, ids, paths.
fn records(n: usize) -> Vec<Record> {
    let services = ["payment-api", "checkout", "auth", "inventory", "gateway"];
    let paths = [
        "/api/v1/orders",
        "/api/v1/cart",
        "/healthz",
        "/api/v2/users",
        "/login",
    ];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let level = [Level::Info, Level::Info, Level::Info, Level::Debug, Level::Warn, Level::Error][(x % 6) as usize];
            Record {
                ts_nanos: Some(1_763_700_000_000_000_000 + i as i64 * 1_000_000),
                level: Some(level),
                message: format!(
                    "{} {}/{} status={} duration_ms={} user={:x} request_id={:08x}-{:04x} client=10.{}.{}.{}",
                    ["GET", "POST", "PUT"][(x % 3) as usize],
                    paths[(x >> 8) as usize % 5],
                    x % 100_000,
                    [200, 200, 201, 404, 500][(x >> 16) as usize % 5],
                    x % 900,
                    x >> 40,
                    x >> 8 & 0xffff_ffff,
                    x >> 3 & 0xffff,
                    x % 256,
                    (x >> 8) % 256,
                    (x >> 16) % 256
                ),
                service: Some(services[(x >> 24) as usize % 5].to_owned()),
                host: Some(format!("pod-{}", x % 12)),
                trace_id: Some(format!("{:016x}{:016x}", x, x.rotate_left(17))),
                ..Record::default()
            }
        })
        .collect()
}

struct Row {
    name: String,
    records_per_s: f64,
    mb_per_s: f64,
    baseline: &'static str,
    ratio: f64,
}

fn bench_dir() -> PathBuf {
    let base = std::env::var_os("TRAWL_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("trawl-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Raw baseline: `chunk`-byte writes of `bytes`, each followed by fdatasync. Returns (bytes/s,
/// syncs/s).
fn raw(dir: &Path, bytes: &[u8], chunk: usize, limit: Duration) -> (f64, f64) {
    let path = dir.join("raw.bin");
    let _ = std::fs::remove_file(&path);
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap();
    let start = Instant::now();
    let mut written = 0;
    let mut syncs = 0u64;
    for piece in bytes.chunks(chunk) {
        file.write_all(piece).unwrap();
        file.sync_data().unwrap();
        written += piece.len();
        syncs += 1;
        if start.elapsed() > limit {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path).unwrap();
    (written as f64 / secs, syncs as f64 / secs)
}

/// Appends `records` with `options` from `threads` threads for at most `limit`; returns
/// (records/s, record bytes/s) counting only durable records.
fn writer_run(
    dir: &Path,
    records: &Arc<Vec<Record>>,
    options: Options,
    threads: usize,
    limit: Duration,
) -> (f64, f64) {
    let _ = std::fs::remove_dir_all(dir);
    let one_by_one = options.durability == Durability::EveryRecord;
    let (writer, _) = Writer::open(dir, options).unwrap();
    let writer = Arc::new(writer);
    let record_bytes =
        records.iter().map(|r| r.to_bytes().len()).sum::<usize>() as f64 / records.len() as f64;
    let start = Instant::now();
    let per_thread = records.len() / threads;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let writer = writer.clone();
            let records = records.clone();
            std::thread::spawn(move || {
                let mine = &records[t * per_thread..(t + 1) * per_thread];
                for chunk in mine.chunks(256) {
                    if start.elapsed() > limit {
                        break;
                    }
                    if one_by_one {
                        for r in chunk {
                            writer.append(r).unwrap();
                        }
                    } else {
                        writer.append_all(chunk).unwrap();
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let durable = writer.sync().unwrap();
    let secs = start.elapsed().as_secs_f64();
    Arc::into_inner(writer).unwrap().close().unwrap();
    (durable as f64 / secs, durable as f64 * record_bytes / secs)
}

/// Open-loop latency at `rate` records/s with every-record durability: `threads` appenders
/// follow a fixed schedule; latency runs from the scheduled time to the acknowledgement, so a
/// stall counts fully (no coordinated omission).
fn latency(
    dir: &Path,
    records: &Arc<Vec<Record>>,
    rate: f64,
    threads: usize,
    limit: Duration,
) -> (Vec<Duration>, f64) {
    let _ = std::fs::remove_dir_all(dir);
    let (writer, _) = Writer::open(dir, Options::default()).unwrap();
    let writer = Arc::new(writer);
    let start = Instant::now() + Duration::from_millis(50);
    let total = ((rate * limit.as_secs_f64()) as usize).min(records.len());
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let writer = writer.clone();
            let records = records.clone();
            std::thread::spawn(move || {
                let mut lat = Vec::new();
                for i in (t..total).step_by(threads) {
                    let due = start + Duration::from_secs_f64(i as f64 / rate);
                    let now = Instant::now();
                    if due > now {
                        std::thread::sleep(due - now);
                    }
                    writer.append(&records[i]).unwrap();
                    lat.push(due.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all: Vec<Duration> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    let achieved = all.len() as f64 / (Instant::now() - start).as_secs_f64();
    Arc::into_inner(writer).unwrap().close().unwrap();
    all.sort_unstable();
    (all, achieved)
}

/// Open-loop latency with pipelined acknowledgements: one thread appends at `rate` records/s
/// without waiting (a sync starts whenever anything is unsynced), a second receives each
/// acknowledgement with [`Writer::wait_durable`], in order.
fn latency_pipelined(
    dir: &Path,
    records: &Arc<Vec<Record>>,
    rate: f64,
    limit: Duration,
) -> (Vec<Duration>, f64) {
    let _ = std::fs::remove_dir_all(dir);
    let (writer, _) = Writer::open(dir, Options::with_durability(Durability::Bytes(1))).unwrap();
    let writer = Arc::new(writer);
    let total = ((rate * limit.as_secs_f64()) as usize).min(records.len());
    let start = Instant::now() + Duration::from_millis(50);
    let due = move |i: usize| start + Duration::from_secs_f64(i as f64 / rate);
    let acker = {
        let writer = writer.clone();
        std::thread::spawn(move || {
            let mut lat = Vec::with_capacity(total);
            for i in 0..total {
                writer.wait_durable(i as u64 + 1).unwrap();
                let now = Instant::now();
                // Records acknowledged together are timed from each one's due time.
                while lat.len() <= i {
                    lat.push(now.saturating_duration_since(due(lat.len())));
                }
            }
            lat
        })
    };
    for (i, record) in records[..total].iter().enumerate() {
        let now = Instant::now();
        if due(i) > now {
            spin_sleep(due(i) - now);
        }
        writer.append(record).unwrap();
    }
    let mut lat = acker.join().unwrap();
    let achieved = lat.len() as f64 / (Instant::now() - start).as_secs_f64();
    Arc::into_inner(writer).unwrap().close().unwrap();
    lat.sort_unstable();
    (lat, achieved)
}

/// Sleeps `d`, spinning for the last stretch: `thread::sleep` overshoots by tens of µs.
fn spin_sleep(d: Duration) {
    let until = Instant::now() + d;
    if d > Duration::from_micros(200) {
        std::thread::sleep(d - Duration::from_micros(100));
    }
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[i].as_secs_f64() * 1e6
}

fn sample_corpus() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples");
    let mut out = Vec::new();
    for sub in ["loghub", "synthetic"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        let mut paths: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        paths.sort();
        for p in paths {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out
}

fn main() {
    let secs = Duration::from_secs(env_u64("TRAWL_BENCH_SECS", 3));
    let mb = env_u64("TRAWL_BENCH_MB", 64) as usize;
    let dir = bench_dir();
    let records = Arc::new(records(mb * 1024 * 1024 / 200));
    let encoded: Vec<u8> = records.iter().flat_map(|r| r.to_bytes()).collect();
    let avg = encoded.len() as f64 / records.len() as f64;
    println!(
        "trawl-bundle writer benchmark: {} records of {avg:.0} bytes ({:.0} MiB) in {}",
        records.len(),
        encoded.len() as f64 / 1048576.0,
        dir.display()
    );

    let mut rows = Vec::new();
    let mut json = serde_json::Map::new();

    // Baselines.
    let (raw_batched, _) = raw(&dir, &encoded, 1 << 20, secs);
    let (_, raw_syncs) = raw(&dir, &encoded, avg as usize, secs);
    json.insert("raw_fdatasync_1mib_mb_s".into(), (raw_batched / 1e6).into());
    json.insert("raw_fdatasync_per_record_syncs_s".into(), raw_syncs.into());
    rows.push(Row {
        name: "raw write 1 MiB + fdatasync".into(),
        records_per_s: raw_batched / avg,
        mb_per_s: raw_batched / 1e6,
        baseline: "-",
        ratio: 1.0,
    });
    rows.push(Row {
        name: "raw write 1 record + fdatasync".into(),
        records_per_s: raw_syncs,
        mb_per_s: raw_syncs * avg / 1e6,
        baseline: "-",
        ratio: 1.0,
    });

    let wdir = dir.join("bundle");
    let policies: [(&str, Durability, usize); 5] = [
        ("every record, 1 thread", Durability::EveryRecord, 1),
        (
            "every record, 8 threads (group commit)",
            Durability::EveryRecord,
            8,
        ),
        (
            "every 10 ms",
            Durability::Interval(Duration::from_millis(10)),
            1,
        ),
        ("every 1 MiB", Durability::Bytes(1 << 20), 1),
        ("manual, sync at end", Durability::Manual, 1),
    ];
    for (name, durability, threads) in policies {
        let (rps, bps) = writer_run(
            &wdir,
            &records,
            Options::with_durability(durability),
            threads,
            secs,
        );
        let (baseline, ratio) = match durability {
            Durability::EveryRecord => ("raw per-record syncs/s", rps / raw_syncs),
            _ => ("raw 1 MiB fdatasync MB/s", bps / raw_batched),
        };
        let key = name.split(',').next().unwrap().replace(' ', "_");
        json.insert(format!("{key}_{threads}t_records_s"), rps.into());
        json.insert(format!("{key}_{threads}t_ratio"), ratio.into());
        rows.push(Row {
            name: name.into(),
            records_per_s: rps,
            mb_per_s: bps / 1e6,
            baseline,
            ratio,
        });
    }

    println!();
    println!(
        "{:<42} {:>12} {:>10}  {:<26} {:>7}",
        "durability", "records/s", "MB/s", "against", "ratio"
    );
    for r in &rows {
        println!(
            "{:<42} {:>12.0} {:>10.1}  {:<26} {:>7.2}",
            r.name, r.records_per_s, r.mb_per_s, r.baseline, r.ratio
        );
    }

    // Latency at a fixed offered load.
    let rate = env_u64("TRAWL_BENCH_RATE", 50_000) as f64;
    let (lat, achieved) = latency(&wdir, &records, rate, 64, secs);
    println!();
    println!(
        "append-to-acknowledgement latency, every-record durability, {rate:.0} records/s offered ({achieved:.0} achieved, 64 threads): p50 {:.0} µs, p99 {:.0} µs, p999 {:.0} µs",
        pct(&lat, 0.5), pct(&lat, 0.99), pct(&lat, 0.999)
    );
    json.insert("latency_offered_records_s".into(), rate.into());
    json.insert("latency_achieved_records_s".into(), achieved.into());
    json.insert("latency_p50_us".into(), pct(&lat, 0.5).into());
    json.insert("latency_p99_us".into(), pct(&lat, 0.99).into());
    json.insert("latency_p999_us".into(), pct(&lat, 0.999).into());
    let (lat, achieved) = latency_pipelined(&wdir, &records, rate, secs);
    println!(
        "append-to-acknowledgement latency, pipelined (sync whenever anything is unsynced), {rate:.0} records/s offered ({achieved:.0} achieved, 1 appender): p50 {:.0} µs, p99 {:.0} µs, p999 {:.0} µs",
        pct(&lat, 0.5), pct(&lat, 0.99), pct(&lat, 0.999)
    );
    json.insert(
        "pipelined_latency_achieved_records_s".into(),
        achieved.into(),
    );
    json.insert("pipelined_latency_p50_us".into(), pct(&lat, 0.5).into());
    json.insert("pipelined_latency_p99_us".into(), pct(&lat, 0.99).into());
    json.insert("pipelined_latency_p999_us".into(), pct(&lat, 0.999).into());

    // Rotation cost: the same data into 64 KiB segments and into one large segment.
    let rot_records = &records[..records.len().min(200_000)];
    let time = |max_segment_bytes: u64| {
        let _ = std::fs::remove_dir_all(&wdir);
        let options = Options {
            durability: Durability::Manual,
            max_segment_bytes,
            ..Options::default()
        };
        let (writer, _) = Writer::open(&wdir, options).unwrap();
        let start = Instant::now();
        for chunk in rot_records.chunks(256) {
            writer.append_all(chunk).unwrap();
        }
        let closed = writer.close().unwrap();
        (start.elapsed(), closed.manifest.segments.len())
    };
    let (big, _) = time(1 << 40);
    let (small, segments) = time(64 << 10);
    let per_rotation =
        (small.saturating_sub(big)).as_secs_f64() / (segments.max(2) - 1) as f64 * 1e3;
    println!("rotation: {segments} segments of 64 KiB cost {:.2} ms each (seal + fsync, create + fsync, rename, directory fsync, manifest)", per_rotation);
    json.insert("rotation_ms".into(), per_rotation.into());

    // Compression on the sample logs: ratio and speed per level, decoded with the pure-Rust
    // decoder the browser uses.
    let corpus = sample_corpus();
    if !corpus.is_empty() {
        println!();
        println!(
            "{:<28} {:>9} {:>8} {:>8} {:>8} {:>14}",
            "sample (256 KiB blocks)", "bytes", "zstd-1", "zstd-3", "zstd-6", "decode MB/s"
        );
        let mut totals = [0usize; 4];
        // The compressed blocks, for the wasm decode benchmark (scripts/bench-writer.sh).
        let mut blob: Vec<u8> = Vec::new();
        let mut decode_secs = 0.0;
        let mut decoded_bytes = 0usize;
        for (name, bytes) in &corpus {
            let mut builder = block::BlockBuilder::default();
            let mut blocks = Vec::new();
            for line in bytes.split(|&b| b == b'\n') {
                builder.push(&Record::message(String::from_utf8_lossy(line)));
                if builder.len() >= 256 << 10 {
                    blocks.push(std::mem::take(&mut builder));
                }
            }
            blocks.push(builder);
            let raw_blocks: Vec<Vec<u8>> = blocks
                .iter_mut()
                .map(|b| {
                    let (_, raw) = finish_raw(b);
                    raw
                })
                .collect();
            let raw_len: usize = raw_blocks.iter().map(Vec::len).sum();
            let sizes: Vec<usize> = [1, 3, 6]
                .iter()
                .map(|&level| {
                    raw_blocks
                        .iter()
                        .map(|b| zstd::bulk::compress(b, level).unwrap().len())
                        .sum()
                })
                .collect();
            let compressed: Vec<Vec<u8>> = raw_blocks
                .iter()
                .map(|b| zstd::bulk::compress(b, block::ZSTD_LEVEL).unwrap())
                .collect();
            for (c, r) in compressed.iter().zip(&raw_blocks) {
                blob.extend_from_slice(&(c.len() as u32).to_le_bytes());
                blob.extend_from_slice(&(r.len() as u32).to_le_bytes());
                blob.extend_from_slice(c);
            }
            let start = Instant::now();
            let mut n = 0;
            for _ in 0..5 {
                for c in &compressed {
                    n += block::decode_payload(Codec::Zstd, c).unwrap().len();
                }
            }
            let dt = start.elapsed().as_secs_f64();
            decode_secs += dt;
            decoded_bytes += n;
            println!(
                "{:<28} {:>9} {:>7.1}x {:>7.1}x {:>7.1}x {:>14.0}",
                name,
                raw_len,
                raw_len as f64 / sizes[0] as f64,
                raw_len as f64 / sizes[1] as f64,
                raw_len as f64 / sizes[2] as f64,
                n as f64 / dt / 1e6
            );
            totals[0] += raw_len;
            for i in 0..3 {
                totals[i + 1] += sizes[i];
            }
        }
        let ratio = |i: usize| totals[0] as f64 / totals[i] as f64;
        println!(
            "{:<28} {:>9} {:>7.1}x {:>7.1}x {:>7.1}x {:>14.0}",
            "all samples",
            totals[0],
            ratio(1),
            ratio(2),
            ratio(3),
            decoded_bytes as f64 / decode_secs / 1e6
        );
        json.insert("samples_zstd1_ratio".into(), ratio(1).into());
        json.insert("samples_zstd3_ratio".into(), ratio(2).into());
        json.insert("samples_zstd6_ratio".into(), ratio(3).into());
        json.insert(
            "samples_decode_native_mb_s".into(),
            (decoded_bytes as f64 / decode_secs / 1e6).into(),
        );
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/trawl-bench");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("sample-blocks.bin"), &blob).unwrap();
    }

    let _ = std::fs::remove_dir_all(&dir);
    println!();
    println!("{}", serde_json::Value::Object(json));
}

/// The uncompressed bytes of a block.
fn finish_raw(builder: &mut block::BlockBuilder) -> (usize, Vec<u8>) {
    let count = builder.count() as usize;
    let (codec, stored) = builder.finish();
    let raw = block::decode_payload(codec, &stored).unwrap();
    (count, raw)
}
