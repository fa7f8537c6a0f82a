//! trawl's query language: [`parse`](Query::parse) text into an expression, compile it to SQL
//! with bound parameters only (no query text is ever spliced into SQL).
//!
//! | you write | it finds |
//! |---|---|
//! | `timeout refused` | records with both words (message or fields) |
//! | `"connection reset"` | the words in this order |
//! | `timeout OR refused`, `(a OR b) c` | either; parentheses group |
//! | `-healthcheck`, `NOT healthcheck` | records without it |
//! | `NullPointer*`, `"payment ap"*` | a prefix (of the last word) |
//! | `level:error`, `level:>=warn` | by severity (`trace` … `fatal`) |
//! | `service:payment-api`, `host:web-1`, `source:app.log` | by exact value; `service:pay*` by prefix |
//! | `trace_id:4bf9…`, `span_id:00f0…` | one trace or span |
//! | `fields.user_id:42`, `fields.http.status:>=500` | any structured field (dotted names both flat and nested) |
//! | `since:-15m`, `until:2024-05-01T10:00:00Z` | a time range; relative times count back from the newest record |
//! | `/time(d)? ?out/` | a regular expression over the message, as a filter |
//!
//! Words go through trawl's [tokenizer](crate::tokenizer) like the indexed text does, so
//! `payment`, `payment-api`, `api/v1/orders`, a trace id or an IP address find what they look
//! like they should. The grammar is in `query/parse.rs`.

mod compile;
mod parse;

use std::fmt;

pub(crate) use compile::{compile, json_lookup, Compiled, Frag};

/// A parsed query, ready to run against a store.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub(crate) expr: Expr,
}

impl Query {
    /// Parses `text`. The empty query matches every record.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        Ok(Self {
            expr: parse::parse(text)?,
        })
    }

    /// The query that matches every record.
    pub fn all() -> Self {
        Self { expr: Expr::All }
    }

    /// This query limited to records from `from` until `to` (Unix nanoseconds, both
    /// inclusive at millisecond resolution), like adding `since:` and `until:` terms: what a
    /// time range picked in a histogram does to the query typed in the search box.
    pub fn within(self, from: Option<i64>, to: Option<i64>) -> Self {
        let mut terms = match self.expr {
            Expr::All => Vec::new(),
            Expr::And(terms) => terms,
            other => vec![other],
        };
        terms.extend(from.map(|t| Expr::Since(TimeValue::Absolute(t))));
        terms.extend(to.map(|t| Expr::Until(TimeValue::Absolute(t))));
        let expr = match terms.len() {
            0 => Expr::All,
            1 => terms.pop().expect("one term"),
            _ => Expr::And(terms),
        };
        Self { expr }
    }
}

/// Why a query does not parse: what was expected, at which column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based column, in characters, where the problem is.
    pub column: usize,
    pub message: String,
}

impl QueryError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

/// A query expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// Every record (the empty query).
    All,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// Full-text: a word, or (`phrase`) words in order; `prefix` for a trailing `*`.
    Text {
        text: String,
        prefix: bool,
        phrase: bool,
    },
    /// Severity compared with a level code (1 = trace … 6 = fatal).
    Level(Cmp, u8),
    Field {
        field: Field,
        cmp: Cmp,
        value: String,
        prefix: bool,
    },
    Regex(String),
    Since(TimeValue),
    Until(TimeValue),
}

/// A field a query term can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Field {
    Level,
    Service,
    Host,
    TraceId,
    SpanId,
    Source,
    Since,
    Until,
    /// A key of the structured fields, dotted for nesting (`http.status`).
    Json(String),
}

impl Field {
    fn name(&self) -> String {
        match self {
            Field::Level => "level".into(),
            Field::Service => "service".into(),
            Field::Host => "host".into(),
            Field::TraceId => "trace_id".into(),
            Field::SpanId => "span_id".into(),
            Field::Source => "source".into(),
            Field::Since => "since".into(),
            Field::Until => "until".into(),
            Field::Json(path) => format!("fields.{path}"),
        }
    }
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A time in a query: absolute, or relative to the newest record in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeValue {
    /// Unix nanoseconds.
    Absolute(i64),
    /// Nanoseconds from the newest record (negative: before it).
    Relative(i64),
}

impl TimeValue {
    /// `-15m`, `-2h`, `+30s`, `-7d`, `-1w`; RFC 3339 (`2024-05-01T10:00:00Z`, with offset);
    /// a civil date-time or date taken as UTC (`2024-05-01T10:00`, `2024-05-01 10:00:00`,
    /// `2024-05-01`).
    fn parse(text: &str) -> Option<Self> {
        if let Some(rel) = text.strip_prefix('-').or_else(|| text.strip_prefix('+')) {
            let unit_at = rel.find(|c: char| !c.is_ascii_digit())?;
            let (n, unit) = rel.split_at(unit_at);
            let n: i64 = n.parse().ok()?;
            let unit_nanos: i64 = match unit {
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "d" => 86_400_000_000_000,
                "w" => 604_800_000_000_000,
                _ => return None,
            };
            let nanos = n.checked_mul(unit_nanos)?;
            return Some(Self::Relative(if text.starts_with('-') {
                -nanos
            } else {
                nanos
            }));
        }
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return i64::try_from(ts.as_nanosecond()).ok().map(Self::Absolute);
        }
        let civil = text.parse::<jiff::civil::DateTime>().ok().or_else(|| {
            text.parse::<jiff::civil::Date>()
                .ok()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })?;
        let ts = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
        i64::try_from(ts.as_nanosecond()).ok().map(Self::Absolute)
    }

    /// Unix nanoseconds, with relative times counted from `newest`.
    fn resolve(self, newest: i64) -> i64 {
        match self {
            TimeValue::Absolute(t) => t,
            TimeValue::Relative(d) => newest.saturating_add(d),
        }
    }
}

/// The level code of a level name or number, as the query language takes it.
pub(crate) fn level_code(value: &str) -> Option<u8> {
    let code = match value.to_ascii_lowercase().as_str() {
        "trace" | "1" => 1,
        "debug" | "2" => 2,
        "info" | "information" | "3" => 3,
        "warn" | "warning" | "4" => 4,
        "error" | "err" | "5" => 5,
        "fatal" | "critical" | "crit" | "panic" | "6" => 6,
        _ => return None,
    };
    Some(code)
}

impl fmt::Display for Cmp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sql())
    }
}

#[cfg(test)]
mod tests;
