//! What the store answers with: result rows, pages, histograms, facets and bundle
//! summaries. The store (`trawl-store`) produces these types and the worker forwards them to
//! the app as they are, so both sides of the protocol read the same shapes.

use serde::{Deserialize, Serialize};

/// Level names by code (1 = trace … 6 = fatal; 0 = no level), as the query language spells them.
pub const LEVEL_NAMES: [&str; 7] = ["none", "trace", "debug", "info", "warn", "error", "fatal"];

/// The name of level code `code` (`"none"` for codes out of range).
pub fn level_name(code: Option<u8>) -> &'static str {
    LEVEL_NAMES
        .get(usize::from(code.unwrap_or(0)))
        .copied()
        .unwrap_or(LEVEL_NAMES[0])
}

/// One result row: everything the result list shows (the raw line comes with [`Detail`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The record's key: time-ordered, unique in the store, the cursor for pagination.
    pub id: i64,
    pub ts_nanos: Option<i64>,
    /// Level code: 1 = trace … 6 = fatal.
    pub level: Option<u8>,
    pub service: Option<String>,
    pub host: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub message: String,
    /// The structured fields as JSON object text.
    pub fields: Option<String>,
    pub source: Option<String>,
    pub line: Option<u64>,
}

/// A record with its raw bytes, for the detail pane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    pub row: Row,
    /// The line(s) exactly as read (the message when they were the same).
    pub raw: String,
    /// The bundle the record was imported from.
    pub bundle: String,
}

/// Records around one record from the same source, in line order: what a person reads to see
/// what led up to a hit and what followed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// The records before it, oldest first.
    pub before: Vec<Row>,
    pub record: Row,
    /// The records after it.
    pub after: Vec<Row>,
}

/// The records of one trace in time order, across services: what the trace view lays out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub rows: Vec<Row>,
    /// Whether the trace has more records than were asked for (they come after `rows`).
    pub more: bool,
}

/// What a read-only SQL console statement returned. Values are JSON: numbers, text, null; a
/// blob is shown as `x'…'` hex of its first 64 bytes and its length.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// Whether rows beyond the row limit were left out.
    pub truncated: bool,
}

/// Which end of the results a page starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    NewestFirst,
    OldestFirst,
}

/// Where a page starts, in the display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cursor {
    /// The first page.
    Start,
    /// The page after the row with this id (scrolling on).
    After(i64),
    /// The page before the row with this id (scrolling back), still in display order.
    Before(i64),
}

/// A page of results in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub rows: Vec<Row>,
    /// Whether more rows lie beyond the page in the direction it was read.
    pub more: bool,
}

/// Record counts per time bucket and level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    /// Start of the first bucket (Unix nanoseconds).
    pub start_nanos: i64,
    /// Width of every bucket.
    pub bucket_nanos: i64,
    /// Per bucket: counts by level code (index 0: records without a level).
    pub buckets: Vec<[u64; 7]>,
}

/// A query's histogram and main facets, computed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub histogram: Histogram,
    /// Level codes (as text, like [`Facet::Level`]), most common first.
    pub levels: Vec<FacetValue>,
    pub services: Vec<FacetValue>,
    pub hosts: Vec<FacetValue>,
}

/// A field to count values of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Facet {
    Level,
    Service,
    Host,
    Source,
    /// A structured field, dotted for nesting.
    Field(String),
}

/// One value of a facet and how many results have it (`None`: the field is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetValue {
    pub value: Option<String>,
    pub count: u64,
}

/// One imported bundle, summed over its segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleSummary {
    /// The name the bundle was imported under.
    pub name: String,
    /// Segments imported (wholly or in part).
    pub segments: u64,
    /// Records stored.
    pub records: u64,
    /// Earliest and latest record time (Unix nanoseconds).
    pub min_ts_nanos: Option<i64>,
    pub max_ts_nanos: Option<i64>,
    /// Bytes of the segment files read to their end.
    pub bytes: u64,
    /// Whether every segment was read to its end (an import not cancelled or cut short).
    pub complete: bool,
    /// Integrity findings of its segments, as sentences naming file and offset.
    pub findings: Vec<String>,
    /// Its sources' longest unusual silences, longest first: the time gaps of the integrity
    /// report (see `Store::bundles` for what counts as one).
    pub gaps: Vec<Gap>,
}

/// A silence in one source: no record of it between two consecutive ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    pub source: Option<String>,
    /// The last record before the gap and the first after it.
    pub before_id: i64,
    pub after_id: i64,
    /// Their times (Unix nanoseconds).
    pub from_nanos: i64,
    pub to_nanos: i64,
}
