//! `trawl ingest`: logs in, one bundle out, through the durable writer.

use std::{
    collections::BTreeMap,
    io::{BufRead, IsTerminal},
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};
use trawl_bundle::{Durability, Options as WriterOptions, Record, Writer};
use trawl_parse::{sniff::sniff, Format, Options, Parser, TimeContext};
use trawl_store::export::rfc3339;

use crate::input::{binary_at, expand, Input};

/// Arguments of `trawl ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// The bundle directory to write (created if missing; appended to if it is a bundle).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The inputs' format; `auto` decides per file from its first lines.
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    format: FormatChoice,
    #[command(flatten)]
    defaults: RecordDefaults,
    /// Files, directories (recursive; binary files found in them are skipped), .gz files, or -
    /// for stdin.
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<String>,
}

/// `--format`: decided per file, or forced.
#[derive(Debug, Clone, Copy)]
enum FormatChoice {
    Auto,
    Forced(Format),
}

/// What records get when their logs leave it out; shared by `ingest` and `follow`.
#[derive(Debug, clap::Args)]
pub struct RecordDefaults {
    /// Time zone of timestamps without an offset (IANA name, e.g. Europe/Berlin).
    #[arg(long, value_name = "ZONE", default_value = "UTC")]
    tz: String,
    /// Year of timestamps without one (syslog, Android); default: the current year.
    #[arg(long, value_name = "YYYY")]
    year: Option<i16>,
    /// Service of records that name none.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Host of records that name none.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
}

impl RecordDefaults {
    /// The time context of `--tz` and `--year`.
    pub fn time_context(&self) -> Result<TimeContext> {
        time_context(&self.tz, self.year)
    }

    /// Parser options for the input named `source`.
    pub fn parse_options(&self, time: &TimeContext, source: &str) -> Options {
        Options {
            time: time.clone(),
            service: self.service.clone(),
            host: self.host.clone(),
            source: source.to_owned(),
        }
    }
}

fn parse_format(s: &str) -> Result<FormatChoice, String> {
    if s == "auto" {
        Ok(FormatChoice::Auto)
    } else {
        s.parse().map(FormatChoice::Forced)
    }
}

/// Builds the time context of `--tz` and `--year`.
fn time_context(tz: &str, year: Option<i16>) -> Result<TimeContext> {
    let zone = jiff::tz::TimeZone::get(tz).with_context(|| {
        format!("--tz {tz}: unknown time zone (expected an IANA name like UTC or Europe/Berlin)")
    })?;
    // Without --year, year-less times get this year, or the last one if that would put them
    // more than a day in the future.
    let now = jiff::Timestamp::now();
    let latest = (year.is_none()).then(|| now.as_nanosecond() as i64 + 86_400_000_000_000);
    let year = year.unwrap_or_else(|| now.to_zoned(zone.clone()).year());
    Ok(TimeContext {
        tz: zone,
        year,
        latest,
    })
}

/// What one input produced.
struct InputSummary {
    name: String,
    format: Format,
    stats: trawl_parse::Stats,
}

/// Records are appended in groups of this many.
const BATCH: usize = 2048;

/// Runs `trawl ingest`. Returns whether every input could be read.
pub fn run(args: IngestArgs) -> Result<bool> {
    let ctx = args.defaults.time_context()?;
    let inputs = expand(&args.inputs)?;
    if inputs.is_empty() {
        bail!("no input files found in {}", args.inputs.join(" "));
    }
    let options = WriterOptions::with_durability(Durability::Bytes(16 << 20));
    let (writer, recovered) = Writer::open(&args.out, options)
        .with_context(|| format!("opening the bundle {}", args.out.display()))?;
    let first_seq = recovered.last_seq + 1;

    let total: u64 = inputs.iter().filter_map(Input::size).sum();
    let read = Arc::new(AtomicU64::new(0));
    let progress = progress_bar(total);
    let started = Instant::now();
    let mut summaries = Vec::new();
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    let mut decoded_bytes = 0u64;
    for input in &inputs {
        let name = input.name();
        if let Some(bar) = &progress {
            bar.set_message(name.clone());
        }
        let counter = {
            let read = read.clone();
            let bar = progress.clone();
            move |n: usize| {
                let now = read.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
                if let Some(bar) = &bar {
                    bar.set_position(now);
                }
            }
        };
        let result = ingest_one(
            input,
            &name,
            &args,
            &ctx,
            &writer,
            counter,
            &mut |r: &Record| {
                if let Some(ts) = r.ts_nanos {
                    min_ts = min_ts.min(ts);
                    max_ts = max_ts.max(ts);
                }
            },
        );
        match result {
            Ok(Outcome::Ingested(summary, bytes)) => {
                decoded_bytes += bytes;
                summaries.push(summary);
            }
            Ok(Outcome::Binary { nul_at }) => skipped.push((name, nul_at)),
            Err(err) => failures.push(format!("{err:#}")),
        }
    }
    let closed = writer.close().context("closing the bundle")?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);

    // The summary.
    let records = closed.last_seq + 1 - first_seq;
    let mut per_format: BTreeMap<Format, (u64, u64)> = BTreeMap::new();
    for s in &summaries {
        let entry = per_format.entry(s.format).or_default();
        entry.0 += s.stats.records;
        entry.1 += 1;
    }
    eprintln!(
        "trawl: ingested {records} records from {} inputs into {}",
        summaries.len(),
        args.out.display()
    );
    for (format, (n, files)) in &per_format {
        eprintln!("  {format:<9} {n:>10} records from {files} input(s)");
    }
    let unparsed: u64 = summaries.iter().map(|s| s.stats.unparsed).sum();
    if unparsed > 0 {
        eprintln!("  {unparsed} lines did not parse and were kept as raw text:");
        let mut shown = 0;
        for s in summaries.iter().filter(|s| s.stats.unparsed > 0) {
            eprintln!("    {}: {} lines ({})", s.name, s.stats.unparsed, s.format);
            for (line, reason) in s
                .stats
                .first_unparsed
                .iter()
                .take(if shown < 10 { 2 } else { 0 })
            {
                eprintln!("      line {line}: {reason}");
                shown += 1;
            }
        }
    }
    if min_ts <= max_ts {
        eprintln!("  time range {} .. {}", rfc3339(min_ts), rfc3339(max_ts));
    }
    eprintln!(
        "  {:.1} MB in {secs:.2} s: {:.1} MB/s, {:.0} records/s",
        decoded_bytes as f64 / 1e6,
        decoded_bytes as f64 / 1e6 / secs,
        records as f64 / secs
    );
    if !skipped.is_empty() {
        let files = if skipped.len() == 1 { "file" } else { "files" };
        eprintln!(
            "  skipped {} binary {files} found in the directories (name a file to ingest it \
             anyway):",
            skipped.len()
        );
        for (name, nul_at) in &skipped {
            eprintln!("    {name}: a NUL byte at offset {nul_at}");
        }
        if skipped
            .iter()
            .any(|(name, _)| name.ends_with(".journal") || name.ends_with(".journal~"))
        {
            eprintln!("    (for journald's files: journalctl --file FILE -o json > FILE.json)");
        }
    }
    for failure in &failures {
        eprintln!("trawl: error: {failure}");
    }
    Ok(failures.is_empty())
}

/// What [`ingest_one`] made of an input.
enum Outcome {
    /// Its records are in the bundle: what they were, and the bytes read.
    Ingested(InputSummary, u64),
    /// A file found in a directory that holds binary data ([`binary_at`]): nothing was read
    /// into the bundle.
    Binary { nul_at: usize },
}

#[allow(clippy::too_many_arguments)]
fn ingest_one(
    input: &Input,
    name: &str,
    args: &IngestArgs,
    ctx: &TimeContext,
    writer: &Writer,
    counter: impl FnMut(usize) + Send + 'static,
    seen: &mut dyn FnMut(&Record),
) -> Result<Outcome> {
    let mut reader = input.open(counter)?;
    if let Input::Found(_) = input {
        let head = reader
            .fill_buf()
            .with_context(|| format!("{name}: read error"))?;
        if let Some(nul_at) = binary_at(head) {
            return Ok(Outcome::Binary { nul_at });
        }
    }
    // Lines are read as bytes: invalid UTF-8 stays in `raw`, exactly.
    let mut head: Vec<Vec<u8>> = Vec::new();
    let mut line = Vec::new();
    let mut bytes = 0u64;
    let read_line = |reader: &mut Box<dyn BufRead + Send>, line: &mut Vec<u8>| -> Result<bool> {
        line.clear();
        let n = reader
            .read_until(b'\n', line)
            .with_context(|| format!("{name}: read error"))?;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        Ok(n > 0)
    };
    let format = match args.format {
        FormatChoice::Forced(format) => format,
        FormatChoice::Auto => {
            while head.len() < trawl_parse::sniff::SNIFF_LINES && read_line(&mut reader, &mut line)?
            {
                head.push(line.clone());
            }
            sniff(head.iter().map(Vec::as_slice), ctx)
        }
    };
    let mut parser = Parser::new(format, args.defaults.parse_options(ctx, name));
    let mut batch = Vec::with_capacity(BATCH);
    let mut line_no = 0u64;
    let flush = |batch: &mut Vec<Record>, seen: &mut dyn FnMut(&Record)| -> Result<()> {
        for r in batch.iter() {
            seen(r);
        }
        writer
            .append_all(batch)
            .with_context(|| format!("{name}: writing the bundle"))?;
        batch.clear();
        Ok(())
    };
    for l in head.drain(..) {
        line_no += 1;
        bytes += l.len() as u64 + 1;
        parser.line(&l, line_no, &mut batch);
    }
    while read_line(&mut reader, &mut line)? {
        line_no += 1;
        bytes += line.len() as u64 + 1;
        parser.line(&line, line_no, &mut batch);
        if batch.len() >= BATCH {
            flush(&mut batch, seen)?;
        }
    }
    parser.finish(&mut batch);
    flush(&mut batch, seen)?;
    Ok(Outcome::Ingested(
        InputSummary {
            name: name.to_owned(),
            format,
            stats: parser.stats().clone(),
        },
        bytes,
    ))
}

fn progress_bar(total: u64) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta} {wide_msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}
