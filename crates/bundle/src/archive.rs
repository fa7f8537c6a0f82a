//! A bundle directory as one tar file: how a bundle travels as a single file (the viewer's
//! bundle export, a download, an attachment) and comes back (dropped on the viewer, or
//! unpacked with `tar -xf` into a directory that `trawl verify` and `trawl query` read).
//!
//! The archive holds one directory, named after the bundle, with the bundle's files in it:
//! plain ustar entries, so every tar reads it. Nothing but the archive's own bytes is read
//! or written (no file metadata, no disk): the same code runs in the browser.

use std::io::{self, Read, Seek, Write};

use crate::format::parse_segment_file_name;

/// The file name extension of a bundle archive.
pub const EXTENSION: &str = ".tar";

/// Writes a bundle archive to `W`, a file at a time.
pub struct ArchiveWriter<W: Write> {
    builder: tar::Builder<W>,
    dir: String,
    mtime: u64,
}

impl<W: Write> ArchiveWriter<W> {
    /// An archive of bundle directory `dir` written to `out`; its entries carry modification
    /// time `mtime` (seconds since the Unix epoch). `dir` is made a single path component
    /// that stays inside wherever the archive is unpacked (slashes become `_`; an empty
    /// name, `.` or `..` becomes `bundle`).
    pub fn new(out: W, dir: &str, mtime: u64) -> Self {
        Self {
            builder: tar::Builder::new(out),
            dir: match dir.replace(['/', '\\'], "_") {
                dir if dir.is_empty() || dir == "." || dir == ".." => "bundle".to_owned(),
                dir => dir,
            },
            mtime,
        }
    }

    /// Adds file `name` of the bundle directory, holding `bytes`.
    pub fn add(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(self.mtime);
        header.set_entry_type(tar::EntryType::Regular);
        let path = format!("{}/{name}", self.dir);
        self.builder.append_data(&mut header, path, bytes)
    }

    /// What was written so far goes to this writer: take it from here to hand the archive
    /// on a piece at a time.
    pub fn get_mut(&mut self) -> &mut W {
        self.builder.get_mut()
    }

    /// Ends the archive (two zero blocks) and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }
}

/// A segment file inside a bundle archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedSegment {
    /// The bundle directory it is in.
    pub dir: String,
    /// Its file name, like `00000000000000000001.seg`.
    pub name: String,
    /// Where its bytes start in the archive, and how many there are.
    pub offset: u64,
    pub size: u64,
}

/// The segment files of the bundle archive read from `archive`, in archive order, found by
/// reading each entry's header and seeking over its data (so listing a large archive reads
/// a few kilobytes). Other entries (the manifest, directories) are left out. An error names
/// what is wrong: not a tar file, or a damaged header.
pub fn segments<R: Read + Seek>(archive: R) -> io::Result<Vec<ArchivedSegment>> {
    let mut archive = tar::Archive::new(archive);
    let mut found = Vec::new();
    for entry in archive.entries_with_seek()? {
        let entry = entry?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
        if parse_segment_file_name(name).is_none() {
            continue;
        }
        found.push(ArchivedSegment {
            dir: dir.rsplit('/').next().unwrap_or_default().to_owned(),
            name: name.to_owned(),
            offset: entry.raw_file_position(),
            size: entry.size(),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn an_archive_lists_its_segments_where_their_bytes_are() {
        let mut writer = ArchiveWriter::new(Vec::new(), "ssh", 1_700_000_000);
        writer.add("00000000000000000001.seg", b"first").unwrap();
        writer.add("manifest.json", b"{}").unwrap();
        writer
            .add("00000000000000000002.seg", &vec![7u8; 1000])
            .unwrap();
        let bytes = writer.finish().unwrap();
        assert_eq!(bytes.len() % 512, 0);
        let listed = segments(Cursor::new(&bytes)).unwrap();
        let names: Vec<(&str, &str, u64)> = listed
            .iter()
            .map(|s| (s.dir.as_str(), s.name.as_str(), s.size))
            .collect();
        assert_eq!(
            names,
            [
                ("ssh", "00000000000000000001.seg", 5),
                ("ssh", "00000000000000000002.seg", 1000)
            ]
        );
        let at = |s: &ArchivedSegment| &bytes[s.offset as usize..(s.offset + s.size) as usize];
        assert_eq!(at(&listed[0]), b"first");
        assert_eq!(at(&listed[1]), &vec![7u8; 1000][..]);
    }

    #[test]
    fn what_is_not_a_tar_file_is_an_error_not_a_panic() {
        let garbage = b"this is a log line, not a tar header\n".repeat(40);
        assert!(segments(Cursor::new(&garbage)).is_err());
        let truncated = {
            let mut writer = ArchiveWriter::new(Vec::new(), "b", 0);
            writer.add("00000000000000000001.seg", &[1; 600]).unwrap();
            let mut bytes = writer.finish().unwrap();
            bytes.truncate(300);
            bytes
        };
        assert!(segments(Cursor::new(&truncated)).is_err());
    }

    #[test]
    fn a_bundle_name_cannot_climb_out_of_its_directory() {
        let mut writer = ArchiveWriter::new(Vec::new(), "../etc", 0);
        writer.add("00000000000000000001.seg", b"x").unwrap();
        let bytes = writer.finish().unwrap();
        let listed = segments(Cursor::new(&bytes)).unwrap();
        assert_eq!(listed[0].dir, ".._etc");
        for dir in ["", ".", ".."] {
            let mut writer = ArchiveWriter::new(Vec::new(), dir, 0);
            writer.add("00000000000000000001.seg", b"x").unwrap();
            let bytes = writer.finish().unwrap();
            assert_eq!(segments(Cursor::new(&bytes)).unwrap()[0].dir, "bundle");
        }
    }
}
