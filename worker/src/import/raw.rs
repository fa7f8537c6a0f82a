//! Raw log files opened in the browser: parsed with trawl-parse as `trawl ingest` parses them
//! (format sniffed from the first lines), into in-memory segments that import like a bundle's.
//! Their identity comes from the file's name, size and modification time, so opening the same
//! file again adds nothing.

use std::io::{BufRead, BufReader};

use trawl_bundle::{
    format::{Codec, SegmentHeader, WriterId},
    memory::SegmentEncoder,
    Record,
};
use trawl_parse::{sniff, Format, Options, Parser, TimeContext};
use web_sys::File;

use super::source::BlobReader;

/// Records per in-memory segment: one import step's worth of parsing at a time.
const SEGMENT_RECORDS: usize = 20_000;
/// Records per frame inside it.
const FRAME_RECORDS: usize = 1_000;
/// Bytes read from the file at a time.
const READ_CHUNK: usize = 4 << 20;

/// Whether a dropped or picked file is a raw log (not part of a bundle, not hidden).
pub(crate) fn is_raw_log(name: &str) -> bool {
    !(name.starts_with('.')
        || name == trawl_bundle::manifest::MANIFEST_FILE
        || name == trawl_bundle::format::LOCK_FILE
        || trawl_bundle::format::parse_segment_file_name(name).is_some()
        || name.ends_with(".tmp")
        || name.ends_with(trawl_bundle::archive::EXTENSION))
}

/// A raw log file, read and parsed a segment at a time.
pub(crate) struct RawSegments {
    name: String,
    lines: BufReader<BlobReader>,
    parser: Parser,
    /// Lines read ahead to sniff the format, parsed first.
    head: std::collections::VecDeque<Vec<u8>>,
    line: Vec<u8>,
    line_no: u64,
    records: Vec<Record>,
    writer_id: u128,
    next_segment: u64,
    next_seq: u64,
    finished: bool,
    /// Bytes of the file read so far.
    pub(crate) bytes_read: u64,
}

impl RawSegments {
    /// Opens `file` and sniffs its format; an error is a sentence naming the file.
    pub(crate) fn open(file: &File) -> Result<Self, String> {
        let name = file.name();
        if name.ends_with(".gz") || name.ends_with(".zst") {
            return Err(format!(
                "{name}: compressed logs are not read in the browser; make a bundle of it with \
                 `trawl ingest {name}` and open that"
            ));
        }
        let blob = BlobReader::new(file.clone().into())
            .map_err(|err| format!("{name}: cannot be read: {err}"))?;
        let mut lines = BufReader::with_capacity(READ_CHUNK, blob);
        let time = time_context();
        let mut head = std::collections::VecDeque::new();
        let mut bytes_read = 0;
        while head.len() < sniff::SNIFF_LINES {
            let mut line = Vec::new();
            let n = lines
                .read_until(b'\n', &mut line)
                .map_err(|err| format!("{name}: read error: {err}"))?;
            if n == 0 {
                break;
            }
            bytes_read += n as u64;
            trim_newline(&mut line);
            head.push_back(line);
        }
        let format: Format = sniff::sniff(head.iter().map(Vec::as_slice), &time);
        let parser = Parser::new(
            format,
            Options {
                time,
                service: None,
                host: None,
                source: name.clone(),
            },
        );
        Ok(Self {
            writer_id: identity(&name, file.size(), file.last_modified()),
            name,
            lines,
            parser,
            head,
            line: Vec::new(),
            line_no: 0,
            records: Vec::with_capacity(SEGMENT_RECORDS),
            next_segment: 0,
            next_seq: 0,
            finished: false,
            bytes_read,
        })
    }

    /// The format the file was sniffed as.
    pub(crate) fn format(&self) -> Format {
        self.parser.format()
    }

    /// The next in-memory segment: its name for reports (`file#n`) and bytes; `None` at the end.
    pub(crate) fn next_segment(&mut self) -> Result<Option<(String, Vec<u8>)>, String> {
        while !self.finished && self.records.len() < SEGMENT_RECORDS {
            if let Some(line) = self.head.pop_front() {
                self.line_no += 1;
                self.parser.line(&line, self.line_no, &mut self.records);
                continue;
            }
            self.line.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut self.line)
                .map_err(|err| {
                    format!(
                        "{}: read error at line {}: {err}",
                        self.name,
                        self.line_no + 1
                    )
                })?;
            if n == 0 {
                self.parser.finish(&mut self.records);
                self.finished = true;
                break;
            }
            self.bytes_read += n as u64;
            trim_newline(&mut self.line);
            self.line_no += 1;
            self.parser
                .line(&self.line, self.line_no, &mut self.records);
        }
        if self.records.is_empty() {
            return Ok(None);
        }
        let take = self.records.len().min(SEGMENT_RECORDS);
        let header = SegmentHeader {
            writer_id: WriterId(self.writer_id),
            segment_seq: self.next_segment,
            salt: (self.writer_id as u64) ^ self.next_segment.rotate_left(32),
            first_record_seq: self.next_seq,
            created_nanos: 0,
        };
        // Read back at once by the import: compressing it would be wasted work.
        let mut encoder = SegmentEncoder::new(header, FRAME_RECORDS, Codec::None);
        for (seq, record) in (self.next_seq..).zip(self.records.drain(..take)) {
            encoder.push(seq, &record);
        }
        let label = format!("{}#{}", self.name, self.next_segment);
        self.next_segment += 1;
        self.next_seq += take as u64;
        let bytes = encoder.finish(&label, false).bytes;
        Ok(Some((label, bytes)))
    }
}

fn trim_newline(line: &mut Vec<u8>) {
    if line.last() == Some(&b'\n') {
        line.pop();
    }
}

/// Times without a zone are UTC (as `trawl ingest --tz UTC`); times without a year get this
/// year, or the last one if that would put them more than a day in the future.
fn time_context() -> TimeContext {
    let now = js_sys::Date::new_0();
    let now_nanos = (now.get_time() * 1e6) as i64;
    TimeContext {
        year: now.get_utc_full_year() as i16,
        latest: Some(now_nanos + 86_400_000_000_000),
        ..TimeContext::default()
    }
}

/// A writer id for a file: FNV-1a over its name, size and modification time, twice.
fn identity(name: &str, size: f64, modified: f64) -> u128 {
    let fnv = |seed: u64| {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
        for byte in name
            .bytes()
            .chain(size.to_bits().to_le_bytes())
            .chain(modified.to_bits().to_le_bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash
    };
    (u128::from(fnv(0)) << 64) | u128::from(fnv(0x9e37_79b9_7f4a_7c15))
}
