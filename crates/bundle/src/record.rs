//! The record model and its compact, versioned binary encoding.
//!
//! A record encodes as a sequence of fields, each `tag (varint) | length (varint) | bytes`.
//! Absent fields are not written. A decoder keeps fields with tags it does not know in
//! [`Record::unknown`] and writes them back unchanged, so a record written by a newer trawl
//! survives a round trip through an older one.

use std::fmt;

/// Severity, normalised. The word the log used is kept in [`Record::level_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    Trace = 1,
    Debug = 2,
    Info = 3,
    Warn = 4,
    Error = 5,
    Fatal = 6,
}

impl Level {
    /// All levels, least severe first.
    pub const ALL: [Level; 6] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
        Level::Fatal,
    ];

    /// The level's code in the format (1..=6).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The level with format code `code`.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Lower-case name: `trace` … `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One log record. Only `message` is required; everything a source did not have stays `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Time in nanoseconds since the Unix epoch, UTC.
    pub ts_nanos: Option<i64>,
    /// The timestamp as the source wrote it.
    pub ts_text: Option<String>,
    /// Normalised severity.
    pub level: Option<Level>,
    /// The severity word as the source wrote it (`WARNING`, `30`, `E` …).
    pub level_text: Option<String>,
    /// The message (for a line that did not parse: the line, lossily decoded).
    pub message: String,
    pub service: Option<String>,
    /// Host, pod or container.
    pub host: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    /// The remaining structured fields, as the text of one JSON object.
    pub fields: Option<String>,
    /// The raw bytes of the line(s) the record came from, exactly (may be invalid UTF-8).
    pub raw: Option<Vec<u8>>,
    /// The stream or file the record came from.
    pub source: Option<String>,
    /// 1-based line number in `source`.
    pub line: Option<u64>,
    /// Fields of a newer format version: `(tag, bytes)`, kept and re-encoded verbatim.
    pub unknown: Vec<(u64, Vec<u8>)>,
}

/// Why bytes are not a valid record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record ends inside a field")]
    Truncated,
    #[error("field {tag} has length {len}, expected {expected}")]
    BadLength {
        tag: u64,
        len: usize,
        expected: usize,
    },
    #[error("field {tag} is not valid UTF-8")]
    NotUtf8 { tag: u64 },
    #[error("level code {0} is not 1..=6")]
    BadLevel(u8),
    #[error("a varint runs past 10 bytes")]
    BadVarint,
}

mod tag {
    pub const TS_NANOS: u64 = 1;
    pub const TS_TEXT: u64 = 2;
    pub const LEVEL: u64 = 3;
    pub const LEVEL_TEXT: u64 = 4;
    pub const MESSAGE: u64 = 5;
    pub const SERVICE: u64 = 6;
    pub const HOST: u64 = 7;
    pub const TRACE_ID: u64 = 8;
    pub const SPAN_ID: u64 = 9;
    pub const FIELDS: u64 = 10;
    pub const RAW: u64 = 11;
    pub const SOURCE: u64 = 12;
    pub const LINE: u64 = 13;
}

impl Record {
    /// A record with just a message.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    /// Appends the encoding of `self` to `out`: exactly [`Record::encoded_len`] bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.each_field(|tag, bytes| {
            put_varint(out, tag);
            put_varint(out, bytes.len() as u64);
            out.extend_from_slice(bytes);
        });
    }

    /// How many bytes [`Record::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        let mut len = 0;
        self.each_field(|tag, bytes| {
            len += varint_len(tag) + varint_len(bytes.len() as u64) + bytes.len();
        });
        len
    }

    /// Calls `field` with the tag and bytes of each field present, in encoding order.
    fn each_field(&self, mut field: impl FnMut(u64, &[u8])) {
        let ts = self.ts_nanos.map(i64::to_le_bytes);
        let level = self.level.map(|l| [l.code()]);
        let line = self.line.map(u64::to_le_bytes);
        fn text(v: &Option<String>) -> Option<&[u8]> {
            v.as_deref().map(str::as_bytes)
        }
        let known: [(u64, Option<&[u8]>); 13] = [
            (tag::TS_NANOS, ts.as_ref().map(|b| &b[..])),
            (tag::TS_TEXT, text(&self.ts_text)),
            (tag::LEVEL, level.as_ref().map(|b| &b[..])),
            (tag::LEVEL_TEXT, text(&self.level_text)),
            (tag::MESSAGE, Some(self.message.as_bytes())),
            (tag::SERVICE, text(&self.service)),
            (tag::HOST, text(&self.host)),
            (tag::TRACE_ID, text(&self.trace_id)),
            (tag::SPAN_ID, text(&self.span_id)),
            (tag::FIELDS, text(&self.fields)),
            (tag::RAW, self.raw.as_deref()),
            (tag::SOURCE, text(&self.source)),
            (tag::LINE, line.as_ref().map(|b| &b[..])),
        ];
        for (tag, bytes) in known {
            if let Some(bytes) = bytes {
                field(tag, bytes);
            }
        }
        for (tag, bytes) in &self.unknown {
            field(*tag, bytes);
        }
    }

    /// The encoding of `self`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes one record that occupies all of `bytes`.
    pub fn decode(mut bytes: &[u8]) -> Result<Self, RecordError> {
        let mut record = Record::default();
        while !bytes.is_empty() {
            let tag = take_varint(&mut bytes)?;
            let len =
                usize::try_from(take_varint(&mut bytes)?).map_err(|_| RecordError::Truncated)?;
            if len > bytes.len() {
                return Err(RecordError::Truncated);
            }
            let (value, rest) = bytes.split_at(len);
            bytes = rest;
            let text =
                || String::from_utf8(value.to_vec()).map_err(|_| RecordError::NotUtf8 { tag });
            let fixed8 = || -> Result<[u8; 8], RecordError> {
                value.try_into().map_err(|_| RecordError::BadLength {
                    tag,
                    len,
                    expected: 8,
                })
            };
            match tag {
                tag::TS_NANOS => record.ts_nanos = Some(i64::from_le_bytes(fixed8()?)),
                tag::TS_TEXT => record.ts_text = Some(text()?),
                tag::LEVEL => {
                    let [code] = value else {
                        return Err(RecordError::BadLength {
                            tag,
                            len,
                            expected: 1,
                        });
                    };
                    record.level =
                        Some(Level::from_code(*code).ok_or(RecordError::BadLevel(*code))?);
                }
                tag::LEVEL_TEXT => record.level_text = Some(text()?),
                tag::MESSAGE => record.message = text()?,
                tag::SERVICE => record.service = Some(text()?),
                tag::HOST => record.host = Some(text()?),
                tag::TRACE_ID => record.trace_id = Some(text()?),
                tag::SPAN_ID => record.span_id = Some(text()?),
                tag::FIELDS => record.fields = Some(text()?),
                tag::RAW => record.raw = Some(value.to_vec()),
                tag::SOURCE => record.source = Some(text()?),
                tag::LINE => record.line = Some(u64::from_le_bytes(fixed8()?)),
                _ => record.unknown.push((tag, value.to_vec())),
            }
        }
        Ok(record)
    }
}

/// Appends `value` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// How many bytes [`put_varint`] writes for `value`.
pub(crate) fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Takes an unsigned LEB128 varint off the front of `bytes`.
pub(crate) fn take_varint(bytes: &mut &[u8]) -> Result<u64, RecordError> {
    let mut value = 0u64;
    for (i, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            *bytes = &bytes[i + 1..];
            return Ok(value);
        }
    }
    if bytes.len() < 10 {
        Err(RecordError::Truncated)
    } else {
        Err(RecordError::BadVarint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn full() -> Record {
        Record {
            ts_nanos: Some(1_700_000_000_123_456_789),
            ts_text: Some("2023-11-14T22:13:20.123456789Z".into()),
            level: Some(Level::Warn),
            level_text: Some("WARNING".into()),
            message: "disk almost full".into(),
            service: Some("payment-api".into()),
            host: Some("pod-7".into()),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            span_id: Some("00f067aa0ba902b7".into()),
            fields: Some(r#"{"disk":"/dev/sda1","pct":97}"#.into()),
            raw: Some(b"\xff\xfe raw \x1b[31m bytes".to_vec()),
            source: Some("/var/log/app.log".into()),
            line: Some(42),
            unknown: vec![],
        }
    }

    #[test]
    fn a_full_record_round_trips() {
        let record = full();
        assert_eq!(Record::decode(&record.to_bytes()).unwrap(), record);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let mut bytes = full().to_bytes();
        put_varint(&mut bytes, 99);
        put_varint(&mut bytes, 3);
        bytes.extend_from_slice(b"new");
        let decoded = Record::decode(&bytes).unwrap();
        assert_eq!(decoded.unknown, vec![(99, b"new".to_vec())]);
        assert_eq!(decoded.to_bytes(), bytes);
    }

    #[test]
    fn damaged_records_are_errors() {
        let bytes = full().to_bytes();
        for cut in 1..bytes.len() {
            // Every strict prefix either fails or decodes to something else, never panics.
            let _ = Record::decode(&bytes[..cut]);
        }
        assert_eq!(Record::decode(&[5, 10, b'a']), Err(RecordError::Truncated));
        assert_eq!(Record::decode(&[3, 1, 9]), Err(RecordError::BadLevel(9)));
        assert_eq!(
            Record::decode(&[5, 2, 0xff, 0xfe]),
            Err(RecordError::NotUtf8 { tag: 5 })
        );
        assert_eq!(Record::decode(&[0xff; 12]), Err(RecordError::BadVarint));
    }

    fn arb_text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(".{0,40}")
    }

    prop_compose! {
        fn arb_record()(
            ts_nanos in proptest::option::of(any::<i64>()),
            ts_text in arb_text(),
            level in proptest::option::of(1u8..=6),
            level_text in arb_text(),
            message in ".{0,200}",
            service in arb_text(),
            host in arb_text(),
            trace_id in arb_text(),
            span_id in arb_text(),
            fields in arb_text(),
            raw in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
            source in arb_text(),
            line in proptest::option::of(any::<u64>()),
            unknown in proptest::collection::vec((14u64..1_000_000, proptest::collection::vec(any::<u8>(), 0..20)), 0..3),
        ) -> Record {
            Record {
                ts_nanos, ts_text, level: level.and_then(Level::from_code), level_text, message,
                service, host, trace_id, span_id, fields, raw, source, line, unknown,
            }
        }
    }

    proptest! {
        #[test]
        fn any_record_round_trips(record in arb_record()) {
            prop_assert_eq!(Record::decode(&record.to_bytes()).unwrap(), record);
        }

        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Record::decode(&bytes);
        }

        #[test]
        fn encoded_len_is_the_length_of_the_encoding(record in arb_record()) {
            prop_assert_eq!(record.encoded_len(), record.to_bytes().len());
        }

        #[test]
        fn varints_round_trip(value in any::<u64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            prop_assert_eq!(varint_len(value), out.len());
            let mut slice = out.as_slice();
            prop_assert_eq!(take_varint(&mut slice).unwrap(), value);
            prop_assert!(slice.is_empty());
        }
    }
}
