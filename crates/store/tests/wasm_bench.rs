//! The browser half of the store benchmark: the same corpus imported and queried by the same
//! code in a dedicated worker in headless Chromium, in memory and on OPFS (the SAH-pool VFS
//! the viewer uses), next to two baselines measured in the same worker: the full-text index
//! alone ([`BareFts`]) and reading the segments alone. Built only by `scripts/bench-store.sh`
//! (`--cfg trawl_wasm_bench`); it prints figures (one `TRAWL_BENCH_JSON` line for the script)
//! and asserts nothing about speed.
#![cfg(all(target_arch = "wasm32", trawl_wasm_bench))]

use serde_json::{json, Map, Value};
use sqlite_wasm_rs::WasmOsCallback;
use sqlite_wasm_vfs::sahpool::{install, OpfsSAHPoolCfgBuilder};
use trawl_bundle::{Item, SegmentReader};
use trawl_store::corpus::{
    import_segment, indexed_text, p50_p95, query_mix, segment, BareFts, Corpus,
};
use trawl_store::{Cursor, Order, Query, Store};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Records per generated segment: generation happens between imports, outside the timing.
const CHUNK: usize = 100_000;

fn now_ms() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .expect("performance")
        .now()
}

/// `n` corpus records as segments of [`CHUNK`] records, each made when it is asked for.
fn corpus_segments(n: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut corpus = Corpus::new(42);
    (0..n.div_ceil(CHUNK)).map(move |i| {
        let first = i * CHUNK;
        let records: Vec<_> = (&mut corpus).take(CHUNK.min(n - first)).collect();
        segment(7, i as u64, first as u64, &records, 512)
    })
}

/// Imports `n` corpus records; returns the seconds spent importing.
fn import(store: &mut Store, n: usize) -> f64 {
    let mut secs = 0.0;
    for (i, bytes) in corpus_segments(n).enumerate() {
        secs += time_ms(|| {
            import_segment(store, i, &bytes).expect("import");
        }) / 1e3;
    }
    secs
}

/// Reads the segments of `n` corpus records (frame checks, zstd, record decoding) and nothing
/// else; returns the seconds spent. Natively an import does this on a second thread; the
/// browser's store worker has one thread, so this is part of its import time.
fn decode_only(n: usize) -> f64 {
    let mut secs = 0.0;
    for bytes in corpus_segments(n) {
        secs += time_ms(|| {
            let mut reader = SegmentReader::open(&bytes[..], "bench").expect("segment");
            while let Some(item) = reader.next() {
                if let Item::Records { records, .. } = item.expect("frame") {
                    std::hint::black_box(records);
                }
            }
        }) / 1e3;
    }
    secs
}

/// Indexes the full-text columns of `n` corpus records into a [`BareFts`] table with trawl's
/// tokenizer: the floor under the import, in this run; returns the seconds spent indexing.
fn fts_floor(n: usize) -> f64 {
    let mut corpus = Corpus::new(42);
    let mut table = BareFts::new("trawl").expect("fts table");
    let mut secs = 0.0;
    let mut left = n;
    while left > 0 {
        let take = CHUNK.min(left);
        let rows = indexed_text((&mut corpus).take(take));
        left -= take;
        secs += time_ms(|| table.insert(&rows).expect("insert")) / 1e3;
    }
    secs
}

fn time_ms(f: impl FnOnce()) -> f64 {
    let t = now_ms();
    f();
    now_ms() - t
}

#[wasm_bindgen_test]
async fn store_benchmark_in_the_browser() {
    let sizes: Vec<usize> = option_env!("TRAWL_BENCH_BROWSER_SIZES")
        .unwrap_or("100000,1000000")
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .expect("TRAWL_BENCH_BROWSER_SIZES: numbers")
        })
        .collect();
    let config = OpfsSAHPoolCfgBuilder::new()
        .vfs_name("trawl-bench")
        .directory("trawl-bench")
        .clear_on_init(true)
        .initial_capacity(6)
        .build();
    install::<WasmOsCallback>(&config, false)
        .await
        .expect("OPFS pool");
    let mut out = Map::new();
    let largest = sizes.iter().copied().max().unwrap_or(0);
    for &n in &sizes {
        let floor = n as f64 / fts_floor(n);
        console_log!("browser fts-only {n}: {floor:.0} records/s (bare FTS5 table, trawl)");
        out.insert(
            format!("browser_fts_only_trawl_{n}_records_per_s"),
            json!(floor),
        );
        let decode = n as f64 / decode_only(n);
        console_log!("browser decode-only {n}: {decode:.0} records/s (reading the segments)");
        out.insert(
            format!("browser_decode_only_{n}_records_per_s"),
            json!(decode),
        );

        let mut memory = Store::open_in_memory().unwrap();
        let rate = n as f64 / import(&mut memory, n);
        console_log!(
            "browser import memory {n}: {rate:.0} records/s ({:.2}x the fts-only floor)",
            rate / floor
        );
        out.insert(
            format!("browser_import_memory_{n}_records_per_s"),
            json!(rate),
        );
        drop(memory);

        let mut opfs = Store::open_with_vfs(&format!("/bench-{n}.db"), "trawl-bench").unwrap();
        let rate = n as f64 / import(&mut opfs, n);
        console_log!(
            "browser import opfs {n}: {rate:.0} records/s ({:.2}x the fts-only floor)",
            rate / floor
        );
        out.insert(
            format!("browser_import_opfs_{n}_records_per_s"),
            json!(rate),
        );
        let optimize = time_ms(|| opfs.optimize().unwrap());
        out.insert(format!("browser_optimize_s_{n}"), json!(optimize / 1e3));
        if n != largest {
            continue;
        }
        for (kind, texts) in query_mix(&opfs) {
            let queries: Vec<Query> = texts.iter().map(|t| Query::parse(t).unwrap()).collect();
            let samples = queries
                .iter()
                .map(|q| {
                    time_ms(|| {
                        opfs.page(q, Order::NewestFirst, Cursor::Start, 100)
                            .unwrap();
                    })
                })
                .collect();
            let (p50, p95) = p50_p95(samples);
            console_log!("browser {n} first page {kind}: p50 {p50:.2} ms, p95 {p95:.2} ms");
            out.insert(format!("browser_first_page_{kind}_{n}_p50_ms"), json!(p50));
            out.insert(format!("browser_first_page_{kind}_{n}_p95_ms"), json!(p95));
        }
        for (name, text) in [
            ("all", ""),
            ("errors", "level:>=error"),
            ("word", "upstream"),
        ] {
            let query = Query::parse(text).unwrap();
            let samples = (0..5)
                .map(|_| {
                    time_ms(|| {
                        opfs.overview(&query, 100, 10).unwrap();
                    })
                })
                .collect();
            let (p50, p95) = p50_p95(samples);
            console_log!("browser {n} overview {name}: p50 {p50:.2} ms, p95 {p95:.2} ms");
            out.insert(format!("browser_overview_{name}_{n}_p95_ms"), json!(p95));
        }
    }
    console_log!("TRAWL_BENCH_JSON {}", Value::Object(out));
}
