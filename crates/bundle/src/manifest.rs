//! The bundle manifest: `manifest.json`, a summary of the segments for people and importers.
//!
//! Segments are self-describing and authoritative; the manifest is a convenience written
//! atomically (temporary file, sync, rename, directory sync) whenever a segment is sealed or
//! removed. A reader that finds it missing or stale loses nothing.

use std::{io::Read, path::Path};

use serde::{Deserialize, Serialize};

use crate::{
    format::{Footer, SegmentHeader, FORMAT_VERSION},
    fs::Fs,
};

/// File name of the manifest inside a bundle directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a bundle holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Segment format version.
    pub format_version: u16,
    /// The writer that produced the bundle, 32 hex digits.
    pub writer_id: String,
    /// Records in all segments listed.
    pub record_count: u64,
    /// Earliest and latest record time over all segments (nanoseconds since the epoch, UTC).
    pub min_ts_nanos: Option<i64>,
    pub max_ts_nanos: Option<i64>,
    /// The segments, in sequence order.
    pub segments: Vec<SegmentEntry>,
}

/// One segment in the manifest. `(writer_id, segment_seq, salt)` identifies a segment: an
/// importer that has seen it can skip it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    pub file: String,
    pub segment_seq: u64,
    /// The segment's salt, 16 hex digits.
    pub salt: String,
    pub first_seq: u64,
    pub record_count: u64,
    pub bytes: u64,
    /// When the segment was created (nanoseconds since the epoch, from its header).
    pub created_nanos: i64,
    /// Whether the segment ends with a footer (else it is the live segment).
    pub sealed: bool,
    pub min_ts_nanos: Option<i64>,
    pub max_ts_nanos: Option<i64>,
    /// Records per level: trace, debug, info, warn, error, fatal, none.
    pub level_counts: [u64; 7],
    /// CRC32C (Castagnoli) of the whole file, 8 hex digits, for sealed segments.
    pub crc32c: Option<String>,
}

impl SegmentEntry {
    /// The entry for a segment with this header and footer (its record statistics).
    pub fn new(
        file: String,
        header: &SegmentHeader,
        footer: &Footer,
        bytes: u64,
        sealed: bool,
    ) -> Self {
        Self {
            file,
            segment_seq: header.segment_seq,
            salt: format!("{:016x}", header.salt),
            first_seq: footer.first_seq,
            record_count: footer.record_count,
            bytes,
            created_nanos: header.created_nanos,
            sealed,
            min_ts_nanos: footer.min_ts_nanos,
            max_ts_nanos: footer.max_ts_nanos,
            level_counts: footer.level_counts,
            crc32c: None,
        }
    }
}

impl Manifest {
    /// The manifest of `segments`.
    pub fn new(writer_id: String, segments: Vec<SegmentEntry>) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            writer_id,
            record_count: segments.iter().map(|s| s.record_count).sum(),
            min_ts_nanos: segments.iter().filter_map(|s| s.min_ts_nanos).min(),
            max_ts_nanos: segments.iter().filter_map(|s| s.max_ts_nanos).max(),
            segments,
        }
    }

    /// Reads `dir/manifest.json`.
    pub fn read(fs: &dyn Fs, dir: &Path) -> std::io::Result<Self> {
        let mut text = String::new();
        fs.open_read(&dir.join(MANIFEST_FILE))?
            .read_to_string(&mut text)?;
        serde_json::from_str(&text).map_err(std::io::Error::other)
    }

    /// Writes `dir/manifest.json` atomically and durably.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn write(&self, fs: &dyn Fs, dir: &Path) -> std::io::Result<()> {
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        let _ = fs.remove_file(&tmp);
        let mut file = fs.create_new(&tmp)?;
        let mut text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        text.push(b'\n');
        file.append(&text)?;
        file.sync_data()?;
        drop(file);
        fs.rename(&tmp, &dir.join(MANIFEST_FILE))?;
        fs.sync_dir(dir)
    }
}

/// CRC32C of a whole file, read in chunks.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn file_crc32c(fs: &dyn Fs, path: &Path) -> std::io::Result<u32> {
    let mut src = fs.open_read(path)?;
    let mut buf = vec![0u8; 256 << 10];
    let mut crc = 0u32;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            return Ok(crc);
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
    }
}
