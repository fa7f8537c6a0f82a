//! Log format detection and parsers: the logs people have, turned into trawl [`Record`]s.
//!
//! Pure Rust, so the same code runs in the ingest CLI and in the browser. A [`Parser`] takes
//! one file's lines in order and emits records; every line ends up in exactly one record.
//! A line its format cannot parse becomes a raw-text record, counted in [`Stats`] with the
//! reason — never dropped. Multi-line records (stack traces, continuation lines) are attached
//! to the record they follow.

mod fields_text;
mod formats;
pub mod level;
mod line;
pub mod sniff;
pub mod time;

use std::{fmt, str::FromStr};

pub use time::TimeContext;
use trawl_bundle::Record;

/// A log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// JSON lines of zap, zerolog, logrus, slog, pino, bunyan, tracing, log4j2, ECS, OTel.
    Json,
    /// `key=value` pairs.
    Logfmt,
    /// Kubernetes CRI container logs (`<time> <stream> <P|F> <content>`).
    Cri,
    /// Docker json-file container logs (`{"log": …, "stream": …, "time": …}`).
    Docker,
    /// `journalctl -o json`.
    Journald,
    /// nginx/Apache access logs (common and combined) and their error logs.
    Access,
    /// Syslog, RFC 3164 and RFC 5424.
    Syslog,
    /// Plain text with a leading timestamp and a level word, multi-line records attached.
    Text,
}

impl Format {
    /// All formats, in the order `--format` lists them.
    pub const ALL: [Format; 8] = [
        Format::Json,
        Format::Logfmt,
        Format::Cri,
        Format::Docker,
        Format::Journald,
        Format::Access,
        Format::Syslog,
        Format::Text,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Logfmt => "logfmt",
            Format::Cri => "cri",
            Format::Docker => "docker",
            Format::Journald => "journald",
            Format::Access => "access",
            Format::Syslog => "syslog",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format '{s}': expected one of {}", names.join(", "))
            })
    }
}

/// What every record of one input gets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub time: TimeContext,
    /// Service for records that name none.
    pub service: Option<String>,
    /// Host for records that name none.
    pub host: Option<String>,
    /// The input's name (file path or `-`), kept in every record's `source`.
    pub source: String,
}

/// Counts of one input's parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lines read.
    pub lines: u64,
    /// Records emitted.
    pub records: u64,
    /// Records kept as raw text because their line did not parse.
    pub unparsed: u64,
    /// The first few unparsed lines: (line number, why).
    pub first_unparsed: Vec<(u64, String)>,
}

/// How many unparsed lines [`Stats::first_unparsed`] keeps.
const KEEP_REASONS: usize = 5;
/// A record stops taking continuation lines at this size, so one runaway stack trace or a
/// file of unstamped lines cannot grow a record without bound.
const MAX_RECORD_BYTES: usize = 4 << 20;

/// Parses one input's lines in order.
#[derive(Debug)]
pub struct Parser {
    format: Format,
    options: Options,
    stats: Stats,
    /// A record that may still take continuation lines (text) or partial chunks (CRI, Docker).
    pending: Option<formats::Pending>,
}

impl Parser {
    /// A parser for `format`.
    pub fn new(format: Format, options: Options) -> Self {
        Self {
            format,
            options,
            stats: Stats::default(),
            pending: None,
        }
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Parses line `line_no` (1-based; without its `\n`), pushing finished records to `out`.
    pub fn line(&mut self, raw: &[u8], line_no: u64, out: &mut Vec<Record>) {
        self.stats.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = out.len();
        formats::parse(self, raw, line_no, out);
        self.finish_records(start, out);
    }

    /// Emits whatever record is still pending (call at the end of the input).
    pub fn finish(&mut self, out: &mut Vec<Record>) {
        let start = out.len();
        if let Some(pending) = self.pending.take() {
            formats::flush(self, pending, out);
        }
        self.finish_records(start, out);
    }

    /// The line where the record still waiting for more lines starts, if one is: lines from
    /// there on are read but not yet emitted.
    pub fn pending_line(&self) -> Option<u64> {
        match &self.pending {
            Some(formats::Pending::Text(record)) => record.line,
            Some(formats::Pending::Partial { line, .. }) => Some(*line),
            None => None,
        }
    }

    /// Counts of what was parsed so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn finish_records(&mut self, start: usize, out: &mut [Record]) {
        for record in &mut out[start..] {
            self.stats.records += 1;
            if record.service.is_none() {
                record.service.clone_from(&self.options.service);
            }
            if record.host.is_none() {
                record.host.clone_from(&self.options.host);
            }
            if record.source.is_none() {
                record.source = Some(self.options.source.clone());
            }
        }
    }

    fn unparsed(&mut self, line_no: u64, reason: impl Into<String>) {
        self.stats.unparsed += 1;
        if self.stats.first_unparsed.len() < KEEP_REASONS {
            self.stats.first_unparsed.push((line_no, reason.into()));
        }
    }
}

/// A raw-text record for a line that did not parse: the message is the line (lossily
/// decoded, ANSI escapes removed), the raw bytes are kept exactly.
pub fn raw_record(raw: &[u8], line_no: u64) -> Record {
    Record {
        message: line::clean_message(raw),
        raw: Some(raw.to_vec()),
        line: Some(line_no),
        ..Record::default()
    }
}
