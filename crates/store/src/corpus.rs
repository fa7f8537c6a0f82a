//! A generator of realistic log corpora for benchmarks: services and hosts, a skewed level mix,
//! traces spanning a few services, message templates carrying ids, paths, IPs, durations and
//! numbers, structured fields, and time with bursts and silences. Deterministic for a seed and
//! the same on every target (its own small PRNG, no clock).

use trawl_bundle::format::{SegmentHeader, WriterId};
use trawl_bundle::{Level, Record};

/// splitmix64: small, fast, good enough to make logs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SERVICES: [&str; 12] = [
    "payment-api",
    "checkout",
    "gateway",
    "auth",
    "inventory",
    "search",
    "billing",
    "notification",
    "user-profile",
    "recommendation",
    "shipping",
    "ledger",
];

const PATHS: [&str; 8] = [
    "/api/v1/orders",
    "/api/v1/payments",
    "/api/v2/users",
    "/healthz",
    "/api/v1/cart",
    "/api/v1/search",
    "/internal/metrics",
    "/api/v1/invoices",
];

/// Generates records in time order.
#[derive(Debug, Clone)]
pub struct Corpus {
    rng: Rng,
    ts: i64,
    trace: Option<(String, u32)>,
    line: u64,
}

impl Corpus {
    /// A corpus starting at 2024-03-08T14:00:00Z.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Rng::new(seed),
            ts: 1_709_906_400_000_000_000,
            trace: None,
            line: 0,
        }
    }

    /// The next record.
    pub fn next_record(&mut self) -> Record {
        let rng = &mut self.rng;
        // Time: mostly ~2 ms apart, bursts of sub-millisecond records, rare silences of minutes.
        self.ts += match rng.below(1000) {
            0 => 60_000_000_000 + rng.below(600_000_000_000) as i64,
            1..=100 => rng.below(200_000) as i64,
            _ => rng.below(4_000_000) as i64,
        };
        self.line += 1;
        let level = match rng.below(1000) {
            0..=4 => Level::Fatal,
            5..=49 => Level::Error,
            50..=149 => Level::Warn,
            150..=299 => Level::Debug,
            300..=309 => Level::Trace,
            _ => Level::Info,
        };
        let service = *rng.pick(&SERVICES);
        let host = format!("{service}-{}", rng.below(3));
        let (trace_id, span_id) = {
            let remaining = self.trace.as_ref().map_or(0, |t| t.1);
            if remaining == 0 || rng.below(4) == 0 {
                let id = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
                self.trace = Some((id, 3 + rng.below(12) as u32));
            }
            let t = self.trace.as_mut().expect("set");
            t.1 -= 1;
            (t.0.clone(), format!("{:016x}", rng.next_u64()))
        };
        let path = *rng.pick(&PATHS);
        let id = rng.below(100_000);
        let ms = rng.below(5000);
        let ip = format!("10.{}.{}.{}", rng.below(4), rng.below(256), rng.below(256));
        let user = rng.below(5000);
        let message = match (level, rng.below(8)) {
            (Level::Error | Level::Fatal, 0..=3) => format!(
                "request failed: POST {path}/{id} from {ip}:{} returned 503 after {ms}ms: upstream connect error or disconnect/reset before headers",
                1024 + rng.below(60000)
            ),
            (Level::Error | Level::Fatal, _) => format!(
                "java.lang.NullPointerException: Cannot invoke \"com.example.{}.OrderService.getId()\" because order {id} is null",
                service.replace('-', "")
            ),
            (Level::Warn, _) => format!(
                "slow query on orders_{} took {ms}ms (threshold 500ms) user_id={user}",
                rng.below(16)
            ),
            (_, 0..=2) => format!("GET {path}/{id} 200 {ms}ms bytes={}", rng.below(90_000)),
            (_, 3) => format!("connection from {ip}:{} accepted by worker-{}", 1024 + rng.below(60000), rng.below(16)),
            (_, 4) => format!("cache miss for key user:{user}:profile, loading from db"),
            (_, 5) => format!(
                "published event OrderCreated id={:08x}-{:04x}-4{:03x}-a{:03x}-{:012x} to kafka topic orders.v{}",
                rng.next_u64() as u32, rng.below(0xffff), rng.below(0xfff), rng.below(0xfff),
                rng.next_u64() & 0xffff_ffff_ffff, 1 + rng.below(3)
            ),
            (_, 6) => format!("retrying payment {id} attempt {} of 5 after backoff {ms}ms", 1 + rng.below(5)),
            _ => format!("user {user} logged in via oauth2 provider=google session={:016x}", rng.next_u64()),
        };
        let fields = format!(
            r#"{{"user_id":{user},"http":{{"method":"{}","status":{}}},"region":"{}","version":"1.{}.{}"}}"#,
            ["GET", "POST", "PUT"][rng.below(3) as usize],
            [200, 200, 200, 201, 404, 500, 503][rng.below(7) as usize],
            ["eu-west-1", "us-east-1", "ap-south-1"][rng.below(3) as usize],
            rng.below(20),
            rng.below(10)
        );
        Record {
            ts_nanos: Some(self.ts),
            level: Some(level),
            level_text: Some(level.as_str().to_uppercase()),
            service: Some(service.to_owned()),
            host: Some(host),
            trace_id: Some(trace_id),
            span_id: Some(span_id),
            fields: Some(fields),
            source: Some(format!("{service}.log")),
            line: Some(self.line),
            ..Record::message(message)
        }
    }
}

impl Iterator for Corpus {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        Some(self.next_record())
    }
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
    trawl_bundle::memory::segment_bytes(&header, records, per_frame)
}

/// Imports `bytes`, the `index`th segment of a corpus, into `store` as the file `seg-{index}`
/// of the bundle `bench`, with the default options: how the benchmarks import.
pub fn import_segment(
    store: &mut crate::Store,
    index: usize,
    bytes: &[u8],
) -> crate::Result<crate::SegmentReport> {
    store.import_segment(
        "bench",
        &format!("seg-{index}"),
        bytes,
        crate::ImportOptions::default(),
        &mut |_| crate::Flow::Continue,
    )
}

/// What the store's full-text index holds for one record: the message, the values of its
/// fields, and its trace id.
pub type IndexedText = (String, Option<String>, Option<String>);

/// The text the import indexes for each of `records`.
pub fn indexed_text(records: impl IntoIterator<Item = Record>) -> Vec<IndexedText> {
    records
        .into_iter()
        .map(|r| {
            let values = r.fields.as_deref().map(|json| {
                let mut values = String::new();
                crate::fields_text::values(json, &mut values);
                values
            });
            (r.message, values, r.trace_id)
        })
        .collect()
}

/// A bare FTS5 table in memory with the settings of the store's full-text index
/// (contentless, no column sizes, full detail, 16 MiB of pending terms, automerge 16, the
/// store's page size and cache) and no other table: the floor under an import, what the
/// full-text index alone costs. No records table, rollups or keys: rowids count 1, 2, 3 …
/// (the store's time keys, millions apart, made this floor 4-14% slower in three runs). The
/// benchmarks quote the import as a ratio of it, measured in the same run on the same target.
pub struct BareFts {
    conn: rusqlite::Connection,
    next_rowid: i64,
}

impl BareFts {
    /// An empty table whose columns are tokenized by `tokenizer`: `trawl` or an FTS5 built-in
    /// such as `unicode61`. The page size and cache are the store's.
    pub fn new(tokenizer: &str) -> rusqlite::Result<Self> {
        let conn = rusqlite::Connection::open_in_memory()?;
        crate::fts5::register_tokenizer(&conn)?;
        let (page_size, cache_kib) = (crate::schema::PAGE_SIZE, crate::CACHE_KIB);
        conn.execute_batch(&format!(
            "PRAGMA page_size = {page_size};
             PRAGMA cache_size = -{cache_kib};
             CREATE VIRTUAL TABLE t USING fts5(message, fields, trace, content = '',
                 columnsize = 0, tokenize = '{tokenizer}', detail = full);
             INSERT INTO t(t, rank) VALUES ('hashsize', 16777216);
             INSERT INTO t(t, rank) VALUES ('automerge', 16);"
        ))?;
        Ok(Self {
            conn,
            next_rowid: 1,
        })
    }

    /// Indexes `rows` after the ones inserted before, in transactions of the import's batch
    /// size ([`crate::ImportOptions`]'s default).
    pub fn insert(&mut self, rows: &[IndexedText]) -> rusqlite::Result<()> {
        let batch = crate::ImportOptions::default().batch_records;
        for chunk in rows.chunks(batch) {
            let tx = self.conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO t(rowid, message, fields, trace) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (message, fields, trace) in chunk {
                    insert.execute(rusqlite::params![self.next_rowid, message, fields, trace])?;
                    self.next_rowid += 1;
                }
            }
            tx.commit()?;
        }
        Ok(())
    }
}

/// The benchmark's fixed query mix over a corpus store: `(kind, 30 queries of that kind)`.
/// Trace ids are sampled from `store` itself.
pub fn query_mix(store: &crate::Store) -> Vec<(&'static str, Vec<String>)> {
    use crate::{Cursor, Order, Query};
    let mut rng = Rng::new(9);
    let traces: Vec<String> = (0..20)
        .filter_map(|_| {
            let query = Query::parse(&format!("since:-{}m", 1 + rng.below(600))).ok()?;
            let page = store
                .page(&query, Order::OldestFirst, Cursor::Start, 1)
                .ok()?;
            page.rows.first()?.trace_id.clone()
        })
        .collect();
    let pick = |items: &[&str]| -> Vec<String> {
        (0..30).map(|i| items[i % items.len()].to_owned()).collect()
    };
    let mut mix = vec![
        (
            "word",
            pick(&["upstream", "disconnect", "kafka", "oauth2", "backoff"]),
        ),
        (
            "phrase",
            pick(&["\"slow query\"", "\"cache miss\"", "\"request failed\""]),
        ),
        (
            "prefix",
            pick(&["NullPointer*", "OrderServ*", "recommend*"]),
        ),
        (
            "field",
            pick(&[
                "service:payment-api level:>=warn",
                "service:gateway level:>=warn",
                "host:ledger-1 level:error",
            ]),
        ),
        (
            "regex",
            (0..30)
                .map(|i| format!("\"slow query\" /took {}\\d\\d\\dms/", 1 + i % 4))
                .collect(),
        ),
        (
            "word_and_field",
            pick(&[
                "upstream level:fatal service:payment-api",
                "upstream level:fatal service:gateway",
                "kafka level:debug host:auth-2",
            ]),
        ),
    ];
    if !traces.is_empty() {
        mix.push((
            "trace_id",
            (0..30)
                .map(|i| format!("trace_id:{}", traces[i % traces.len()]))
                .collect(),
        ));
    }
    mix
}

/// The 50th and 95th percentiles of `samples` (nearest rank).
pub fn p50_p95(mut samples: Vec<f64>) -> (f64, f64) {
    if samples.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    samples.sort_by(f64::total_cmp);
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    (at(0.5), at(0.95))
}
