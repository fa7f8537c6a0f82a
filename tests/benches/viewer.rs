//! The viewer benchmark (`scripts/bench-viewer.sh`): a bundle of generated JSON-lines logs
//! (`TRAWL_BENCH_RECORDS`, default 1,000,000 records) opened by link in the release viewer in
//! headless Chromium. Prints, with a baseline from the same run where there is one:
//! - time from opening the link to the first results shown, and to the import's end;
//! - import records/s in the browser against `trawl query` importing the same bundle natively;
//! - the library's bundle export, records/s against that import, and its frame times;
//! - the same bundle's segment files dropped on the started viewer at another origin (empty
//!   storage): time from the drop to the first results and to the import's end, frame times;
//! - search round trips through the worker (request to first page shown), p50/p95;
//! - frame times (requestAnimationFrame deltas) while the app starts, during the import (from
//!   the app asking the worker for it to its end; each frame over 20 ms with when it came) and
//!   while scrolling through 100,000 rows, and the main thread's long tasks and long animation
//!   frames; as their baseline, the frames of an idle blank page and of a minimal plain-DOM
//!   virtual list scrolled the same way in the same browser;
//! - with `TRAWL_BENCH_TRACE=1` (or a list of Chrome trace categories), a Chrome trace of the
//!   import saved under `tests/artifacts/`, and the page main thread's work in it, by the clock
//!   and by CPU time;
//! - the tab's memory during the import: its renderer's private memory footprint (Chrome's
//!   measure) and resident size;
//! - records of megabyte-long lines against short ones: a search's round trip, the time from a
//!   click to the record's detail, and the frames of both.
//!
//! A benchmark, never a test: it prints figures and fails only if something does not work.

use std::{
    io::Write,
    path::Path,
    process::Command,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{ensure, Context, Result};
use serde_json::{json, Value};
use trawl_e2e::{site_dir, thousands, trawl_bin, Browser, Profile, Server};

/// The Chrome trace categories recorded with `TRAWL_BENCH_TRACE=1`: what the renderer's threads
/// did (script, style, layout, paint), as DevTools' performance panel records it, and the
/// app's marks. chromedriver keeps at most 100,000 events: the tasks of every thread
/// (`toplevel`, `disabled-by-default-devtools.timeline`) fill that before a 1M import ends.
const TRACE_CATEGORIES: &str = "devtools.timeline,blink.user_timing";

/// Rows scrolled through in the scrolling measurement.
const SCROLL_ROWS: u64 = 100_000;

#[tokio::main]
async fn main() -> Result<()> {
    let records: u64 = std::env::var("TRAWL_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let (bundle, raw_bytes) = ingest_generated(dir.path(), "bench", records)?;
    let bundle_bytes = dir_size(&bundle)?;
    println!(
        "bundle: {records} records, {:.1} MB of JSON lines -> {:.1} MB bundle",
        mb(raw_bytes),
        mb(bundle_bytes)
    );

    // Baseline: the same bundle imported natively into a fresh store by `trawl query`.
    let started = Instant::now();
    let count = Command::new(trawl_bin())
        .arg("query")
        .arg(&bundle)
        .arg("--count")
        .arg("--cache")
        .arg(dir.path().join("native.sqlite"))
        .output()?;
    let native_s = started.elapsed().as_secs_f64();
    ensure!(count.status.success(), "trawl query failed");
    let counted: u64 = String::from_utf8(count.stdout)?.trim().parse()?;
    ensure!(
        counted == records,
        "trawl query counts {counted}, not {records}"
    );
    let native_rate = records as f64 / native_s;
    println!(
        "native import (trawl query, fresh store): {native_s:.2} s, {native_rate:.0} records/s"
    );

    // The bundle a returning visit opens: the same kind of log, written again.
    let (again, _) = ingest_generated(dir.path(), "again", RETURNING_RECORDS)?;
    let long_lines = LineLength::ALL
        .iter()
        .map(|length| length.bundle(dir.path()))
        .collect::<Result<Vec<_>>>()?;
    let mut bundles = vec![bundle.as_path(), again.as_path()];
    bundles.extend(long_lines.iter().map(|b| b.as_path()));
    let server = Server::with_bundles(&trawl_bin(), &site_dir(), "/", &bundles)?;
    let browser = match std::env::var("TRAWL_BENCH_TRACE") {
        Ok(categories) if !categories.is_empty() => {
            let categories = if categories == "1" {
                TRACE_CATEGORIES
            } else {
                &categories
            };
            Browser::launch_tracing(Profile::fresh(), categories).await?
        }
        _ => Browser::launch(Profile::fresh()).await?,
    };
    let segments = segment_names(&bundle)?;
    let outcome = async {
        let figures = measure(&browser, &server, &segments, records, native_rate).await?;
        let lines = measure_line_lengths(&browser, &server).await?;
        Ok::<_, anyhow::Error>((figures, lines))
    }
    .await;
    if outcome.is_err() {
        eprintln!(
            "artifacts: {}",
            browser.save_artifacts("bench_viewer").await
        );
    }
    browser.quit().await;
    let (figures, lines) = outcome?;
    println!(
        "{}",
        json!({
            "records": records,
            "raw_mb": mb(raw_bytes),
            "bundle_mb": mb(bundle_bytes),
            "native_import_records_per_s": native_rate,
            "browser": figures,
            "line_lengths": lines,
        })
    );
    Ok(())
}

async fn measure(
    browser: &Browser,
    server: &Server,
    segments: &[String],
    records: u64,
    native_rate: f64,
) -> Result<Value> {
    // Warm the site into the service worker's cache, as a returning user has it.
    browser.goto(server.url()).await?;
    browser
        .wait_text("worker-state", "ready", |t| t == "ready")
        .await?;
    browser
        .wait_text("offline", "offline ready", |t| t.starts_with("ready"))
        .await?;

    let memory = MemorySampler::start(browser_renderer_pids);
    let opened = open_link(browser, server, "bench").await?;
    let trace = browser.trace_events().await?;
    if !trace.is_empty() {
        print_trace(&trace)?;
    }
    let peak_memory = memory.stop();
    let (first_results_ms, imported_ms) = (opened.first_results, opened.imported);
    let total = browser.text("total").await?.unwrap_or_default();
    ensure!(
        total == format!("{} records", thousands(records)),
        "the viewer shows {total:?} after the import"
    );
    // The worker's wasm memory (its high-water mark): the library refresh after the import
    // reads it.
    let worker_memory = browser
        .wait_text("worker-memory", "the worker's memory", |t| {
            t.ends_with("MiB")
        })
        .await?;
    println!("store worker wasm memory after the import: {worker_memory}");
    let browser_rate = records as f64 / (imported_ms / 1000.0);
    println!(
        "browser: first results {first_results_ms:.0} ms after opening the link; import ended at {:.2} s",
        imported_ms / 1000.0
    );
    println!(
        "browser import: {browser_rate:.0} records/s (incl. page start and fetch) = {:.2}x native",
        browser_rate / native_rate
    );
    opened.print_frames();
    let import_refreshes = opened.refresh_figures();
    println!(
        "tab memory peak during the import: {:.0} MB private footprint ({:.0} MB RSS); \
         all renderers: {:.0} MB private ({:.0} MB RSS)",
        mb(peak_memory.tab.private_footprint),
        mb(peak_memory.tab.rss),
        mb(peak_memory.all_renderers.private_footprint),
        mb(peak_memory.all_renderers.rss)
    );

    // Search round trips: each query typed, first page back.
    let queries = [
        "level:error",
        "timeout",
        "\"connection reset\"",
        "service:payments",
        "user*",
        "level:>=warn -timeout",
        "fields.status:>=500",
        "/retry(ing)? \\d+/",
        "orders OR refunds",
        "trace_id:0000000000000000000000000000002a",
    ];
    // Each query is typed once the previous one is fully answered (page, total, histogram,
    // facets), so every round trip is measured on an idle worker.
    let mut round_trips = Vec::new();
    let mut refreshes = Vec::new();
    // The slowest first page and slowest full answer of each query.
    let mut slowest = vec![(0.0_f64, 0.0_f64); queries.len()];
    for _ in 0..3 {
        for (query, slowest) in queries.iter().zip(&mut slowest) {
            let before = measures(browser, "trawl:refresh").await?.len();
            browser.type_and_enter("search", query).await?;
            browser
                .wait_for("the search's answers", async |b| {
                    let all = measures(b, "trawl:refresh").await?;
                    Ok(if all.len() > before {
                        Ok(())
                    } else {
                        Err(format!("{} refreshes", all.len()))
                    })
                })
                .await?;
            let round_trip = measures(browser, "trawl:search").await?.last().copied();
            let refresh = measures(browser, "trawl:refresh").await?.last().copied();
            slowest.0 = slowest.0.max(round_trip.unwrap_or(0.0));
            slowest.1 = slowest.1.max(refresh.unwrap_or(0.0));
            round_trips.extend(round_trip);
            refreshes.extend(refresh);
        }
    }
    let (rt50, rt95) = (
        percentile(&round_trips, 50.0),
        percentile(&round_trips, 95.0),
    );
    let (rf50, rf95) = (percentile(&refreshes, 50.0), percentile(&refreshes, 95.0));
    println!(
        "search round trip through the worker, first page ({} searches): p50 {rt50:.1} ms, \
         p95 {rt95:.1} ms",
        round_trips.len()
    );
    println!("  until total, histogram and facets are in too: p50 {rf50:.1} ms, p95 {rf95:.1} ms");
    println!("  slowest of each query's three, first page / all answers:");
    for (query, (page, all)) in queries.iter().zip(&slowest) {
        println!("    {page:7.1} ms / {all:7.1} ms  {query}");
    }

    // Scrolling through the first 100,000 rows of everything.
    browser.type_and_enter("search", "").await?;
    browser
        .wait_text("total", "everything", |t| {
            t == format!("{} records", thousands(records))
        })
        .await?;
    let scroll = scroll_through(browser, SCROLL_ROWS.min(records)).await?;
    let scroll_frames: Vec<f64> = serde_json::from_value(scroll["frames"].clone())?;
    println!(
        "scrolled {} rows in {:.1} s ({:.0} rows/s)",
        scroll["rows"],
        scroll["seconds"].as_f64().unwrap_or(0.0),
        scroll["rows"].as_f64().unwrap_or(0.0) / scroll["seconds"].as_f64().unwrap_or(1.0)
    );
    print_frames("frames while scrolling", &scroll_frames);
    let grew: Vec<bool> = serde_json::from_value(scroll["grew"].clone())?;
    let pages = grew.iter().filter(|&&g| g).count();
    let missed_by_page = scroll_frames
        .iter()
        .enumerate()
        .filter(|&(at, &ms)| {
            ms > MISSED_FRAME_MS && (grew[at] || at.checked_sub(1).is_some_and(|i| grew[i]))
        })
        .count();
    println!(
        "  {pages} pages of rows arrived; {missed_by_page} of the frames over \
         {MISSED_FRAME_MS} ms came in or right after a frame that took one in"
    );
    print_scroll_work(&scroll, &scroll_frames);
    let list_height = browser
        .script(
            "return document.querySelector('[data-testid=results]').clientHeight",
            vec![],
        )
        .await?
        .as_f64()
        .unwrap_or(600.0);

    // The library's bundle export (the archive is made but not downloaded), against the
    // browser import of the same bundle in this run.
    browser
        .script(
            "const click = HTMLAnchorElement.prototype.click;
             HTMLAnchorElement.prototype.click = function () { if (!this.download) click.call(this); };",
            vec![],
        )
        .await?;
    start_frame_recorder(browser).await?;
    let started = Instant::now();
    browser.click("export-bundle").await?;
    let deadline = started + Duration::from_secs(3600);
    let note = loop {
        if let Some(note) = browser.text("export-bundle-note").await? {
            break note;
        }
        ensure!(
            Instant::now() < deadline,
            "the export did not end within an hour"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let export_s = started.elapsed().as_secs_f64();
    let export_frames: Vec<f64> = stop_frame_recorder(browser)
        .await?
        .iter()
        .map(|f| f.ms)
        .collect();
    ensure!(
        note.starts_with("saved bench.tar ("),
        "the export says {note:?}"
    );
    let export_rate = records as f64 / export_s;
    println!(
        "bundle export in the browser: {export_s:.2} s, {export_rate:.0} records/s = {:.2}x the \
         browser import ({note})",
        export_rate / browser_rate
    );
    print_frames("frames during the export", &export_frames);

    let returning = measure_returning(browser, server, records).await?;
    let dropped = measure_drop(browser, server, segments, records).await?;
    let baseline = frame_baseline(browser, list_height, SCROLL_ROWS.min(records)).await?;

    Ok(json!({
        "first_results_ms": first_results_ms,
        "import_s": imported_ms / 1000.0,
        "import_records_per_s": browser_rate,
        "import_vs_native": browser_rate / native_rate,
        "start_frames": frame_summary(&opened.start_frames()),
        "import_frames": frame_summary(&opened.import_frames()),
        "import_refreshes": import_refreshes,
        "tab_private_footprint_mb": mb(peak_memory.tab.private_footprint),
        "tab_rss_mb": mb(peak_memory.tab.rss),
        "all_renderers_private_footprint_mb": mb(peak_memory.all_renderers.private_footprint),
        "worker_wasm_memory": worker_memory,
        "search_round_trip_ms": { "p50": rt50, "p95": rt95, "n": round_trips.len() },
        "search_refresh_ms": { "p50": rf50, "p95": rf95 },
        "scroll": { "rows": scroll["rows"], "seconds": scroll["seconds"], "frames": frame_summary(&scroll_frames) },
        "export_records_per_s": export_rate,
        "export_vs_import": export_rate / browser_rate,
        "export_frames": frame_summary(&export_frames),
        "returning": returning,
        "drop": dropped,
        "baseline": baseline,
    }))
}

/// A page load that opens the link to the served bundle `name` (`?bundle=bundles/NAME/`) and
/// waits for its import to end: the page's `trawl:*` marks and its frames meanwhile.
struct LinkImport {
    import_start: f64,
    first_results: f64,
    imported: f64,
    frames: Vec<Frame>,
    /// The results' refreshes (`trawl:refresh` measures) begun during the import: when each
    /// began and how long it took (ms).
    refreshes: Vec<(f64, f64)>,
}

impl LinkImport {
    /// The frames of the app's own start (its first mount, while the store worker compiles),
    /// which come before the import is asked for.
    fn start_frames(&self) -> Vec<f64> {
        let start = self.frames.iter().filter(|f| f.end < self.import_start);
        start.map(|f| f.ms).collect()
    }

    /// The frames from the import's start to its end.
    fn import_frames(&self) -> Vec<f64> {
        let import = self.frames.iter().filter(|f| f.end >= self.import_start);
        import.map(|f| f.ms).collect()
    }

    /// How often the results refreshed during the import, how long a refresh took, and the
    /// share of the import's time they took (the worker runs refreshes and import batches on
    /// one thread); printed, and as JSON.
    fn refresh_figures(&self) -> Value {
        let took: Vec<f64> = self.refreshes.iter().map(|&(_, ms)| ms).collect();
        let share = took.iter().sum::<f64>() / (self.imported - self.import_start).max(1.0);
        let (p50, p95) = (percentile(&took, 50.0), percentile(&took, 95.0));
        println!(
            "results refreshed {} times during the import, each p50 {p50:.0} ms, p95 {p95:.0} \
             ms: {:.0}% of the import's time",
            took.len(),
            share * 100.0
        );
        json!({ "count": took.len(), "p50_ms": p50, "p95_ms": p95, "share": share })
    }

    /// Prints the frame figures of the start and of the import, and each missed frame of the
    /// import with when it came.
    fn print_frames(&self) {
        print_frames("frames while the app starts", &self.start_frames());
        print_frames("frames during the import", &self.import_frames());
        let missed = self.frames.iter().filter(|f| f.end >= self.import_start);
        for frame in missed.filter(|f| f.ms > MISSED_FRAME_MS) {
            println!(
                "  a {:.0} ms frame ended {:.0} ms after the import's start ({:+.0} ms from first \
                 results)",
                frame.ms,
                frame.end - self.import_start,
                frame.end - self.first_results
            );
        }
    }
}

async fn open_link(browser: &Browser, server: &Server, name: &str) -> Result<LinkImport> {
    browser
        .goto(&format!("{}?bundle=bundles/{name}/", server.url()))
        .await?;
    start_frame_recorder(browser).await?;
    let deadline = Instant::now() + Duration::from_secs(3600);
    let marks = loop {
        let marks = marks(browser).await?;
        if marks.contains_key(&format!("trawl:imported:{name}")) {
            break marks;
        }
        ensure!(
            Instant::now() < deadline,
            "the import of {name} did not end within an hour"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let mark = |mark: &str| {
        marks
            .get(mark)
            .copied()
            .with_context(|| format!("no {mark} mark"))
    };
    let (import_start, imported) = (
        mark(&format!("trawl:import-start:{name}"))?,
        mark(&format!("trawl:imported:{name}"))?,
    );
    let refreshes = timed_measures(browser, "trawl:refresh").await?;
    Ok(LinkImport {
        import_start,
        first_results: mark("trawl:first-results")?,
        imported,
        frames: stop_frame_recorder(browser).await?,
        refreshes: refreshes
            .into_iter()
            .filter(|&(start, _)| (import_start..imported).contains(&start))
            .collect(),
    })
}

/// Records in the bundle a returning visit opens.
const RETURNING_RECORDS: u64 = 100_000;

/// A returning visit: the page loaded again at the same origin after the first import, opening
/// a link to another bundle of [`RETURNING_RECORDS`] records into the same store. By then V8
/// has compiled the worker's hot code with its optimizing tier, code Chrome may keep in its
/// cache for the next load (the first visit's frames miss while V8 compiles it). From the page
/// load to the first rows on screen (the records stored before) and to the import's end, the
/// frames meanwhile, and the results' refreshes during the import.
async fn measure_returning(browser: &Browser, server: &Server, stored: u64) -> Result<Value> {
    let opened = open_link(browser, server, "again").await?;
    let total = browser.text("total").await?.unwrap_or_default();
    ensure!(
        total == format!("{} records", thousands(stored + RETURNING_RECORDS)),
        "the viewer shows {total:?} after the returning visit's import"
    );
    let import_s = opened.imported / 1000.0;
    println!(
        "returning visit, link to another {} records: the stored records on screen {:.0} ms \
         after opening the link; import ended at {import_s:.2} s",
        thousands(RETURNING_RECORDS),
        opened.first_results
    );
    opened.print_frames();
    let refreshes = opened.refresh_figures();
    Ok(json!({
        "records": RETURNING_RECORDS,
        "refreshes": refreshes,
        "stored_rows_ms": opened.first_results,
        "import_s": import_s,
        "start_frames": frame_summary(&opened.start_frames()),
        "import_frames": frame_summary(&opened.import_frames()),
    }))
}

/// The bundle's segment files dropped on the viewer, started and idle, at another origin (so
/// its storage is empty): from the drop to the first results and to the import's end, and the
/// frames meanwhile. The files are fetched into memory first, so reading them costs what
/// reading a dropped file from a warm disk does.
async fn measure_drop(
    browser: &Browser,
    server: &Server,
    segments: &[String],
    records: u64,
) -> Result<Value> {
    let other_origin = server.url().replace("127.0.0.1", "localhost");
    browser.goto(&other_origin).await?;
    browser
        .wait_text("worker-state", "ready", |t| t == "ready")
        .await?;
    let files = browser
        .script_async(
            "const [names, done] = arguments;
             Promise.all(names.map(name => fetch('bundles/bench/' + name)
                 .then(r => r.blob()).then(blob => new File([blob], name))))
               .then(files => { window.__dropped = files; done(files.length); },
                     err => done(String(err)));",
            vec![json!(segments)],
        )
        .await?;
    ensure!(
        files == json!(segments.len()),
        "fetching the segments: {files}"
    );
    start_frame_recorder(browser).await?;
    browser
        .script(
            "const transfer = new DataTransfer();
             for (const file of window.__dropped) transfer.items.add(file);
             performance.mark('trawl:drop');
             document.body.dispatchEvent(
                 new DragEvent('dragover', { dataTransfer: transfer, bubbles: true }));
             document.body.dispatchEvent(
                 new DragEvent('drop', { dataTransfer: transfer, bubbles: true }));",
            vec![],
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(3600);
    let (dropped, first, imported) = loop {
        let marks = marks(browser).await?;
        let imported = marks
            .iter()
            .find(|(name, _)| name.starts_with("trawl:imported:"))
            .map(|(_, at)| *at);
        if let Some(imported) = imported {
            break (
                marks.get("trawl:drop").copied().context("no drop mark")?,
                marks
                    .get("trawl:first-results")
                    .copied()
                    .context("no first results mark after the drop")?,
                imported,
            );
        }
        ensure!(
            Instant::now() < deadline,
            "the dropped bundle's import did not end within an hour"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let frames: Vec<Frame> = stop_frame_recorder(browser)
        .await?
        .into_iter()
        .filter(|f| f.end > dropped)
        .collect();
    let total = browser.text("total").await?.unwrap_or_default();
    ensure!(
        total == format!("{} records", thousands(records)),
        "the viewer shows {total:?} after the dropped bundle's import"
    );
    let (first_ms, imported_s) = (first - dropped, (imported - dropped) / 1000.0);
    println!(
        "dropped on the started viewer: first results {first_ms:.0} ms after the drop; import \
         ended at {imported_s:.2} s ({:.0} records/s)",
        records as f64 / imported_s
    );
    let frame_ms: Vec<f64> = frames.iter().map(|f| f.ms).collect();
    print_frames("frames during the dropped bundle's import", &frame_ms);
    for frame in frames.iter().filter(|f| f.ms > MISSED_FRAME_MS) {
        println!(
            "  a {:.0} ms frame ended {:.0} ms after the drop ({:+.0} ms from first results)",
            frame.ms,
            frame.end - dropped,
            frame.end - first
        );
    }
    Ok(json!({
        "first_results_ms": first_ms,
        "import_s": imported_s,
        "import_records_per_s": records as f64 / imported_s,
        "frames": frame_summary(&frame_ms),
    }))
}

/// The records of each bundle of [`measure_line_lengths`].
const LINE_LENGTH_RECORDS: usize = 50;

/// The lines of a bundle of [`measure_line_lengths`]: a megabyte each, as a service that logs
/// a whole request body on one line writes them, or the usual hundred-odd bytes.
#[derive(Debug, Clone, Copy)]
enum LineLength {
    Megabyte,
    Short,
}

impl LineLength {
    const ALL: [LineLength; 2] = [LineLength::Megabyte, LineLength::Short];

    /// The bundle's name, which is also the word only its messages hold.
    fn name(self) -> &'static str {
        match self {
            Self::Megabyte => "megabytelines",
            Self::Short => "shortlines",
        }
    }

    /// Writes and ingests the bundle `dir/<name>`.
    fn bundle(self, dir: &Path) -> Result<std::path::PathBuf> {
        let name = self.name();
        let log = dir.join(format!("{name}.log"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&log)?);
        for i in 0..LINE_LENGTH_RECORDS {
            let mut message = format!("{name} request {i} failed: body ");
            let bytes = match self {
                Self::Megabyte => 1 << 20,
                Self::Short => 120,
            };
            while message.len() < bytes {
                message += &format!("order {i} upstream timeout connection reset; ");
            }
            let line = json!({
                "ts": format!("2024-05-02T10:00:{:02}Z", i % 60),
                "level": "error",
                "service": "gateway",
                "msg": message,
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        ingest(dir, name, &log)
    }
}

/// What lines of a megabyte cost the viewer, against short lines in the same run: each bundle
/// of [`LINE_LENGTH_RECORDS`] records opened by link, then (in the store that holds the
/// benchmark's other records too) a search for the word only its messages hold, from the
/// search to its first page on screen (`trawl:search`); a click on its first row, to the
/// first frame with the record's detail; and the frames of both.
async fn measure_line_lengths(browser: &Browser, server: &Server) -> Result<Value> {
    let mut figures = serde_json::Map::new();
    for length in LineLength::ALL {
        let name = length.name();
        open_link(browser, server, name).await?;
        start_frame_recorder(browser).await?;
        browser.type_and_enter("search", name).await?;
        let total = format!("{LINE_LENGTH_RECORDS} records");
        browser.wait_text("total", &total, |t| t == total).await?;
        browser
            .wait_for("the search's first row", async |b| {
                let first = b
                    .script(
                        "const row = document.querySelector(\
                             '[data-testid=row][data-index=\"0\"] [data-testid=message]');
                         return row ? row.textContent : '';",
                        vec![],
                    )
                    .await?;
                Ok(match first.as_str() {
                    Some(text) if text.starts_with(name) => Ok(()),
                    _ => Err(format!("the first row shows {first}")),
                })
            })
            .await?;
        // Its first page is on screen: the last search measure is its round trip.
        let search_ms = measures(browser, "trawl:search")
            .await?
            .last()
            .copied()
            .context("no trawl:search measure")?;
        // From the click to the first frame with the record's raw line in the pane.
        let detail_ms = browser
            .script_async(
                "const [name, done] = arguments;
                 const started = performance.now();
                 document.querySelector('[data-testid=row][data-index=\"0\"]').click();
                 const check = () => {
                     const raw = document.querySelector('[data-testid=detail-raw]');
                     if (raw && raw.textContent.includes(name)) done(performance.now() - started);
                     else requestAnimationFrame(check);
                 };
                 requestAnimationFrame(check);",
                vec![json!(name)],
            )
            .await?
            .as_f64()
            .context("the detail's time")?;
        // Let the detail's frames come in.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let frames: Vec<f64> = stop_frame_recorder(browser)
            .await?
            .iter()
            .map(|f| f.ms)
            .collect();
        println!(
            "{name}: search to its first row {search_ms:.0} ms, a click to the record's detail \
             {detail_ms:.0} ms"
        );
        print_frames(&format!("frames of {name}"), &frames);
        figures.insert(
            name.to_owned(),
            json!({
                "search_ms": search_ms,
                "detail_ms": detail_ms,
                "frames": frame_summary(&frames),
            }),
        );
        browser.click("close-detail").await?;
    }
    let ratio = |what: &str| {
        figures[LineLength::Megabyte.name()][what]
            .as_f64()
            .unwrap_or(0.0)
            / figures[LineLength::Short.name()][what]
                .as_f64()
                .unwrap_or(1.0)
    };
    let (search, detail) = (ratio("search_ms"), ratio("detail_ms"));
    println!(
        "megabyte lines against short lines: search {search:.2}x, detail {detail:.2}x the time"
    );
    figures.insert("search_vs_short".into(), search.into());
    figures.insert("detail_vs_short".into(), detail.into());
    Ok(Value::Object(figures))
}

/// The names of the bundle's segment files.
fn segment_names(bundle: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(bundle)?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".seg"))
        .collect();
    names.sort();
    Ok(names)
}

/// Generates `records` lines of log (see [`generate`]) in `dir` and ingests them into the
/// bundle `dir/<name>`; returns the bundle's path and the log's size in bytes.
fn ingest_generated(dir: &Path, name: &str, records: u64) -> Result<(std::path::PathBuf, u64)> {
    let log = dir.join(format!("{name}.log"));
    let raw_bytes = generate(&log, records)?;
    Ok((ingest(dir, name, &log)?, raw_bytes))
}

/// `trawl ingest --out DIR/NAME LOG`; returns the bundle's path.
fn ingest(dir: &Path, name: &str, log: &Path) -> Result<std::path::PathBuf> {
    let bundle = dir.join(name);
    run(Command::new(trawl_bin())
        .arg("ingest")
        .arg("--out")
        .arg(&bundle)
        .arg(log))?;
    Ok(bundle)
}

/// Writes `records` JSON lines like a service's structured log; returns the bytes written.
fn generate(path: &Path, records: u64) -> Result<u64> {
    const SERVICES: [&str; 6] = ["payments", "orders", "gateway", "auth", "search", "refunds"];
    const MESSAGES: [&str; 8] = [
        "request completed",
        "upstream timeout after 3000 ms",
        "connection reset by peer",
        "user signed in",
        "retrying 3 of 5",
        "cache miss for key orders:",
        "slow query on table orders",
        "payment authorised",
    ];
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let start_ms: u64 = 1_714_557_600_000; // 2024-05-01T10:00:00Z
    let mut bytes = 0;
    for i in 0..records {
        let r = next();
        let level = match r % 100 {
            0..=1 => "error",
            2..=7 => "warn",
            8..=29 => "debug",
            _ => "info",
        };
        // About two hours per million records.
        let ms = start_ms + i * 7;
        let line = format!(
            "{{\"time\":{ms},\"level\":\"{level}\",\"service\":\"{}\",\"msg\":\"{} {}\",\"status\":{},\"user\":\"user{}\",\"trace_id\":\"{:032x}\"}}\n",
            SERVICES[(r >> 8) as usize % SERVICES.len()],
            MESSAGES[(r >> 16) as usize % MESSAGES.len()],
            i,
            [200, 200, 200, 201, 404, 500, 503][(r >> 24) as usize % 7],
            (r >> 32) % 5000,
            i % 100_000,
        );
        out.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
    }
    out.flush()?;
    Ok(bytes)
}

fn run(command: &mut Command) -> Result<()> {
    let status = command.stdout(std::process::Stdio::null()).status()?;
    ensure!(status.success(), "{command:?} failed");
    Ok(())
}

fn dir_size(dir: &Path) -> Result<u64> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

/// The page's `trawl:*` marks by name: milliseconds since navigation.
async fn marks(browser: &Browser) -> Result<std::collections::HashMap<String, f64>> {
    let marks = browser
        .script(
            "return performance.getEntriesByType('mark')
                .filter(m => m.name.startsWith('trawl:')).map(m => [m.name, m.startTime]);",
            vec![],
        )
        .await?;
    Ok(marks
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|m| Some((m[0].as_str()?.to_owned(), m[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default())
}

/// The durations of the page's User Timing measures named `name`, oldest first.
async fn measures(browser: &Browser, name: &str) -> Result<Vec<f64>> {
    let all = timed_measures(browser, name).await?;
    Ok(all.into_iter().map(|(_, duration)| duration).collect())
}

/// When each of the page's User Timing measures named `name` began, and its duration (ms),
/// oldest first.
async fn timed_measures(browser: &Browser, name: &str) -> Result<Vec<(f64, f64)>> {
    let all = browser
        .script(
            "return performance.getEntriesByName(arguments[0])
                .map(m => [m.startTime, m.duration]);",
            vec![json!(name)],
        )
        .await?;
    Ok(serde_json::from_value(all)?)
}

/// One animation frame: when it came (ms since navigation) and how long after the one before.
#[derive(Debug, Clone, Copy)]
struct Frame {
    end: f64,
    ms: f64,
}

/// Records the delta between animation frames, and long tasks, until stopped.
async fn start_frame_recorder(browser: &Browser) -> Result<()> {
    browser
        .script(
            "window.__frames = []; window.__longTasks = []; window.__stopFrames = false;
             let last = performance.now();
             const tick = (now) => {
                 window.__frames.push({ end: now, ms: now - last }); last = now;
                 if (!window.__stopFrames) requestAnimationFrame(tick);
             };
             requestAnimationFrame(tick);
             window.__longFrames = [];
             try {
               new PerformanceObserver((list) => {
                 for (const e of list.getEntries()) window.__longTasks.push(e.duration);
               }).observe({ type: 'longtask', buffered: true });
               new PerformanceObserver((list) => {
                 for (const e of list.getEntries()) {
                   const end = e.startTime + e.duration;
                   window.__longFrames.push({
                     duration: e.duration,
                     render: e.renderStart ? end - e.renderStart : 0,
                     styleLayout: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0,
                     scripts: e.scripts.map(s => ({
                       duration: s.duration,
                       what: `${s.invoker} ${s.sourceFunctionName || ''}`.trim(),
                       layout: s.forcedStyleAndLayoutDuration,
                     })),
                   });
                 }
               }).observe({ type: 'long-animation-frame' });
             } catch (e) {}",
            vec![],
        )
        .await?;
    Ok(())
}

async fn stop_frame_recorder(browser: &Browser) -> Result<Vec<Frame>> {
    let frames = browser
        .script(
            "window.__stopFrames = true; return window.__frames.slice(1);",
            vec![],
        )
        .await?;
    let long = browser.script("return window.__longTasks", vec![]).await?;
    let long: Vec<f64> = serde_json::from_value(long).unwrap_or_default();
    println!(
        "  main-thread long tasks (>50 ms): {}, longest {:.0} ms",
        long.len(),
        long.iter().copied().fold(0.0, f64::max)
    );
    print_long_frames(browser).await?;
    Ok(frames
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| Frame {
            end: f["end"].as_f64().unwrap_or(0.0),
            ms: f["ms"].as_f64().unwrap_or(0.0),
        })
        .collect())
}

/// Saves the import's Chrome trace (open it in Perfetto UI or `chrome://tracing`) and prints
/// what the page's main thread did from the import's start: how many of its busy spells took
/// longer than a frame by the clock and by their CPU time, and the longest ones with the
/// longest things they did. A spell whose CPU time is a fraction of its wall time was waiting
/// for a core, not working.
fn print_trace(events: &[Value]) -> Result<()> {
    let dir = trawl_e2e::artifacts_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("import-trace.json");
    std::fs::write(&path, json!({ "traceEvents": events }).to_string())?;
    let ms = |e: &Value, key: &str| e[key].as_f64().unwrap_or(0.0) / 1000.0;
    let span = events
        .iter()
        .filter(|e| e["ts"].as_f64().is_some_and(|ts| ts > 0.0))
        .fold((f64::MAX, f64::MIN), |(lo, hi), e| {
            (lo.min(ms(e, "ts")), hi.max(ms(e, "ts")))
        });
    println!(
        "  Chrome trace: {} ({} events over {:.1} s; chromedriver keeps the first 100,000)",
        path.display(),
        events.len(),
        (span.1 - span.0) / 1000.0
    );
    // The page's main thread is the one that marked the import's start.
    let Some(start) = events
        .iter()
        .find(|e| e["name"] == "trawl:import-start:bench" && e["ph"] == "I")
    else {
        println!("  (no import-start mark in the trace: it needs the blink.user_timing category)");
        return Ok(());
    };
    let on_main = |e: &Value| e["pid"] == start["pid"] && e["tid"] == start["tid"];
    let from = ms(start, "ts");
    // Its busy spells: runs of outermost events (an event inside another is part of it) with
    // less than a millisecond between them, as the style, layout and paint of one frame are.
    // A spell's CPU time is the sum of its events'.
    let mut on_thread: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && on_main(e) && ms(e, "ts") >= from)
        .collect();
    // By start, and an event before the ones it contains (a trace lists each at its end).
    on_thread.sort_by(|a, b| {
        f64::total_cmp(&ms(a, "ts"), &ms(b, "ts"))
            .then(f64::total_cmp(&ms(b, "dur"), &ms(a, "dur")))
    });
    let mut spells: Vec<Spell> = Vec::new();
    for e in on_thread {
        let (start, end) = (ms(e, "ts"), ms(e, "ts") + ms(e, "dur"));
        match spells.last_mut() {
            Some(spell) if start < spell.end => {} // inside an event already counted
            Some(spell) if start < spell.end + 1.0 => {
                spell.end = end;
                spell.cpu += ms(e, "tdur");
                spell.parts.push(e);
            }
            _ => spells.push(Spell {
                start,
                end,
                cpu: ms(e, "tdur"),
                parts: vec![e],
            }),
        }
    }
    let frame_ms = 1000.0 / 60.0;
    let by_wall = spells.iter().filter(|s| s.end - s.start > frame_ms).count();
    let by_cpu = spells.iter().filter(|s| s.cpu > frame_ms).count();
    let cpu: f64 = spells.iter().map(|s| s.cpu).sum();
    println!(
        "  page main thread over {:.1} s of the import: {} busy spells, {cpu:.0} ms of CPU; \
         over {frame_ms:.1} ms: {by_wall} by the clock, {by_cpu} by their CPU time",
        (span.1 - from) / 1000.0,
        spells.len()
    );
    spells.sort_by(|a, b| f64::total_cmp(&(b.end - b.start), &(a.end - a.start)));
    for spell in spells.iter().take(6).filter(|s| s.end - s.start > frame_ms) {
        let mut parts = spell.parts.clone();
        parts.sort_by(|a, b| f64::total_cmp(&ms(b, "tdur"), &ms(a, "tdur")));
        let parts: Vec<String> = parts
            .iter()
            .take(4)
            .map(|e| {
                format!(
                    "{} {:.1} ms (CPU {:.1})",
                    e["name"].as_str().unwrap_or("?"),
                    ms(e, "dur"),
                    ms(e, "tdur")
                )
            })
            .collect();
        println!(
            "    +{:.0} ms: {:.1} ms, CPU {:.1} ms: {}",
            spell.start - from,
            spell.end - spell.start,
            spell.cpu,
            parts.join(", ")
        );
    }
    Ok(())
}

/// A time the page's main thread was busy without a break, in a trace.
struct Spell<'a> {
    start: f64,
    end: f64,
    cpu: f64,
    parts: Vec<&'a Value>,
}

/// Prints the longest long animation frames (over 50 ms of main-thread work between two
/// frames, Chrome's Long Animation Frames API): where their time went.
async fn print_long_frames(browser: &Browser) -> Result<()> {
    let frames = browser
        .script("return window.__longFrames || []", vec![])
        .await?;
    let mut frames: Vec<Value> = serde_json::from_value(frames).unwrap_or_default();
    frames.sort_by(|a, b| {
        f64::total_cmp(
            &b["duration"].as_f64().unwrap_or(0.0),
            &a["duration"].as_f64().unwrap_or(0.0),
        )
    });
    println!("  long animation frames: {}", frames.len());
    for frame in frames.iter().take(5) {
        let mut scripts: Vec<&Value> = frame["scripts"]
            .as_array()
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        scripts.sort_by(|a, b| {
            f64::total_cmp(
                &b["duration"].as_f64().unwrap_or(0.0),
                &a["duration"].as_f64().unwrap_or(0.0),
            )
        });
        let scripts: Vec<String> = scripts
            .iter()
            .take(3)
            .map(|s| {
                format!(
                    "{} {:.0} ms (forced layout {:.0} ms)",
                    s["what"].as_str().unwrap_or("?"),
                    s["duration"].as_f64().unwrap_or(0.0),
                    s["layout"].as_f64().unwrap_or(0.0)
                )
            })
            .collect();
        println!(
            "    {:.0} ms: rendering {:.0} ms (style and layout {:.0} ms); scripts: {}",
            frame["duration"].as_f64().unwrap_or(0.0),
            frame["render"].as_f64().unwrap_or(0.0),
            frame["styleLayout"].as_f64().unwrap_or(0.0),
            if scripts.is_empty() {
                "none".to_owned()
            } else {
                scripts.join(", ")
            }
        );
    }
    Ok(())
}

/// The floor this browser and machine set for frame times, measured on a blank page in the
/// same run: the frames of an idle page for ten seconds, and of a minimal virtual list (a pool
/// of plain `div`s whose text and position are set on each scroll event, nothing else) as tall
/// as the viewer's, scrolled through the same rows the same way as the viewer's was.
async fn frame_baseline(browser: &Browser, list_height: f64, rows: u64) -> Result<Value> {
    browser.goto("about:blank").await?;
    browser
        .script(
            "window.__idle = null;
             const frames = []; let last = performance.now(); const start = last;
             const tick = (now) => {
               frames.push(now - last); last = now;
               if (now - start < 10000) requestAnimationFrame(tick);
               else window.__idle = frames.slice(1);
             };
             requestAnimationFrame(tick);",
            vec![],
        )
        .await?;
    let idle: Vec<f64> = loop {
        let frames = browser.script("return window.__idle", vec![]).await?;
        if !frames.is_null() {
            break serde_json::from_value(frames)?;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    print_frames("baseline, an idle blank page", &idle);
    browser
        .script(
            "const [height, rows] = arguments;
             const list = document.createElement('div');
             list.dataset.testid = 'results';
             list.style.cssText = `height: ${height}px; overflow-y: auto; font: 13px monospace`;
             const spacer = document.createElement('div');
             spacer.style.cssText = `height: ${rows * 22}px; position: relative`;
             list.append(spacer);
             const pool = [];
             const size = Math.ceil(height / 22) + 40;
             for (let i = 0; i < size; i++) {
               const row = document.createElement('div');
               row.style.cssText = 'position: absolute; left: 0; right: 0; height: 22px; \
                 white-space: nowrap; overflow: hidden';
               spacer.append(row);
               pool.push(row);
             }
             const render = () => {
               const first = Math.max(0, Math.floor(list.scrollTop / 22) - 20);
               for (let i = 0; i < size; i++) {
                 const at = first + i, row = pool[at % size];
                 row.style.transform = `translateY(${at * 22}px)`;
                 row.textContent = `2024-03-08T14:00:00.${at}Z INFO payments-api GET ` +
                   `/api/v1/orders/${at} 200 ${at % 5000}ms bytes=${at * 7 % 90000}`;
               }
             };
             list.addEventListener('scroll', render);
             document.body.append(list);
             render();",
            vec![json!(list_height), json!(rows)],
        )
        .await?;
    let plain = scroll_through(browser, rows).await?;
    let plain_frames: Vec<f64> = serde_json::from_value(plain["frames"].clone())?;
    print_frames(
        "baseline, a plain-DOM virtual list scrolled the same way",
        &plain_frames,
    );
    print_scroll_work(&plain, &plain_frames);
    Ok(json!({
        "idle_frames": frame_summary(&idle),
        "plain_list_scroll_frames": frame_summary(&plain_frames),
    }))
}

/// Scrolls the result list down until `rows` rows have passed, a screenful per frame, as a
/// fast fling would (pages load as it goes); returns the frame deltas, whether a page of rows
/// came in before each frame, the rows and the seconds.
async fn scroll_through(browser: &Browser, rows: u64) -> Result<Value> {
    browser
        .script(
            "const rows = arguments[0];
             const list = document.querySelector('[data-testid=results]');
             const rowHeight = 22, target = rows * rowHeight;
             const frames = [], grew = [], work = [];
             let last = performance.now(), height = null, scrollStart = 0, scrollMs = 0;
             const start = last;
             window.__scrolled = null;
             // The list's scroll handlers: from the first (capturing at the window) to the
             // last (registered after the page's own).
             window.addEventListener('scroll', () => { scrollStart = performance.now(); },
               { capture: true });
             list.addEventListener('scroll', () => { scrollMs = performance.now() - scrollStart; });
             const tick = (now) => {
               frames.push(now - last); last = now;
               // Main-thread work in this frame: the scroll handlers, how late in the frame this
               // callback ran, and what ran after it until the next task (the rest of the
               // frame's callbacks, style, layout and paint, and tasks queued before).
               const entry = { scroll: scrollMs, late: performance.now() - now, after: null };
               scrollMs = 0; work.push(entry);
               const called = performance.now();
               setTimeout(() => { entry.after = performance.now() - called; }, 0);
               // A page of rows came in since the last frame if the list's spacer grew (read
               // from its style, which forces no layout).
               const spacer = list.firstElementChild?.style.height ?? null;
               grew.push(height !== null && spacer !== height); height = spacer;
               list.scrollTop = Math.min(list.scrollTop + list.clientHeight, target);
               if (list.scrollTop + list.clientHeight >= target || now - start > 600000) {
                 window.__scrolled = { frames: frames.slice(1), grew: grew.slice(1),
                   work: work.slice(1),
                   seconds: (now - start) / 1000,
                   rows: Math.round((list.scrollTop + list.clientHeight) / rowHeight) };
               } else {
                 requestAnimationFrame(tick);
               }
             };
             requestAnimationFrame(tick);",
            vec![json!(rows)],
        )
        .await?;
    let deadline = Instant::now() + Duration::from_secs(660);
    loop {
        let done = browser.script("return window.__scrolled", vec![]).await?;
        if !done.is_null() {
            return Ok(done);
        }
        ensure!(Instant::now() < deadline, "scrolling did not end");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Prints the main thread's work around each missed frame of a [`scroll_through`], and its
/// medians over all frames.
fn print_scroll_work(scroll: &Value, frames: &[f64]) {
    let work = scroll["work"].as_array().cloned().unwrap_or_default();
    let ms = |at: usize, what: &str| work.get(at).and_then(|w| w[what].as_f64()).unwrap_or(-1.0);
    for (at, frame) in frames.iter().enumerate() {
        if *frame > MISSED_FRAME_MS {
            let before = at.saturating_sub(1);
            println!(
                "    {frame:.0} ms frame {at}: before it scroll {:.1} late {:.1} after {:.1}; \
                 in it scroll {:.1} late {:.1} after {:.1}",
                ms(before, "scroll"),
                ms(before, "late"),
                ms(before, "after"),
                ms(at, "scroll"),
                ms(at, "late"),
                ms(at, "after"),
            );
        }
    }
    let median = |what: &str| {
        let values: Vec<f64> = (0..work.len()).map(|at| ms(at, what)).collect();
        percentile(&values, 50.0)
    };
    println!(
        "    all frames, medians: scroll {:.1} late {:.1} after {:.1}",
        median("scroll"),
        median("late"),
        median("after")
    );
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[at]
}

/// A frame longer than this missed the display's 60 Hz refresh (deltas jitter around 16.7 ms).
const MISSED_FRAME_MS: f64 = 20.0;

fn frame_summary(frames: &[f64]) -> Value {
    let over = frames.iter().filter(|&&f| f > MISSED_FRAME_MS).count();
    json!({
        "frames": frames.len(),
        "p50_ms": percentile(frames, 50.0),
        "p95_ms": percentile(frames, 95.0),
        "p99_ms": percentile(frames, 99.0),
        "max_ms": frames.iter().copied().fold(0.0, f64::max),
        "missed": over,
    })
}

fn print_frames(what: &str, frames: &[f64]) {
    let s = frame_summary(frames);
    println!(
        "{what}: {} frames, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.0} ms, {} over {MISSED_FRAME_MS} ms",
        s["frames"], s["p50_ms"].as_f64().unwrap_or(0.0), s["p95_ms"].as_f64().unwrap_or(0.0),
        s["p99_ms"].as_f64().unwrap_or(0.0), s["max_ms"].as_f64().unwrap_or(0.0), s["missed"]
    );
}

/// The memory of one process: what Linux counts resident, and Chrome's "private memory
/// footprint" (on Linux `RssAnon + VmSwap`: what its task manager shows as a tab's memory;
/// RSS also counts the pages of the Chromium binary and shared memory that every process maps).
#[derive(Debug, Clone, Copy, Default)]
struct ProcessMemory {
    rss: u64,
    private_footprint: u64,
}

impl ProcessMemory {
    fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = |field: &str| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024)
        };
        Self {
            rss: kb("VmRSS:"),
            private_footprint: kb("RssAnon:") + kb("VmSwap:"),
        }
    }
}

/// The peaks the memory sampler saw.
#[derive(Debug, Clone, Copy, Default)]
struct MemoryPeaks {
    /// The page's renderer (the renderer with the largest footprint): the tab.
    tab: ProcessMemory,
    /// The sum over all renderers (page, service worker, Chromium's spare renderer).
    all_renderers: ProcessMemory,
}

/// Samples the memory of Chromium's renderer processes every 200 ms until stopped; keeps the
/// peaks.
struct MemorySampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<MemoryPeaks>,
}

impl MemorySampler {
    fn start(pids: fn() -> Vec<u32>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peaks = MemoryPeaks::default();
            let mut per_process = std::collections::BTreeMap::<u32, ProcessMemory>::new();
            while !flag.load(Ordering::Relaxed) {
                let mut sum = ProcessMemory::default();
                for pid in pids() {
                    let now = ProcessMemory::of(pid);
                    sum.rss += now.rss;
                    sum.private_footprint += now.private_footprint;
                    let peak = per_process.entry(pid).or_default();
                    peak.rss = peak.rss.max(now.rss);
                    peak.private_footprint = peak.private_footprint.max(now.private_footprint);
                }
                let all = &mut peaks.all_renderers;
                all.rss = all.rss.max(sum.rss);
                all.private_footprint = all.private_footprint.max(sum.private_footprint);
                std::thread::sleep(Duration::from_millis(200));
            }
            let parts: Vec<String> = per_process
                .iter()
                .map(|(pid, m)| {
                    format!(
                        "pid {pid}: {:.0} MB private, {:.0} MB RSS",
                        mb(m.private_footprint),
                        mb(m.rss)
                    )
                })
                .collect();
            println!("  renderer processes, peaks: {}", parts.join("; "));
            peaks.tab = per_process
                .into_values()
                .max_by_key(|m| m.private_footprint)
                .unwrap_or_default();
            peaks
        });
        Self { stop, thread }
    }

    fn stop(self) -> MemoryPeaks {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Chromium renderer processes started by this benchmark's browser (headless, one tab).
fn browser_renderer_pids() -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("--type=renderer") && descends_from(pid, me)
        })
        .collect()
}

fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    for _ in 0..16 {
        if pid == ancestor {
            return true;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // The parent pid is the second field after the command in parentheses.
        let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
            return false;
        };
        match after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            Some(parent) if parent > 1 => pid = parent,
            _ => return false,
        }
    }
    false
}
