//! Opening a bundle directory for writing: validate what is there, repair a torn tail.
//!
//! Every segment but the last must be sealed and valid: anything else is a loud error, never
//! skipped. The last segment may be live: its tail is untrusted, so it is cut at the end of
//! the last valid frame and the cut is synced. If valid frames followed the first bad one
//! (corruption rather than a torn write), the cut bytes are first saved beside the segment as
//! `NAME.broken-OFFSET`, so nothing is destroyed. Temporary files are removed: they were never
//! acknowledged. Recovery is idempotent: running it again, also after a crash during it,
//! gives the same result.

use std::path::{Path, PathBuf};

use crate::{
    format::{parse_segment_file_name, Footer, SegmentHeader, WriterId},
    fs::Fs,
    manifest::{SegmentEntry, MANIFEST_FILE},
    reader::{Finding, Item, ReadError, SegmentReader},
    WriterError,
};

/// What recovery found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segments found.
    pub segments: usize,
    /// Records recovered (the highest sequence number; 0 for none).
    pub last_seq: u64,
    /// Where the live segment was cut, if it was.
    pub truncated: Option<Truncation>,
    /// Temporary files removed.
    pub removed: Vec<String>,
    /// Problems found in the live segment's tail.
    pub findings: Vec<Finding>,
}

/// A cut of the live segment's tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truncation {
    pub file: String,
    /// The new length of the file.
    pub offset: u64,
    /// Bytes removed.
    pub bytes: u64,
    /// Where the removed bytes were kept, if valid frames were among them.
    pub kept_as: Option<String>,
}

/// The live segment to continue.
#[derive(Debug)]
pub(crate) struct Live {
    pub(crate) path: PathBuf,
    pub(crate) header: SegmentHeader,
    pub(crate) len: u64,
    pub(crate) footer: Footer,
}

/// A recovered directory.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) report: RecoveryReport,
    pub(crate) writer_id: Option<WriterId>,
    /// Sealed segments, in order.
    pub(crate) sealed: Vec<SegmentEntry>,
    pub(crate) live: Option<Live>,
    pub(crate) next_seq: u64,
    pub(crate) next_segment_seq: u64,
}

fn io(path: &Path, source: std::io::Error) -> WriterError {
    WriterError::Io {
        path: path.to_owned(),
        source,
    }
}

fn corrupt(file: &str, offset: u64, reason: impl Into<String>) -> WriterError {
    WriterError::Corrupt {
        file: file.to_owned(),
        offset,
        reason: reason.into(),
    }
}

struct Scanned {
    header: SegmentHeader,
    footer: Footer,
    sealed: bool,
    /// A complete footer and trailer were found (whether or not the rest is valid).
    has_footer: bool,
    prefix_len: u64,
    file_len: u64,
    findings: Vec<Finding>,
    /// Whether valid frames follow the first finding.
    valid_after_finding: bool,
}

fn scan(fs: &dyn Fs, path: &Path, name: &str) -> Result<Scanned, WriterError> {
    let src = fs.open_read(path).map_err(|e| io(path, e))?;
    let mut reader = SegmentReader::open(src, name).map_err(|e| match e {
        ReadError::Header { source, .. } => corrupt(name, 0, source.to_string()),
        ReadError::Io { source, .. } => io(path, source),
    })?;
    let header = *reader.header();
    let mut footer = Footer {
        first_seq: header.first_record_seq,
        ..Footer::default()
    };
    let mut findings = Vec::new();
    let mut valid_after_finding = false;
    while let Some(item) = reader.next() {
        match item.map_err(|e| match e {
            ReadError::Io { source, .. } => io(path, source),
            other => corrupt(name, 0, other.to_string()),
        })? {
            Item::Records { records, .. } => {
                if findings.is_empty() {
                    for r in &records {
                        footer.add(r.ts_nanos, r.level);
                    }
                } else {
                    valid_after_finding = true;
                }
            }
            Item::Finding(finding) => findings.push(finding),
        }
    }
    let end = reader.finish().map_err(|e| match e {
        ReadError::Io { source, .. } => io(path, source),
        other => corrupt(name, 0, other.to_string()),
    })?;
    Ok(Scanned {
        header,
        sealed: end.footer.is_some() && findings.is_empty(),
        has_footer: end.footer.is_some(),
        footer: end.footer.unwrap_or(footer),
        prefix_len: end.prefix_len,
        file_len: end.file_len,
        findings,
        valid_after_finding,
    })
}

/// Validates and repairs `dir` (which must exist and be locked by the caller).
pub(crate) fn recover(fs: &dyn Fs, dir: &Path) -> Result<Recovered, WriterError> {
    let mut report = RecoveryReport::default();
    let mut names = fs.list(dir).map_err(|e| io(dir, e))?;
    names.sort();

    // Temporary files were never acknowledged: remove them (and make that durable).
    let temps: Vec<String> = names
        .iter()
        .filter(|n| n.ends_with(".seg.tmp") || **n == format!("{MANIFEST_FILE}.tmp"))
        .cloned()
        .collect();
    for name in &temps {
        let path = dir.join(name);
        fs.remove_file(&path).map_err(|e| io(&path, e))?;
    }
    if !temps.is_empty() {
        fs.sync_dir(dir).map_err(|e| io(dir, e))?;
    }
    report.removed = temps;

    let segments: Vec<(u64, String)> = names
        .iter()
        .filter_map(|n| parse_segment_file_name(n).map(|seq| (seq, n.clone())))
        .collect();
    report.segments = segments.len();

    let mut sealed = Vec::new();
    let mut live = None;
    let mut writer_id = None;
    // Retention deletes from the front: the first segment present says where records start.
    let mut next_seq = None;
    let mut expected_segment = segments.first().map(|(seq, _)| *seq);
    for (i, (segment_seq, name)) in segments.iter().enumerate() {
        let path = dir.join(name);
        let last = i + 1 == segments.len();
        if Some(*segment_seq) != expected_segment {
            return Err(corrupt(
                name,
                0,
                format!(
                    "segment {} is missing before it",
                    expected_segment.unwrap_or(0)
                ),
            ));
        }
        expected_segment = Some(segment_seq + 1);
        let scanned = scan(fs, &path, name)?;
        let h = scanned.header;
        if h.segment_seq != *segment_seq {
            return Err(corrupt(
                name,
                0,
                format!("header says segment {}", h.segment_seq),
            ));
        }
        if *writer_id.get_or_insert(h.writer_id) != h.writer_id {
            return Err(corrupt(
                name,
                0,
                format!("written by another writer ({})", h.writer_id),
            ));
        }
        let expected_seq = *next_seq.get_or_insert(h.first_record_seq);
        if h.first_record_seq != expected_seq {
            return Err(corrupt(
                name,
                0,
                format!(
                    "starts at record {}, but {expected_seq} was next",
                    h.first_record_seq
                ),
            ));
        }
        if scanned.has_footer && !scanned.sealed {
            let first = &scanned.findings[0];
            return Err(corrupt(
                name,
                first.offset(),
                format!("sealed segment is damaged: {first}"),
            ));
        }
        if scanned.sealed {
            next_seq = Some(h.first_record_seq + scanned.footer.record_count);
            sealed.push(SegmentEntry::new(
                name.clone(),
                &h,
                &scanned.footer,
                scanned.file_len,
                true,
            ));
            continue;
        }
        if !last {
            let reason = scanned.findings.first().map_or_else(
                || "not sealed, but a later segment exists".to_owned(),
                |f| f.to_string(),
            );
            let offset = scanned
                .findings
                .first()
                .map_or(scanned.prefix_len, Finding::offset);
            return Err(corrupt(name, offset, reason));
        }

        // The live segment: keep its valid prefix.
        if scanned.prefix_len < scanned.file_len {
            let bytes = scanned.file_len - scanned.prefix_len;
            let kept_as = if scanned.valid_after_finding {
                Some(keep_tail(fs, dir, name, &path, scanned.prefix_len)?)
            } else {
                None
            };
            let mut file = fs.open_append(&path).map_err(|e| io(&path, e))?;
            file.truncate(scanned.prefix_len)
                .map_err(|e| io(&path, e))?;
            file.sync_data().map_err(|e| io(&path, e))?;
            report.truncated = Some(Truncation {
                file: name.clone(),
                offset: scanned.prefix_len,
                bytes,
                kept_as,
            });
        }
        report.findings = scanned.findings;
        next_seq = Some(h.first_record_seq + scanned.footer.record_count);
        live = Some(Live {
            path,
            header: h,
            len: scanned.prefix_len,
            footer: scanned.footer,
        });
    }
    let next_seq = next_seq.unwrap_or(1);
    report.last_seq = next_seq - 1;
    Ok(Recovered {
        report,
        writer_id,
        sealed,
        live,
        next_seq,
        next_segment_seq: expected_segment.unwrap_or(1),
    })
}

/// Copies the bytes of `path` from `offset` on to `NAME.broken-OFFSET`, durably.
fn keep_tail(
    fs: &dyn Fs,
    dir: &Path,
    name: &str,
    path: &Path,
    offset: u64,
) -> Result<String, WriterError> {
    use std::io::Read;
    let mut data = Vec::new();
    fs.open_read(path)
        .and_then(|mut r| r.read_to_end(&mut data))
        .map_err(|e| io(path, e))?;
    let kept = format!("{name}.broken-{offset}");
    let kept_path = dir.join(&kept);
    let _ = fs.remove_file(&kept_path);
    let mut file = fs.create_new(&kept_path).map_err(|e| io(&kept_path, e))?;
    file.append(&data[offset as usize..])
        .map_err(|e| io(&kept_path, e))?;
    file.sync_data().map_err(|e| io(&kept_path, e))?;
    fs.sync_dir(dir).map_err(|e| io(dir, e))?;
    Ok(kept)
}
