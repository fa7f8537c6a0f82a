//! Reading segments: from any byte source, with memory bounded by the largest frame.
//!
//! A [`SegmentReader`] yields only frames it has proven valid (checksum with this segment's
//! salt) and in order (sequence numbers only grow). Anything else becomes a [`Finding`] with
//! the file and byte offset: bytes that are invalid up to the end of the file are a torn tail
//! (what a crash leaves); invalid bytes with valid frames after them are a bad frame
//! (corruption), and reading resumes at the next valid frame.

use std::io::{self, Read};

use crate::{
    block::{decode_payload, decode_records},
    format::{
        decode_trailer, Footer, FrameHeader, FrameKind, HeaderError, SegmentHeader,
        FRAME_HEADER_LEN, HEADER_LEN, TRAILER_LEN,
    },
    record::Record,
};

/// A problem found while reading a segment. Offsets are byte offsets in the segment file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// From `offset` to the end of the file (`bytes` long) nothing is a valid frame: what a
    /// crash during a write leaves behind.
    TornTail {
        file: String,
        offset: u64,
        bytes: u64,
    },
    /// `bytes` invalid bytes at `offset`, with valid frames after them: corruption.
    BadFrame {
        file: String,
        offset: u64,
        bytes: u64,
        reason: String,
    },
    /// The frame at `offset` starts at record `found`, but `expected` was next.
    SequenceGap {
        file: String,
        offset: u64,
        expected: u64,
        found: u64,
    },
    /// Bytes after the trailer of a sealed segment.
    DataAfterEnd {
        file: String,
        offset: u64,
        bytes: u64,
    },
}

impl Finding {
    /// The offset the finding is about.
    pub fn offset(&self) -> u64 {
        match self {
            Finding::TornTail { offset, .. }
            | Finding::BadFrame { offset, .. }
            | Finding::SequenceGap { offset, .. }
            | Finding::DataAfterEnd { offset, .. } => *offset,
        }
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::TornTail {
                file,
                offset,
                bytes,
            } => {
                write!(f, "{file}: torn tail at offset {offset} ({bytes} bytes after the last valid frame)")
            }
            Finding::BadFrame {
                file,
                offset,
                bytes,
                reason,
            } => {
                write!(
                    f,
                    "{file}: bad frame at offset {offset} ({reason}; {bytes} bytes skipped)"
                )
            }
            Finding::SequenceGap {
                file,
                offset,
                expected,
                found,
            } => write!(
                f,
                "{file}: records {expected}..{found} missing before offset {offset}"
            ),
            Finding::DataAfterEnd {
                file,
                offset,
                bytes,
            } => {
                write!(
                    f,
                    "{file}: {bytes} unexpected bytes after the segment's end at offset {offset}"
                )
            }
        }
    }
}

/// Why a segment cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: {source}")]
    Header { file: String, source: HeaderError },
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
}

/// What [`SegmentReader::next`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// The records of one valid frame, in sequence order from `first_seq`.
    Records {
        offset: u64,
        first_seq: u64,
        records: Vec<Record>,
    },
    /// A problem; reading goes on after it if anything valid follows.
    Finding(Finding),
}

/// What a fully read segment turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentEnd {
    /// The footer, if the segment is sealed (valid footer and trailer at its end).
    pub footer: Option<Footer>,
    /// Where the valid prefix ends: the end of the last valid frame before the first finding
    /// (the header's end if none). A live segment's writer resumes here.
    pub prefix_len: u64,
    /// The sequence of the record after the valid prefix.
    pub prefix_next_seq: u64,
    /// Records yielded.
    pub records: u64,
    /// Bytes in the file.
    pub file_len: u64,
}

/// Streams the frames of one segment.
pub struct SegmentReader<R> {
    src: R,
    file: String,
    header: SegmentHeader,
    buf: Vec<u8>,
    /// Index in `buf` of the current position.
    pos: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    next_seq: u64,
    records: u64,
    footer: Option<Footer>,
    prefix: Option<(u64, u64)>,
    done: bool,
}

enum Probe {
    /// A valid frame of `len` bytes (header included).
    Valid(FrameHeader, usize),
    /// Not a frame here.
    Invalid(String),
    /// The file ends inside what may be a frame (or exactly here, if `at_end`).
    Short { at_end: bool },
}

impl<R: Read> SegmentReader<R> {
    /// Reads and checks the segment header. `file` names the source in findings and errors.
    pub fn open(mut src: R, file: impl Into<String>) -> Result<Self, ReadError> {
        let file = file.into();
        let mut buf = Vec::with_capacity(64 << 10);
        let eof = fill_from(&mut src, &mut buf, HEADER_LEN).map_err(|source| ReadError::Io {
            file: file.clone(),
            source,
        })?;
        let header = SegmentHeader::decode(&buf).map_err(|source| ReadError::Header {
            file: file.clone(),
            source,
        })?;
        Ok(Self {
            src,
            file,
            next_seq: header.first_record_seq,
            header,
            buf,
            pos: HEADER_LEN,
            base: 0,
            eof,
            records: 0,
            footer: None,
            prefix: None,
            done: false,
        })
    }

    /// The segment's header.
    pub fn header(&self) -> &SegmentHeader {
        &self.header
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn available(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Makes at least `need` bytes available from the current position, unless the file ends
    /// first. Returns whether they are.
    fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.available() >= need {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base += self.pos as u64;
            self.pos = 0;
        }
        self.eof = fill_from(&mut self.src, &mut self.buf, need)?;
        Ok(self.available() >= need)
    }

    fn probe(&mut self) -> io::Result<Probe> {
        if !self.fill(FRAME_HEADER_LEN)? {
            return Ok(Probe::Short {
                at_end: self.available() == 0,
            });
        }
        let head: [u8; FRAME_HEADER_LEN] = self.buf[self.pos..self.pos + FRAME_HEADER_LEN]
            .try_into()
            .expect("filled");
        let header = match FrameHeader::parse(&head) {
            Ok(header) => header,
            Err(err) => return Ok(Probe::Invalid(err.to_string())),
        };
        let len = FRAME_HEADER_LEN + header.stored_len as usize;
        if !self.fill(len)? {
            return Ok(Probe::Short { at_end: false });
        }
        let payload = &self.buf[self.pos + FRAME_HEADER_LEN..self.pos + len];
        if let Err(err) = FrameHeader::verify(&head, payload, self.header.salt) {
            return Ok(Probe::Invalid(err.to_string()));
        }
        if header.first_seq < self.next_seq {
            return Ok(Probe::Invalid(format!(
                "frame repeats records from {} (next is {})",
                header.first_seq, self.next_seq
            )));
        }
        Ok(Probe::Valid(header, len))
    }

    /// Scans forward from the byte after the current position for a valid frame. Leaves the
    /// position there and returns true, or at the end of the file and returns false.
    fn resync(&mut self) -> io::Result<bool> {
        loop {
            self.pos += 1;
            if !self.fill(1)? {
                return Ok(false);
            }
            if let Probe::Valid(..) = self.probe()? {
                return Ok(true);
            }
        }
    }

    fn mark_prefix_end(&mut self, at: u64) {
        if self.prefix.is_none() {
            self.prefix = Some((at, self.next_seq));
        }
    }

    fn io_error(&self, source: io::Error) -> ReadError {
        ReadError::Io {
            file: self.file.clone(),
            source,
        }
    }

    /// The next frame's records or finding; `None` once the segment is read.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<Result<Item, ReadError>> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(item) => item.map(Ok),
            Err(err) => {
                self.done = true;
                Some(Err(self.io_error(err)))
            }
        }
    }

    fn step(&mut self) -> io::Result<Option<Item>> {
        let offset = self.offset();
        let reason = match self.probe()? {
            Probe::Short { at_end: true } => {
                self.done = true;
                self.mark_prefix_end(offset);
                return Ok(None);
            }
            Probe::Valid(header, len) => match header.kind {
                FrameKind::Footer => return self.footer_at(offset, header, len),
                FrameKind::Records => {
                    if header.first_seq > self.next_seq {
                        // Report the gap now; the frame's records come on the next call.
                        let gap = Finding::SequenceGap {
                            file: self.file.clone(),
                            offset,
                            expected: self.next_seq,
                            found: header.first_seq,
                        };
                        self.mark_prefix_end(offset);
                        self.next_seq = header.first_seq;
                        return Ok(Some(Item::Finding(gap)));
                    }
                    let payload = &self.buf[self.pos + FRAME_HEADER_LEN..self.pos + len];
                    match decode_payload(header.codec, payload)
                        .and_then(|block| decode_records(&block, header.record_count))
                    {
                        Ok(records) => {
                            self.pos += len;
                            self.next_seq = header.first_seq + u64::from(header.record_count);
                            self.records += records.len() as u64;
                            return Ok(Some(Item::Records {
                                offset,
                                first_seq: header.first_seq,
                                records,
                            }));
                        }
                        // The checksum held, so the writer wrote this: report, don't guess.
                        Err(err) => err.to_string(),
                    }
                }
            },
            Probe::Invalid(reason) => reason,
            Probe::Short { at_end: false } => "the file ends inside a frame".to_owned(),
        };
        self.mark_prefix_end(offset);
        if self.resync()? {
            let bytes = self.offset() - offset;
            Ok(Some(Item::Finding(Finding::BadFrame {
                file: self.file.clone(),
                offset,
                bytes,
                reason,
            })))
        } else {
            self.done = true;
            let bytes = self.offset() - offset;
            Ok(Some(Item::Finding(Finding::TornTail {
                file: self.file.clone(),
                offset,
                bytes,
            })))
        }
    }

    fn footer_at(
        &mut self,
        offset: u64,
        header: FrameHeader,
        len: usize,
    ) -> io::Result<Option<Item>> {
        let payload = &self.buf[self.pos + FRAME_HEADER_LEN..self.pos + len];
        let footer = Footer::decode(payload).filter(|f| {
            f.first_seq == self.header.first_record_seq
                && header.first_seq == self.next_seq
                && f.record_count == self.next_seq - self.header.first_record_seq
        });
        let complete = footer.is_some() && self.fill(len + TRAILER_LEN)? && {
            let trailer = &self.buf[self.pos + len..self.pos + len + TRAILER_LEN];
            decode_trailer(trailer) == Some(offset)
        };
        self.done = true;
        if !complete {
            self.mark_prefix_end(offset);
            // A footer without its trailer (or one that disagrees with the records) does not
            // seal anything: the segment is live, and its valid part ends before the footer.
            let file_len = self.drain_to_end()?;
            return Ok(Some(Item::Finding(Finding::TornTail {
                file: self.file.clone(),
                offset,
                bytes: file_len - offset,
            })));
        }
        self.footer = footer;
        self.mark_prefix_end(offset + (len + TRAILER_LEN) as u64);
        self.pos += len + TRAILER_LEN;
        let end = self.offset();
        let file_len = self.drain_to_end()?;
        if file_len > end {
            return Ok(Some(Item::Finding(Finding::DataAfterEnd {
                file: self.file.clone(),
                offset: end,
                bytes: file_len - end,
            })));
        }
        Ok(None)
    }

    /// Reads to the end of the file without keeping the bytes; returns the file's length.
    fn drain_to_end(&mut self) -> io::Result<u64> {
        let mut total = self.base + self.buf.len() as u64;
        if !self.eof {
            total += io::copy(&mut self.src, &mut io::sink())?;
            self.eof = true;
        }
        Ok(total)
    }

    /// Reads whatever is left and says what the segment turned out to be.
    pub fn finish(mut self) -> Result<SegmentEnd, ReadError> {
        while let Some(item) = self.next() {
            item?;
        }
        let file_len = self.drain_to_end().map_err(|e| self.io_error(e))?;
        let (prefix_len, prefix_next_seq) = self.prefix.unwrap_or((self.offset(), self.next_seq));
        Ok(SegmentEnd {
            footer: self.footer,
            prefix_len,
            prefix_next_seq,
            records: self.records,
            file_len,
        })
    }
}

/// Reads from `src` into `buf` until it holds at least `need` bytes or the source ends.
/// Returns whether the source ended.
fn fill_from(src: &mut impl Read, buf: &mut Vec<u8>, need: usize) -> io::Result<bool> {
    let want = need.max(64 << 10);
    while buf.len() < need {
        let start = buf.len();
        buf.resize(start + want, 0);
        let n = loop {
            match src.read(&mut buf[start..]) {
                Ok(n) => break n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => {
                    buf.truncate(start);
                    return Err(err);
                }
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}
