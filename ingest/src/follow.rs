//! `trawl follow`: growing files into a bundle, surviving rotation, copytruncate and restarts.
//!
//! Each poll reads the complete new lines of every file, parses them, appends the records,
//! syncs, and then writes `follow.json` in the bundle (atomically: temporary file, fsync,
//! rename, directory fsync): for each file its identity (device, inode), the byte offset and
//! line number up to which its records are durable, and the writer's durable sequence.
//! A record still waiting for continuation lines is not durable yet: the checkpoint stays at
//! its first line, so a restart reads it again.
//!
//! On restart the writer recovers first. Records can be durable beyond the checkpoint (a kill
//! between the sync and the checkpoint, or a rotation's seal): those are read back from the
//! bundle, and each file resumes after the last line they cover. So no line is lost and none
//! is written twice. Rotation by rename is seen as a new inode at the path: the old file is
//! read to its end through the open handle first. Copytruncate is seen as the file shrinking
//! below the offset: reading starts again at 0.

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufRead, BufReader, Read, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use trawl_bundle::{
    segment_files, Durability, Item, Options as WriterOptions, Record, SegmentReader, Writer,
};
use trawl_parse::{sniff::sniff, Parser, TimeContext};

use crate::ingest::RecordDefaults;

/// The checkpoint file in the bundle.
const CHECKPOINT: &str = "follow.json";

/// Arguments of `trawl follow`.
#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    /// The bundle directory to write.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    defaults: RecordDefaults,
    /// How often to look for new lines, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    poll_ms: u64,
    /// A record that may still take continuation lines (a stack trace) is written once its
    /// file has been idle this long, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    idle_flush_ms: u64,
    /// The files to follow.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Position {
    dev: u64,
    ino: u64,
    /// Byte offset of the first line not yet durable.
    offset: u64,
    /// Its line number minus one (lines before it).
    line: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoint {
    /// The writer's durable sequence when the checkpoint was written.
    seq: u64,
    files: BTreeMap<String, Position>,
}

/// One followed file.
struct Followed {
    path: PathBuf,
    name: String,
    file: Option<BufReader<File>>,
    dev: u64,
    ino: u64,
    /// Offset and line count of what was read so far.
    offset: u64,
    line: u64,
    /// Offsets of lines read since the last checkpoint: (line number, offset of its start).
    recent: Vec<(u64, u64)>,
    parser: Option<Parser>,
    /// Bytes of an incomplete last line, read but not yet parsed.
    partial: Vec<u8>,
    /// When the last complete line was read.
    last_line_at: std::time::Instant,
}

/// Runs `trawl follow` until SIGINT or SIGTERM.
pub fn run(args: FollowArgs) -> Result<bool> {
    let ctx = args.defaults.time_context()?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handlers")?;
    }
    let options = WriterOptions::with_durability(Durability::Manual);
    let (writer, _) = Writer::open(&args.out, options)
        .with_context(|| format!("opening the bundle {}", args.out.display()))?;
    let checkpoint = read_checkpoint(&args.out)?;
    let resume = lines_after(&args.out, checkpoint.seq)?;

    let mut files = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let mut f = Followed {
            path: path.clone(),
            name: name.clone(),
            file: None,
            dev: 0,
            ino: 0,
            offset: 0,
            line: 0,
            recent: Vec::new(),
            parser: None,
            partial: Vec::new(),
            last_line_at: std::time::Instant::now(),
        };
        if let Ok(file) = File::open(path) {
            let meta = file.metadata()?;
            f.dev = meta.dev();
            f.ino = meta.ino();
            let mut reader = BufReader::with_capacity(1 << 20, file);
            if let Some(pos) = checkpoint
                .files
                .get(&name)
                .filter(|p| p.dev == f.dev && p.ino == f.ino && p.offset <= meta.len())
            {
                reader.seek(SeekFrom::Start(pos.offset))?;
                f.offset = pos.offset;
                f.line = pos.line;
            }
            // Skip lines already durable beyond the checkpoint.
            if let Some(&end) = resume.get(&name) {
                let mut skip = Vec::new();
                while f.line < end {
                    skip.clear();
                    let n = reader.read_until(b'\n', &mut skip)?;
                    if n == 0 || skip.last() != Some(&b'\n') {
                        break;
                    }
                    f.offset += n as u64;
                    f.line += 1;
                }
            }
            f.file = Some(reader);
        }
        files.push(f);
    }

    let poll = Duration::from_millis(args.poll_ms.max(10));
    let mut batch = Vec::new();
    loop {
        let stopping = stop.load(std::sync::atomic::Ordering::Relaxed);
        let mut wrote = false;
        for f in &mut files {
            batch.clear();
            poll_file(f, &args, &ctx, &mut batch)?;
            if !batch.is_empty() {
                writer
                    .append_all(&batch)
                    .with_context(|| format!("{}: writing the bundle", f.name))?;
                wrote = true;
            }
        }
        if wrote {
            let seq = writer.sync().context("syncing the bundle")?;
            write_checkpoint(&args.out, seq, &mut files)?;
        }
        if stopping {
            break;
        }
        std::thread::sleep(poll);
    }
    // Pending multi-line records stay unwritten: the checkpoint points at their first line,
    // so the next run emits them whole.
    writer.close().context("closing the bundle")?;
    Ok(true)
}

/// Reads the new complete lines of `f` (handling rotation and truncation) into `out`.
fn poll_file(
    f: &mut Followed,
    args: &FollowArgs,
    ctx: &TimeContext,
    out: &mut Vec<Record>,
) -> Result<()> {
    let meta = std::fs::metadata(&f.path).ok();
    let rotated = meta
        .as_ref()
        .is_some_and(|m| f.file.is_some() && (m.dev() != f.dev || m.ino() != f.ino));
    if f.file.is_some() {
        read_lines(f, args, ctx, out)?;
        let idle = f.last_line_at.elapsed() >= Duration::from_millis(args.idle_flush_ms);
        if let Some(parser) = f
            .parser
            .as_mut()
            .filter(|p| idle && p.pending_line().is_some())
        {
            parser.finish(out);
        }
    }
    if rotated {
        // The old file is read to its end; finish its last record and start the new one.
        finish(f, out);
        f.file = None;
    } else if let (Some(m), true) = (&meta, f.file.is_some()) {
        if m.len() < f.offset {
            // Copytruncate: the file was copied away and cut; start again at its beginning.
            finish(f, out);
            f.file = None;
        }
    }
    if f.file.is_none() {
        if let Ok(file) = File::open(&f.path) {
            let m = file.metadata()?;
            f.dev = m.dev();
            f.ino = m.ino();
            f.offset = 0;
            f.line = 0;
            f.recent.clear();
            f.partial.clear();
            f.parser = None;
            f.file = Some(BufReader::with_capacity(1 << 20, file));
            read_lines(f, args, ctx, out)?;
        }
    }
    Ok(())
}

fn finish(f: &mut Followed, out: &mut Vec<Record>) {
    if let Some(parser) = &mut f.parser {
        if !f.partial.is_empty() {
            // A last line without its newline: the file will not grow any more.
            f.line += 1;
            let partial = std::mem::take(&mut f.partial);
            parser.line(&partial, f.line, out);
        }
        parser.finish(out);
    }
}

fn read_lines(
    f: &mut Followed,
    args: &FollowArgs,
    ctx: &TimeContext,
    out: &mut Vec<Record>,
) -> Result<()> {
    let Some(reader) = f.file.as_mut() else {
        return Ok(());
    };
    let mut new = Vec::new();
    reader
        .read_to_end(&mut new)
        .with_context(|| format!("{}: read error", f.name))?;
    if new.is_empty() {
        return Ok(());
    }
    f.partial.extend_from_slice(&new);
    let Some(last_newline) = f.partial.iter().rposition(|&b| b == b'\n') else {
        return Ok(());
    };
    let complete: Vec<u8> = f.partial.drain(..=last_newline).collect();
    let lines: Vec<&[u8]> = complete[..complete.len() - 1]
        .split(|&b| b == b'\n')
        .collect();
    if f.parser.is_none() {
        let format = sniff(lines.iter().copied(), ctx);
        f.parser = Some(Parser::new(
            format,
            args.defaults.parse_options(ctx, &f.name),
        ));
    }
    let parser = f.parser.as_mut().expect("set above");
    f.last_line_at = std::time::Instant::now();
    for line in lines {
        f.line += 1;
        f.recent.push((f.line, f.offset));
        f.offset += line.len() as u64 + 1;
        parser.line(line, f.line, out);
    }
    Ok(())
}

/// Writes the checkpoint for durable sequence `seq`: each file's first line not yet emitted.
fn write_checkpoint(dir: &Path, seq: u64, files: &mut [Followed]) -> Result<()> {
    let mut checkpoint = Checkpoint {
        seq,
        files: BTreeMap::new(),
    };
    for f in files.iter_mut() {
        let pending = f.parser.as_ref().and_then(Parser::pending_line);
        let (line, offset) = match pending.and_then(|l| f.recent.iter().find(|(n, _)| *n == l)) {
            Some(&(n, offset)) => (n - 1, offset),
            None => (f.line, f.offset),
        };
        f.recent.retain(|(n, _)| *n > line);
        checkpoint.files.insert(
            f.name.clone(),
            Position {
                dev: f.dev,
                ino: f.ino,
                offset,
                line,
            },
        );
    }
    let tmp = dir.join(format!("{CHECKPOINT}.tmp"));
    {
        use std::io::Write;
        let mut file = File::create(&tmp)?;
        file.write_all(&serde_json::to_vec_pretty(&checkpoint)?)?;
        file.sync_data()?;
    }
    std::fs::rename(&tmp, dir.join(CHECKPOINT))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn read_checkpoint(dir: &Path) -> Result<Checkpoint> {
    match std::fs::read(dir.join(CHECKPOINT)) {
        Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: not a follow checkpoint",
                dir.join(CHECKPOINT).display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Checkpoint::default()),
        Err(e) => Err(e).with_context(|| format!("{}", dir.join(CHECKPOINT).display())),
    }
}

/// For records durable after sequence `after`: per source, the last line they cover.
fn lines_after(dir: &Path, after: u64) -> Result<BTreeMap<String, u64>> {
    let mut ends = BTreeMap::new();
    for name in segment_files(&trawl_bundle::fs::StdFs, dir)? {
        let path = dir.join(&name);
        let reader = BufReader::new(File::open(&path)?);
        let mut segment = SegmentReader::open(reader, &name)?;
        while let Some(item) = segment.next() {
            if let Item::Records {
                first_seq, records, ..
            } = item?
            {
                for (i, r) in records.iter().enumerate() {
                    if first_seq + i as u64 <= after {
                        continue;
                    }
                    if let (Some(source), Some(line)) = (&r.source, r.line) {
                        let lines = r.raw.as_ref().map_or(1, |raw| {
                            raw.iter().filter(|&&b| b == b'\n').count() as u64 + 1
                        });
                        let end = ends.entry(source.clone()).or_insert(0);
                        *end = (*end).max(line + lines - 1);
                    }
                }
            }
        }
    }
    Ok(ends)
}
