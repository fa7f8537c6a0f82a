//! `trawl query`: the viewer's search engine over a bundle, from the command line.
//!
//! The bundle is indexed into a cache database beside it (`DIR.trawl-cache.sqlite`), with the
//! same store, tokenizer and query compiler the viewer's worker uses, so the same query gives
//! the same results. The cache is reused while the bundle's segment files are unchanged; when
//! they only grew (a live bundle), just the new records are imported; anything else rebuilds it.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use trawl_bundle::{format::HEADER_LEN, fs::StdFs, segment_files, Level, SegmentHeader};
use trawl_store::export::{json_line, rfc3339};
use trawl_store::{Flow, ImportOptions, Order, Query, Row, Store};

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The query (see README: words, "phrases", OR, -not, prefix*, field:value, since:/until:,
    /// /regex/). Empty matches everything.
    #[arg(default_value = "")]
    pub query: String,
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Print at most this many records.
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    /// Print only the number of matching records.
    #[arg(long, conflicts_with = "histogram")]
    pub count: bool,
    /// Print matches per time bucket and level instead of records.
    #[arg(long)]
    pub histogram: bool,
    /// Buckets of the histogram.
    #[arg(long, default_value_t = 40, requires = "histogram")]
    pub buckets: usize,
    /// Oldest records first (default: newest first, as the viewer shows them).
    #[arg(long)]
    pub oldest_first: bool,
    /// The cache database (default: beside the bundle, `DIR.trawl-cache.sqlite`).
    #[arg(long)]
    pub cache: Option<PathBuf>,
}

pub fn run(args: QueryArgs) -> Result<bool> {
    let query = match Query::parse(&args.query) {
        Ok(query) => query,
        Err(err) => {
            eprintln!("trawl: bad query: {err}");
            eprintln!("  {}", args.query);
            eprintln!("  {}^", " ".repeat(err.column.saturating_sub(1)));
            std::process::exit(2);
        }
    };
    let dir = &args.bundle;
    if !dir.is_dir() {
        bail!("{}: not a bundle directory", dir.display());
    }
    let cache = args.cache.clone().unwrap_or_else(|| default_cache(dir));
    let store = open_indexed(dir, &cache)?;
    let mut out = std::io::stdout().lock();
    if args.count {
        writeln!(out, "{}", store.count(&query)?)?;
        return Ok(true);
    }
    if args.histogram {
        let h = store.histogram(&query, args.buckets)?;
        for (i, counts) in h.buckets.iter().enumerate() {
            let start = h.start_nanos + i as i64 * h.bucket_nanos;
            let total: u64 = counts.iter().sum();
            if args.json {
                let by_level: serde_json::Map<String, serde_json::Value> = (0..7)
                    .filter(|&l| counts[l] > 0)
                    .map(|l| (level_name(l as u8).to_owned(), counts[l].into()))
                    .collect();
                let line = serde_json::json!({
                    "start": rfc3339(start), "seconds": h.bucket_nanos as f64 / 1e9,
                    "total": total, "levels": by_level,
                });
                writeln!(out, "{line}")?;
            } else {
                let levels: Vec<String> = (0..7)
                    .filter(|&l| counts[l] > 0)
                    .map(|l| format!("{}={}", level_name(l as u8), counts[l]))
                    .collect();
                writeln!(out, "{}  {total:>8}  {}", rfc3339(start), levels.join(" "))?;
            }
        }
        // Stray times far from the rest are left off the buckets, and records without a time
        // are in none: say so on stderr, so that the buckets stay all stdout holds.
        if h.untimed > 0 {
            eprintln!("trawl: {} without a time, in no bucket", counted(h.untimed));
        }
        for (side, off) in [("earlier", &h.earlier), ("later", &h.later)] {
            if let Some(off) = off {
                eprintln!(
                    "trawl: {} {side} than these buckets, from {} to {} (since:/until: show them)",
                    counted(off.records),
                    rfc3339(off.from_nanos),
                    rfc3339(off.to_nanos)
                );
            }
        }
        return Ok(true);
    }
    let order = if args.oldest_first {
        Order::OldestFirst
    } else {
        Order::NewestFirst
    };
    store.each_match(&query, order, args.limit, |row| -> Result<()> {
        if args.json {
            writeln!(out, "{}", json_line(row))?;
        } else {
            writeln!(out, "{}", text_line(row))?;
        }
        Ok(())
    })?;
    Ok(true)
}

fn default_cache(dir: &Path) -> PathBuf {
    let mut name = dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "bundle".into());
    name.push(".trawl-cache.sqlite");
    dir.with_file_name(name)
}

/// What the cache knows of one segment file: its name, its header's salt (random per
/// segment, so a bundle made anew under the same path and file names is told apart; 0 when the
/// header cannot be read, which the import then reports) and its length.
type SegmentPrint = (String, u64, u64);

/// What the cache knows of the bundle's files: every segment's [`SegmentPrint`].
fn fingerprint(dir: &Path) -> Result<Vec<SegmentPrint>> {
    let names = segment_files(&StdFs, dir)
        .with_context(|| format!("{}: cannot list the bundle", dir.display()))?;
    names
        .into_iter()
        .map(|name| {
            let path = dir.join(&name);
            let mut file =
                std::fs::File::open(&path).with_context(|| format!("{}", path.display()))?;
            let len = file
                .metadata()
                .with_context(|| format!("{}", path.display()))?
                .len();
            let mut header = [0; HEADER_LEN];
            let salt = file
                .read_exact(&mut header)
                .ok()
                .and_then(|()| SegmentHeader::decode(&header).ok())
                .map_or(0, |h| h.salt);
            Ok((name, salt, len))
        })
        .collect()
}

const FINGERPRINT_KEY: &str = "query_cache.fingerprint";

/// Opens the cache at `cache`, bringing it up to date with the bundle in `dir`.
fn open_indexed(dir: &Path, cache: &Path) -> Result<Store> {
    let now = fingerprint(dir)?;
    if now.is_empty() {
        bail!("{}: no segment files: not a trawl bundle", dir.display());
    }
    let open = |path: &Path| {
        Store::open(path).with_context(|| format!("{}: cannot open the cache", path.display()))
    };
    // It is only a cache: one that cannot be opened (damaged, or from a newer trawl) is rebuilt.
    let mut store = match Store::open(cache) {
        Ok(store) => store,
        Err(err) if cache.exists() => {
            eprintln!("trawl: {}: {err}; rebuilding the cache", cache.display());
            std::fs::remove_file(cache)
                .with_context(|| format!("{}: cannot rebuild the cache", cache.display()))?;
            open(cache)?
        }
        Err(err) => {
            return Err(err).with_context(|| format!("{}: cannot open the cache", cache.display()))
        }
    };
    // No fingerprint (a new cache, or one an older trawl wrote): built anew.
    let before: Option<Vec<SegmentPrint>> = store
        .setting(FINGERPRINT_KEY)?
        .and_then(|s| serde_json::from_str(&s).ok());
    if before.as_ref() == Some(&now) {
        return Ok(store);
    }
    // Segments that only grew are imported on top (the import is idempotent per segment);
    // anything else (a segment gone, shrunk, or made anew) means records the cache must drop.
    let grew_only = before.is_some_and(|before| {
        before.iter().all(|(name, salt, len)| {
            now.iter()
                .any(|(n, s, l)| n == name && s == salt && l >= len)
        })
    });
    if !grew_only {
        drop(store);
        std::fs::remove_file(cache)
            .with_context(|| format!("{}: cannot rebuild the cache", cache.display()))?;
        store = open(cache)?;
    }
    let bundle = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let total: u64 = now.iter().map(|(_, _, len)| len).sum();
    let bar = (std::io::stderr().is_terminal() && total > 8 << 20).then(|| {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_message("indexing");
        bar
    });
    // The cache is optimized once indexed, so the index's merges wait for that (1.13x faster
    // for 1M records; see `Store::bulk_load`).
    store.bulk_load(|store| {
        let mut done = 0;
        for (name, _, len) in &now {
            let path = dir.join(name);
            let file = std::fs::File::open(&path).with_context(|| format!("{}", path.display()))?;
            let report = store
                .import_segment(&bundle, name, file, ImportOptions::default(), &mut |p| {
                    if let Some(bar) = &bar {
                        bar.set_position(done + p.offset);
                    }
                    Flow::Continue
                })
                .with_context(|| format!("{}: cannot index", path.display()))?;
            for finding in &report.findings {
                eprintln!("trawl: {}: {finding}", dir.display());
            }
            done += len;
        }
        if let Some(bar) = &bar {
            bar.finish_and_clear();
        }
        anyhow::Ok(())
    })?;
    store.set_setting(FINGERPRINT_KEY, &serde_json::to_string(&now)?)?;
    Ok(store)
}

/// `c` itself, or its escape if `escape`.
fn either(escape: bool, c: char) -> Vec<char> {
    if escape {
        c.escape_default().collect()
    } else {
        vec![c]
    }
}

fn level_name(code: u8) -> &'static str {
    Level::from_code(code).map_or("none", Level::as_str)
}

fn text_line(row: &Row) -> String {
    let ts = row.ts_nanos.map(rfc3339).unwrap_or_else(|| "-".into());
    let level = row
        .level
        .and_then(Level::from_code)
        .map_or("-", Level::as_str)
        .to_uppercase();
    let service = row
        .service
        .as_deref()
        .map(|s| format!("[{s}] "))
        .unwrap_or_default();
    // One line per record: a multi-line message shows its first line. Log text is untrusted:
    // control characters are printed escaped, never sent to the terminal.
    let message: String = row
        .message
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .flat_map(|c| {
            let escaped = c.is_control() && c != '\t';
            either(escaped, c)
        })
        .collect();
    format!("{ts} {level:<5} {service}{message}")
}

/// `1 record`, `2 records`.
fn counted(n: u64) -> String {
    if n == 1 {
        "1 record".to_owned()
    } else {
        format!("{n} records")
    }
}
