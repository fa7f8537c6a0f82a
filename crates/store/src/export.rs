//! Matches written out for people and tools: one JSON object per record, the shape that
//! `trawl query --json` prints and the viewer's Export saves, so the two agree.

use serde_json::{json, Value};
use trawl_bundle::Level;

use crate::{Cursor, Order, Query, Row, Store, StoreError};

/// Rows read per page while walking the matches.
const PAGE: usize = 1000;

/// `row` as a JSON object: `id`, `ts` (RFC 3339, UTC), `level` (its name), `service`,
/// `host`, `trace_id`, `span_id`, `message`, `fields` (the structured fields as an object,
/// or null), `source` and `line`.
pub fn json_line(row: &Row) -> Value {
    let fields: Value = row
        .fields
        .as_deref()
        .and_then(|f| serde_json::from_str(f).ok())
        .unwrap_or(Value::Null);
    json!({
        "id": row.id,
        "ts": row.ts_nanos.map(rfc3339),
        "level": row.level.and_then(Level::from_code).map(Level::as_str),
        "service": row.service,
        "host": row.host,
        "trace_id": row.trace_id,
        "span_id": row.span_id,
        "message": row.message,
        "fields": fields,
        "source": row.source,
        "line": row.line,
    })
}

/// Unix nanoseconds as an RFC 3339 time in UTC (the number itself if out of range).
pub fn rfc3339(nanos: i64) -> String {
    jiff::Timestamp::from_nanosecond(i128::from(nanos))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| nanos.to_string())
}

impl Store {
    /// Calls `each` with the first `limit` records matching `query` in `order`, read a page
    /// at a time (keyset, so memory stays one page whatever the limit). Returns whether more
    /// records matched than were passed on. An error from `each` stops the walk.
    pub fn each_match<E: From<StoreError>>(
        &self,
        query: &Query,
        order: Order,
        limit: usize,
        mut each: impl FnMut(&Row) -> std::result::Result<(), E>,
    ) -> std::result::Result<bool, E> {
        let mut cursor = Cursor::Start;
        let mut left = limit;
        loop {
            let page = self.page(query, order, cursor, left.clamp(1, PAGE))?;
            for row in page.rows.iter().take(left) {
                each(row)?;
            }
            let taken = page.rows.len().min(left);
            left -= taken;
            let more = page.more || taken < page.rows.len();
            match page.rows[..taken].last() {
                Some(last) if more && left > 0 => cursor = Cursor::After(last.id),
                _ => return Ok(more),
            }
        }
    }
}
