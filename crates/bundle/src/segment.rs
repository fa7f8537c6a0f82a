//! Writing one segment: creation by the atomic protocol, record blocks, sync, sealing.

use std::path::{Path, PathBuf};

use crate::{
    block::BlockBuilder,
    format::{
        encode_trailer, segment_file_name, Codec, Footer, FrameHeader, FrameKind, SegmentHeader,
        WriterId, HEADER_LEN,
    },
    fs::{Fs, FsFile},
    manifest::{file_crc32c, SegmentEntry},
    record::Level,
};

/// Where a failed I/O step happened, for error messages.
pub(crate) type StepResult<T> = Result<T, (PathBuf, std::io::Error)>;

fn at<T>(path: &Path, result: std::io::Result<T>) -> StepResult<T> {
    result.map_err(|e| (path.to_owned(), e))
}

/// The segment records are appended to.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    file: Box<dyn FsFile>,
    path: PathBuf,
    name: String,
    header: SegmentHeader,
    /// Bytes written to the file (to the OS) so far.
    len: u64,
    /// Statistics of the records written so far.
    footer: Footer,
    next_seq: u64,
    /// Reused buffers: a block's stored payload, and a whole frame.
    payload: Vec<u8>,
    frame: Vec<u8>,
}

impl SegmentWriter {
    /// Creates segment `segment_seq` so that it is either complete or absent after a crash:
    /// write the header to `NAME.tmp`, sync it, rename it to `NAME`, sync the directory.
    pub(crate) fn create(
        fs: &dyn Fs,
        dir: &Path,
        writer_id: WriterId,
        segment_seq: u64,
        first_record_seq: u64,
    ) -> StepResult<Self> {
        let header = SegmentHeader {
            writer_id,
            segment_seq,
            salt: random_u64(),
            first_record_seq,
            created_nanos: now_nanos(),
        };
        let name = segment_file_name(segment_seq);
        let path = dir.join(&name);
        let tmp = dir.join(format!("{name}.tmp"));
        let mut file = at(&tmp, fs.create_new(&tmp))?;
        at(&tmp, file.append(&header.encode()))?;
        at(&tmp, file.sync_data())?;
        at(&tmp, fs.rename(&tmp, &path))?;
        at(dir, fs.sync_dir(dir))?;
        Ok(Self {
            file,
            path,
            name,
            header,
            len: HEADER_LEN as u64,
            footer: Footer {
                first_seq: first_record_seq,
                ..Footer::default()
            },
            next_seq: first_record_seq,
            payload: Vec::new(),
            frame: Vec::new(),
        })
    }

    /// Continues a live segment that recovery validated up to `len` bytes.
    pub(crate) fn resume(
        fs: &dyn Fs,
        path: PathBuf,
        header: SegmentHeader,
        len: u64,
        footer: Footer,
    ) -> StepResult<Self> {
        let file = at(&path, fs.open_append(&path))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            file,
            name,
            next_seq: footer.first_seq + footer.record_count,
            path,
            header,
            len,
            footer,
            payload: Vec::new(),
            frame: Vec::new(),
        })
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn record_count(&self) -> u64 {
        self.footer.record_count
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    pub(crate) fn segment_seq(&self) -> u64 {
        self.header.segment_seq
    }

    /// When the segment was created (nanoseconds since the epoch).
    pub(crate) fn created_nanos(&self) -> i64 {
        self.header.created_nanos
    }

    pub(crate) fn writer_id(&self) -> WriterId {
        self.header.writer_id
    }

    /// Appends one records frame holding `block` (records `next_seq..`), with each record's
    /// time and level for the footer. Not durable until [`SegmentWriter::sync`].
    pub(crate) fn write_block(
        &mut self,
        block: &mut BlockBuilder,
        stats: impl IntoIterator<Item = (Option<i64>, Option<Level>)>,
    ) -> StepResult<u64> {
        let count = block.count();
        let mut payload = std::mem::take(&mut self.payload);
        let codec = block.finish_into(&mut payload);
        let written = self.write_frame(FrameKind::Records, codec, count, &payload);
        self.payload = payload;
        let written = written?;
        for (ts, level) in stats {
            self.footer.add(ts, level);
        }
        self.next_seq += u64::from(count);
        Ok(written)
    }

    fn write_frame(
        &mut self,
        kind: FrameKind,
        codec: Codec,
        count: u32,
        payload: &[u8],
    ) -> StepResult<u64> {
        let header = FrameHeader {
            kind,
            codec,
            stored_len: payload.len() as u32,
            record_count: count,
            first_seq: self.next_seq,
        };
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.extend_from_slice(&header.encode(payload, self.header.salt));
        frame.extend_from_slice(payload);
        let written = at(&self.path, self.file.append(&frame));
        let len = frame.len() as u64;
        self.frame = frame;
        written?;
        self.len += len;
        Ok(len)
    }

    /// Makes everything written durable.
    pub(crate) fn sync(&mut self) -> StepResult<()> {
        at(&self.path, self.file.sync_data())
    }

    /// The manifest entry for the segment as it is now.
    pub(crate) fn entry(&self, sealed: bool) -> SegmentEntry {
        SegmentEntry::new(
            self.name.clone(),
            &self.header,
            &self.footer,
            self.len,
            sealed,
        )
    }

    /// Writes the footer and trailer and syncs: the segment is complete and immutable.
    pub(crate) fn seal(mut self, fs: &dyn Fs) -> StepResult<SegmentEntry> {
        let footer_offset = self.len;
        let payload = self.footer.encode();
        let mut frame = Vec::new();
        let header = FrameHeader {
            kind: FrameKind::Footer,
            codec: Codec::None,
            stored_len: payload.len() as u32,
            record_count: 0,
            first_seq: self.next_seq,
        };
        frame.extend_from_slice(&header.encode(&payload, self.header.salt));
        frame.extend_from_slice(&payload);
        frame.extend_from_slice(&encode_trailer(footer_offset));
        at(&self.path, self.file.append(&frame))?;
        self.len += frame.len() as u64;
        self.sync()?;
        let mut entry = self.entry(true);
        entry.crc32c = file_crc32c(fs, &self.path)
            .ok()
            .map(|crc| format!("{crc:08x}"));
        Ok(entry)
    }
}

/// Random bits for salts and writer ids; time-and-address mixing if the OS has no entropy.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    let mixed = now_nanos() as u64 ^ (&bytes as *const _ as u64).rotate_left(32);
    mixed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

pub(crate) fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}
