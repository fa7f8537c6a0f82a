//! The store benchmark: import throughput, bundle export throughput, tokenizer throughput and
//! query latency over a generated corpus (see `trawl_store::corpus`). Prints a table, then one JSON object.
//!
//! `TRAWL_BENCH_SIZES` (default `100000,1000000,10000000`) sets the store sizes. The browser
//! half runs in headless Chromium (scripts/bench-store.sh) and is merged by the script.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::main();
}

/// The allocator of the `trawl` binary, whose `trawl query` is the native import measured
/// here. Under callgrind, a 200k-record import took 5.5% fewer instructions than with glibc's
/// malloc: a batch frees its 20,000 decoded records at once, more than glibc's per-thread
/// caches hold, and glibc then consolidates its bins.
#[cfg(not(target_arch = "wasm32"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The benchmark runs natively; the browser figures come from the wasm tests (see above).
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Instant;

    use serde_json::{json, Map, Value};
    use trawl_store::corpus::{
        import_segment, indexed_text, p50_p95, query_mix, segment, BareFts, Corpus, Rng,
    };
    use trawl_store::tokenizer::{self, Mode};
    use trawl_store::{Cursor, Flow, ImportOptions, Order, Query, Store};

    const SEGMENT_RECORDS: usize = 1_000_000;

    pub fn main() {
        let sizes: Vec<usize> = std::env::var("TRAWL_BENCH_SIZES")
            .unwrap_or_else(|_| "100000,1000000,10000000".into())
            .split(',')
            .map(|s| s.trim().parse().expect("TRAWL_BENCH_SIZES: numbers"))
            .collect();
        let mut out = Map::new();
        tokenizer_figures(&mut out);
        samples_import(&mut out);
        let dir = tempfile::tempdir().expect("tempdir");
        println!(
            "\n{:>10} {:>8} {:>12} {:>10} {:>10}",
            "records", "store", "records/s", "seconds", "MB"
        );
        println!("(stepback: into memory, the times of one record in ten stepping back 1-5 ms)");
        for &n in &sizes {
            let segments = corpus_segments(n, Times::InOrder);
            if n <= 1_000_000 {
                let mut store = Store::open_in_memory().expect("memory store");
                let secs = import(&mut store, &segments);
                report_import(&mut out, n, "memory", secs, None);
                fts_floor(&mut out, n, secs);
                export_figures(&mut out, &store, n, &segments, secs);
                added_import(&mut out, &mut store, n, secs);
                delete_figures(&mut out, &mut store, n);
                let stepping = corpus_segments(n, Times::SteppingBack);
                let mut store = Store::open_in_memory().expect("memory store");
                let secs = import(&mut store, &stepping);
                report_import(&mut out, n, "stepback", secs, None);
            }
            let path = dir.path().join(format!("bench-{n}.db"));
            let mut store = Store::open(&path).expect("file store");
            let secs = import(&mut store, &segments);
            let t = Instant::now();
            store.optimize().expect("optimize");
            let optimize = t.elapsed().as_secs_f64();
            let mb = std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).ok();
            report_import(&mut out, n, "file", secs, mb);
            out.insert(format!("optimize_s_{n}"), json!(optimize));
            if n <= 1_000_000 {
                bulk_figures(&mut out, n, dir.path(), &segments);
            }
            drop(segments);
            let stats = store.stats().expect("stats");
            println!(
                "{n:>10} rollup rows {}, {} bytes/record",
                stats.rollup_rows,
                stats.bytes / n as u64
            );
            out.insert(format!("rollup_rows_{n}"), json!(stats.rollup_rows));
            query_figures(&mut out, &store, n);
        }
        println!("\n{}", Value::Object(out));
    }

    /// The order of the corpus' times.
    #[derive(Clone, Copy)]
    enum Times {
        InOrder,
        /// One record in ten 1–5 ms earlier than the one before it, as logs of concurrent
        /// writers come.
        SteppingBack,
    }

    /// The corpus of `n` records as segments of up to a million records each.
    fn corpus_segments(n: usize, times: Times) -> Vec<Vec<u8>> {
        let mut corpus = Corpus::new(42);
        let mut segments = Vec::new();
        let mut left = n;
        let mut seq = 0;
        let mut steps = Rng::new(7);
        while left > 0 {
            let take = left.min(SEGMENT_RECORDS);
            let mut records: Vec<_> = (&mut corpus).take(take).collect();
            if let Times::SteppingBack = times {
                for record in &mut records {
                    if steps.below(10) == 0 {
                        let back = (1 + steps.below(5) as i64) * 1_000_000;
                        record.ts_nanos = record.ts_nanos.map(|t| t - back);
                    }
                }
            }
            segments.push(segment(7, segments.len() as u64, seq, &records, 512));
            seq += take as u64;
            left -= take;
        }
        segments
    }

    fn import(store: &mut Store, segments: &[Vec<u8>]) -> f64 {
        let t = Instant::now();
        for (i, bytes) in segments.iter().enumerate() {
            import_segment(store, i, bytes).expect("import");
        }
        t.elapsed().as_secs_f64()
    }

    /// The bundle export (what the viewer's library saves as a `.tar`): records/s against
    /// the import of the same bundle, and its size against the segments it was imported from.
    fn export_figures(
        out: &mut Map<String, Value>,
        store: &Store,
        n: usize,
        segments: &[Vec<u8>],
        import_secs: f64,
    ) {
        let t = Instant::now();
        let mut bytes = 0u64;
        store
            .export_bundle::<trawl_store::StoreError>("bench", |file| {
                bytes += file.bytes.len() as u64;
                Ok(())
            })
            .expect("export");
        let secs = t.elapsed().as_secs_f64();
        let original: usize = segments.iter().map(Vec::len).sum();
        println!(
            "{n:>10} export {:>12.0} records/s ({:.1}x the import), {:.1} MB ({:.2}x the imported segments)",
            n as f64 / secs,
            import_secs / secs,
            bytes as f64 / 1e6,
            bytes as f64 / original as f64
        );
        out.insert(format!("export_{n}_records_per_s"), json!(n as f64 / secs));
        out.insert(format!("export_{n}_vs_import"), json!(import_secs / secs));
        out.insert(
            format!("export_{n}_size_vs_segments"),
            json!(bytes as f64 / original as f64),
        );
    }

    /// Import of real logs: the loghub samples (~130-byte lines) parsed as `trawl ingest`
    /// parses them, repeated to 480k records.
    fn samples_import(out: &mut Map<String, Value>) {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/loghub");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("(no ../shared/samples beside the checkout: real-log import skipped)");
            return;
        };
        let mut records = Vec::new();
        let mut paths: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "log"))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read(&path).unwrap();
            let lines: Vec<&[u8]> = text
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let time = trawl_parse::TimeContext {
                year: 2024,
                ..Default::default()
            };
            let format = trawl_parse::sniff::sniff(lines.iter().take(50).copied(), &time);
            let options = trawl_parse::Options {
                time,
                source: path.display().to_string(),
                ..Default::default()
            };
            let mut parser = trawl_parse::Parser::new(format, options);
            for (i, line) in lines.iter().enumerate() {
                parser.line(line, i as u64 + 1, &mut records);
            }
            parser.finish(&mut records);
        }
        let bytes: usize = records
            .iter()
            .map(|r| r.raw.as_ref().map_or(r.message.len(), Vec::len))
            .sum();
        let copies = 30;
        let n = records.len() * copies;
        // Disjoint: each copy seven years after the one before. Overlapping: all at the same
        // times, interleaving in the time-ordered table (many bundles of one incident).
        const SEVEN_YEARS: i64 = 7 * 365 * 86_400 * 1_000_000_000;
        for (kind, shift) in [("disjoint", SEVEN_YEARS), ("overlapping", 0)] {
            let segments: Vec<Vec<u8>> = (0..copies)
                .map(|i| {
                    let shifted: Vec<_> = records
                        .iter()
                        .map(|r| trawl_bundle::Record {
                            ts_nanos: r.ts_nanos.map(|t| t + i as i64 * shift),
                            ..r.clone()
                        })
                        .collect();
                    segment(100 + i as u128, 0, 0, &shifted, 512)
                })
                .collect();
            let mut store = Store::open_in_memory().expect("memory store");
            let secs = import(&mut store, &segments);
            println!(
                "real logs (loghub, {:.0} bytes a line, {copies} {kind} copies): {n} records in memory at {:.0} records/s, {:.1} MB/s",
                bytes as f64 / records.len() as f64,
                n as f64 / secs,
                (bytes * copies) as f64 / secs / 1e6
            );
            out.insert(
                format!("import_loghub_{kind}_memory_records_per_s"),
                json!(n as f64 / secs),
            );
        }
    }

    /// An import into the store that holds the first `n` records: a tenth as many records
    /// more, from another bundle over the same hours (a second service's log of the same
    /// incident), against the first import's rate.
    fn added_import(out: &mut Map<String, Value>, store: &mut Store, n: usize, first_secs: f64) {
        let added = n / 10;
        let records: Vec<_> = Corpus::new(43).take(added).collect();
        let bytes = segment(8, 0, 0, &records, 512);
        let t = Instant::now();
        store
            .import_segment(
                "added",
                "seg-0",
                &bytes[..],
                ImportOptions::default(),
                &mut |_| Flow::Continue,
            )
            .expect("import");
        let rate = added as f64 / t.elapsed().as_secs_f64();
        println!(
            "{n:>10}  +{added} records of the same hours: {rate:.0} records/s ({:.2}x the first import)",
            rate * first_secs / n as f64
        );
        out.insert(format!("import_added_{n}_records_per_s"), json!(rate));
    }

    /// Deleting bundles from the store [`added_import`] left with two: the added one (a tenth
    /// of the records) while the other stays, each record taken out of the full-text index on
    /// its own, then the last one, whose index is emptied at once and whose store is rebuilt
    /// empty. Records/s of each, and the second against the first.
    fn delete_figures(out: &mut Map<String, Value>, store: &mut Store, n: usize) {
        let mut rate = |bundle: &str| {
            let t = Instant::now();
            let removed = store.delete_bundle(bundle).expect("delete");
            removed as f64 / t.elapsed().as_secs_f64()
        };
        let one_of_two = rate("added");
        let last = rate("bench");
        let bytes = store.stats().expect("stats").bytes;
        println!(
            "{n:>10}   delete: one of two bundles {one_of_two:.0} records/s; the last \
             {last:.0} records/s ({:.0}x), {bytes} bytes left",
            last / one_of_two
        );
        out.insert(
            format!("delete_one_of_two_{n}_records_per_s"),
            json!(one_of_two),
        );
        out.insert(format!("delete_last_{n}_records_per_s"), json!(last));
        out.insert(format!("delete_store_bytes_after_{n}"), json!(bytes));
    }

    /// A bulk load into a file, as `trawl query` indexes a bundle: the full-text index's merges
    /// held back during the import and done once by the optimize after it, against an
    /// ordinary import and optimize of the same segments. Three pairs, interleaved and in
    /// alternating order, because single runs here swing by 15%; the medians are reported.
    fn bulk_figures(
        out: &mut Map<String, Value>,
        n: usize,
        dir: &std::path::Path,
        segments: &[Vec<u8>],
    ) {
        let (mut ordinary, mut bulk, mut bulk_import) = (Vec::new(), Vec::new(), Vec::new());
        for pair in 0..3 {
            for held_back in [pair % 2 == 1, pair % 2 == 0] {
                let path = dir.join(format!("index-{n}-{pair}-{held_back}.db"));
                let mut store = Store::open(&path).expect("file store");
                let t = Instant::now();
                if held_back {
                    let secs = store
                        .bulk_load(|store| {
                            Ok::<_, trawl_store::StoreError>(import(store, segments))
                        })
                        .expect("bulk load");
                    bulk_import.push(secs);
                    bulk.push(t.elapsed().as_secs_f64());
                } else {
                    import(&mut store, segments);
                    store.optimize().expect("optimize");
                    ordinary.push(t.elapsed().as_secs_f64());
                }
                drop(store);
                std::fs::remove_file(&path).expect("remove the store");
            }
        }
        let ratios: Vec<String> = ordinary
            .iter()
            .zip(&bulk)
            .map(|(o, b)| format!("{:.2}x", o / b))
            .collect();
        let median = |v: Vec<f64>| p50_p95(v).0;
        let (ordinary, bulk, bulk_import) = (median(ordinary), median(bulk), median(bulk_import));
        report_import(out, n, "bulk", bulk_import, None);
        println!(
            "{n:>10}     bulk: import + optimize {bulk:.2} s, {:.0} records/s; with merges during the import {ordinary:.2} s: {:.2}x (pairs {})",
            n as f64 / bulk,
            ordinary / bulk,
            ratios.join(", ")
        );
        out.insert(
            format!("index_bulk_{n}_records_per_s"),
            json!(n as f64 / bulk),
        );
        out.insert(
            format!("index_ordinary_{n}_records_per_s"),
            json!(n as f64 / ordinary),
        );
        out.insert(format!("bulk_vs_ordinary_{n}"), json!(ordinary / bulk));
    }

    fn report_import(
        out: &mut Map<String, Value>,
        n: usize,
        kind: &str,
        secs: f64,
        mb: Option<f64>,
    ) {
        let rate = n as f64 / secs;
        println!(
            "{n:>10} {kind:>8} {rate:>12.0} {secs:>10.2} {:>10}",
            mb.map_or("-".into(), |m| format!("{m:.0}"))
        );
        out.insert(format!("import_{kind}_{n}_records_per_s"), json!(rate));
        if let Some(mb) = mb {
            out.insert(format!("store_mb_{n}"), json!(mb));
        }
    }

    /// The floor under any import of this corpus, in the same run: only its full-text
    /// columns into a [`BareFts`] table. Once with SQLite's unicode61 tokenizer, once with
    /// trawl's.
    fn fts_floor(out: &mut Map<String, Value>, n: usize, import_secs: f64) {
        let rows = indexed_text(Corpus::new(42).take(n));
        for tokenizer in ["unicode61", "trawl"] {
            let mut table = BareFts::new(tokenizer).expect("fts table");
            let t = Instant::now();
            table.insert(&rows).expect("insert");
            let rate = n as f64 / t.elapsed().as_secs_f64();
            let ratio = n as f64 / import_secs / rate;
            println!(
                "{n:>10} {:>8} {rate:>12.0} (bare FTS5 table, {tokenizer}; the memory import is {ratio:.2}x this)",
                "fts-only"
            );
            out.insert(
                format!("fts_only_{tokenizer}_{n}_records_per_s"),
                json!(rate),
            );
        }
    }

    fn tokenizer_figures(out: &mut Map<String, Value>) {
        let texts: Vec<String> = Corpus::new(1)
            .take(200_000)
            .map(|r| format!("{} {}", r.message, r.fields.unwrap_or_default()))
            .collect();
        let bytes: usize = texts.iter().map(String::len).sum();
        let mb = bytes as f64 / 1e6;
        let time = |f: &dyn Fn(&str) -> usize| {
            let t = Instant::now();
            let tokens: usize = texts.iter().map(|s| f(s)).sum();
            (t.elapsed().as_secs_f64(), tokens)
        };
        let (trawl_s, trawl_tokens) = time(&|s| {
            let mut n = 0;
            let _ = tokenizer::tokenize::<()>(s, Mode::Document, Default::default(), |_| {
                n += 1;
                Ok(())
            });
            n
        });
        // Baseline in the same run: splitting at whitespace and lower-casing each word.
        let (ws_s, ws_tokens) = time(&|s| {
            s.split_whitespace()
                .map(str::to_lowercase)
                .filter(|w| !w.is_empty())
                .count()
        });
        println!(
            "tokenizer: {:.0} MB/s ({trawl_tokens} tokens); whitespace split + lowercase: {:.0} MB/s ({ws_tokens} tokens); ratio {:.2}",
            mb / trawl_s,
            mb / ws_s,
            ws_s / trawl_s
        );
        out.insert("tokenizer_mb_per_s".into(), json!(mb / trawl_s));
        out.insert("whitespace_split_mb_per_s".into(), json!(mb / ws_s));
        out.insert(
            "tokens_per_record".into(),
            json!(trawl_tokens as f64 / texts.len() as f64),
        );
    }

    /// p50 and p95 of `f` over `reps` runs, in milliseconds.
    fn percentiles(reps: usize, mut f: impl FnMut(usize)) -> (f64, f64) {
        p50_p95(
            (0..reps)
                .map(|i| {
                    let t = Instant::now();
                    f(i);
                    t.elapsed().as_secs_f64() * 1e3
                })
                .collect(),
        )
    }

    fn query_figures(out: &mut Map<String, Value>, store: &Store, n: usize) {
        let mix = query_mix(store);
        println!(
            "\n{:>10} {:<15} {:>10} {:>10} {:>10}",
            "records", "query", "p50 ms", "p95 ms", "results"
        );
        for (name, texts) in &mix {
            let queries: Vec<Query> = texts.iter().map(|t| Query::parse(t).unwrap()).collect();
            let mut results = 0;
            let (p50, p95) = percentiles(queries.len(), |i| {
                let page = store
                    .page(&queries[i], Order::NewestFirst, Cursor::Start, 100)
                    .unwrap();
                results = results.max(page.rows.len());
            });
            let total = store.count(&queries[0]).unwrap();
            println!("{n:>10} {name:<15} {p50:>10.2} {p95:>10.2} {total:>10}");
            out.insert(format!("first_page_{name}_{n}_p50_ms"), json!(p50));
            out.insert(format!("first_page_{name}_{n}_p95_ms"), json!(p95));
        }
        let next = Query::parse("level:>=warn").unwrap();
        let (p50, p95) = percentiles(10, |_| {
            let mut cursor = Cursor::Start;
            for _ in 0..20 {
                let page = store.page(&next, Order::NewestFirst, cursor, 100).unwrap();
                cursor = Cursor::After(page.rows.last().unwrap().id);
            }
        });
        println!(
            "{n:>10} {:<15} {:>10.2} {:>10.2} {:>10}",
            "20 pages", p50, p95, "-"
        );
        for (name, text) in [
            ("all", ""),
            ("errors", "level:>=error"),
            ("word", "upstream"),
        ] {
            let query = Query::parse(text).unwrap();
            let (p50, p95) = percentiles(5, |_| {
                store.overview(&query, 100, 10).unwrap();
            });
            let (c50, c95) = percentiles(5, |_| {
                store.count(&query).unwrap();
            });
            println!(
                "{n:>10} {:<15} {p50:>10.2} {p95:>10.2} {:>10}",
                format!("overview {name}"),
                "-"
            );
            println!(
                "{n:>10} {:<15} {c50:>10.2} {c95:>10.2} {:>10}",
                format!("count {name}"),
                "-"
            );
            out.insert(format!("overview_{name}_{n}_p50_ms"), json!(p50));
            out.insert(format!("overview_{name}_{n}_p95_ms"), json!(p95));
            out.insert(format!("count_{name}_{n}_p95_ms"), json!(c95));
        }
        // The library with its integrity report (time gaps from the rollup): what the viewer
        // asks for after every import batch.
        let (p50, p95) = percentiles(5, |_| {
            store.bundles().unwrap();
        });
        let gaps = store
            .bundles()
            .unwrap()
            .iter()
            .map(|b| b.gaps.len())
            .sum::<usize>();
        println!(
            "{n:>10} {:<15} {p50:>10.2} {p95:>10.2} {:>10}",
            "library", gaps
        );
        out.insert(format!("library_{n}_p95_ms"), json!(p95));
    }
}
