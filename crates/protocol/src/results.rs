//! What the store answers with: result rows, pages, histograms, facets and bundle
//! summaries. The store (`trawl-store`) produces these types and the worker forwards them to
//! the app, so both sides of the protocol read the same shapes; the rows of lists (pages,
//! context, traces) go to the app as [`Row::listed`] makes them.

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

/// The most characters of a message a listed row carries ([`Row::listed`]): more than the
/// widest screen shows in a row, and a bounded cost to send and lay out however long the
/// logged line was.
pub const LISTED_MESSAGE_CHARS: usize = 1_000;

/// What ends a listed message that was cut ([`Row::listed`]).
pub const CUT_MARK: char = '…';

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

impl Row {
    /// The row as a list shows it: the message cut to its first line and to at most
    /// [`LISTED_MESSAGE_CHARS`] characters, ended by [`CUT_MARK`] when anything was left out,
    /// and no structured fields. Lists (results, context, trace) show one line per record; a
    /// logged line of megabytes sent and laid out whole froze the viewer for seconds a frame.
    /// The whole record comes with its [`Detail`].
    pub fn listed(mut self) -> Self {
        let message = self.message.as_str();
        let first_line = message.split('\n').next().unwrap_or(message);
        let shown = leading_chars(first_line, LISTED_MESSAGE_CHARS).unwrap_or(first_line);
        if shown.len() < message.len() {
            let left_out = !message[shown.len()..].trim().is_empty();
            let mut cut = String::with_capacity(shown.len() + CUT_MARK.len_utf8());
            cut.push_str(shown);
            if left_out {
                cut.push(CUT_MARK);
            }
            self.message = cut;
        }
        self.fields = None;
        self
    }
}

/// The first `n` characters of `text` when it has more, else `None`: where lists, the detail
/// pane and the SQL console cut a long text, always at a character boundary.
pub fn leading_chars(text: &str, n: usize) -> Option<&str> {
    text.char_indices().nth(n).map(|(end, _)| &text[..end])
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
/// blob is shown as `x'…'` hex of its first 64 bytes and its length, a text longer than the
/// console's limit as its start, `…` and its length.
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
    /// Results before the first bucket: with no start asked for, the axis leaves out a few
    /// records whose times lie far from all the others (a clock at 1970, a year typo), which
    /// would squeeze the rest into one bar.
    pub earlier: Option<OffAxis>,
    /// Results after the last bucket, left out as [`earlier`](Self::earlier) ones are.
    pub later: Option<OffAxis>,
    /// Results with no time to place them at (none of their own, and none on a line before
    /// them in their source, whose time they would take): in no bucket.
    pub untimed: u64,
}

/// Results a [`Histogram`] leaves off its axis, and the span of the store's records they are
/// in: a time range (both ends inclusive) that shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffAxis {
    pub records: u64,
    pub from_nanos: i64,
    pub to_nanos: i64,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(message: &str) -> Row {
        Row {
            id: 1,
            ts_nanos: Some(2),
            level: Some(3),
            service: Some("api".into()),
            host: Some("web-1".into()),
            trace_id: Some("4bf9".into()),
            span_id: Some("00f0".into()),
            message: message.into(),
            fields: Some(r#"{"user":7}"#.into()),
            source: Some("app.log".into()),
            line: Some(9),
        }
    }

    #[test]
    fn a_listed_row_keeps_a_short_message_and_everything_but_the_fields() {
        let listed = row("disk almost full").listed();
        assert_eq!(
            listed,
            Row {
                fields: None,
                ..row("disk almost full")
            }
        );
    }

    #[test]
    fn a_listed_row_shows_the_first_line_and_marks_the_rest_as_left_out() {
        let trace = "NullPointerException: x\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)";
        assert_eq!(row(trace).listed().message, "NullPointerException: x…");
        // A trailing line break leaves nothing out.
        assert_eq!(row("done\n").listed().message, "done");
    }

    #[test]
    fn a_listed_row_cuts_a_long_line_at_a_character_boundary() {
        let long = "é".repeat(LISTED_MESSAGE_CHARS + 5);
        let listed = row(&long).listed().message;
        assert_eq!(listed.chars().count(), LISTED_MESSAGE_CHARS + 1);
        assert!(listed.starts_with(&"é".repeat(LISTED_MESSAGE_CHARS)));
        assert!(listed.ends_with(CUT_MARK));
        let exact = "x".repeat(LISTED_MESSAGE_CHARS);
        assert_eq!(row(&exact).listed().message, exact);
    }

    #[test]
    fn leading_chars_cuts_only_longer_text_at_a_character_boundary() {
        assert_eq!(leading_chars("abc", 3), None);
        assert_eq!(leading_chars("abcd", 3), Some("abc"));
        assert_eq!(leading_chars("ééé", 2), Some("éé"));
        assert_eq!(leading_chars("", 0), None);
    }
}
