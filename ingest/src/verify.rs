//! `trawl verify`: read every frame of every segment, report what is wrong.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use trawl_bundle::{fs::StdFs, segment_files, Finding, Item, SegmentReader};

use trawl_store::export::rfc3339;

/// Arguments of `trawl verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The bundle directory.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Default, Serialize)]
struct Report {
    bundle: String,
    segments: usize,
    sealed_segments: usize,
    records: u64,
    min_ts: Option<String>,
    max_ts: Option<String>,
    torn_tails: Vec<Finding>,
    bad_frames: Vec<Finding>,
    sequence_gaps: Vec<Finding>,
    other: Vec<Finding>,
    /// Segments that could not be read at all (not a segment, unreadable).
    unreadable: Vec<String>,
}

impl Report {
    fn ok(&self) -> bool {
        self.torn_tails.is_empty()
            && self.bad_frames.is_empty()
            && self.sequence_gaps.is_empty()
            && self.other.is_empty()
            && self.unreadable.is_empty()
    }
}

/// Runs `trawl verify`; returns whether the bundle is intact.
pub fn run(args: VerifyArgs) -> Result<bool> {
    let report = verify(&args.dir)?;
    if args.json {
        #[derive(Serialize)]
        struct Json<'a> {
            ok: bool,
            #[serde(flatten)]
            report: &'a Report,
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Json {
                ok: report.ok(),
                report: &report
            })?
        );
    } else {
        println!(
            "{}: {} segments ({} sealed), {} records",
            report.bundle, report.segments, report.sealed_segments, report.records
        );
        if let (Some(a), Some(b)) = (&report.min_ts, &report.max_ts) {
            println!("  time range {a} .. {b}");
        }
        for f in report
            .torn_tails
            .iter()
            .chain(&report.bad_frames)
            .chain(&report.sequence_gaps)
            .chain(&report.other)
        {
            println!("  {f}");
        }
        for u in &report.unreadable {
            println!("  {u}");
        }
        println!("{}", if report.ok() { "ok" } else { "PROBLEMS FOUND" });
    }
    Ok(report.ok())
}

fn verify(dir: &Path) -> Result<Report> {
    if !dir.is_dir() {
        anyhow::bail!("{}: not a directory", dir.display());
    }
    let names =
        segment_files(&StdFs, dir).with_context(|| format!("{}: cannot list", dir.display()))?;
    let mut report = Report {
        bundle: dir.display().to_string(),
        segments: names.len(),
        ..Report::default()
    };
    let (mut min_ts, mut max_ts) = (i64::MAX, i64::MIN);
    for name in names {
        let path = dir.join(&name);
        let file = match std::fs::File::open(&path) {
            Ok(f) => std::io::BufReader::with_capacity(1 << 20, f),
            Err(e) => {
                report.unreadable.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let mut reader = match SegmentReader::open(file, path.display().to_string()) {
            Ok(r) => r,
            Err(e) => {
                report.unreadable.push(e.to_string());
                continue;
            }
        };
        while let Some(item) = reader.next() {
            match item {
                Ok(Item::Records { records, .. }) => {
                    report.records += records.len() as u64;
                    for r in &records {
                        if let Some(ts) = r.ts_nanos {
                            min_ts = min_ts.min(ts);
                            max_ts = max_ts.max(ts);
                        }
                    }
                }
                Ok(Item::Finding(f)) => match f {
                    Finding::TornTail { .. } => report.torn_tails.push(f),
                    Finding::BadFrame { .. } => report.bad_frames.push(f),
                    Finding::SequenceGap { .. } => report.sequence_gaps.push(f),
                    Finding::DataAfterEnd { .. } => report.other.push(f),
                },
                Err(e) => report.unreadable.push(e.to_string()),
            }
        }
        match reader.finish() {
            Ok(end) if end.footer.is_some() => report.sealed_segments += 1,
            Ok(_) => {}
            Err(e) => report.unreadable.push(e.to_string()),
        }
    }
    if min_ts <= max_ts {
        report.min_ts = Some(rfc3339(min_ts));
        report.max_ts = Some(rfc3339(max_ts));
    }
    Ok(report)
}
