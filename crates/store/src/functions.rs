//! SQL functions trawl's queries call.

use std::sync::Arc;

use regex::Regex;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;
use rusqlite::Connection;

/// Registers trawl's SQL functions:
/// - `trawl_regexp(pattern, text)`: whether `text` matches the Rust regex `pattern` (compiled
///   once per statement). NULL text does not match.
/// - `trawl_contains(needle, text…)`: whether any `text` contains `needle`, ignoring ASCII
///   case. NULLs are skipped.
pub(crate) fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        "trawl_contains",
        -1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let ValueRef::Text(needle) = ctx.get_raw(0) else {
                return Ok(false);
            };
            Ok((1..ctx.len()).any(|i| match ctx.get_raw(i) {
                ValueRef::Text(text) => contains_ignore_ascii_case(text, needle),
                _ => false,
            }))
        },
    )?;
    conn.create_scalar_function(
        "trawl_regexp",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let re: Arc<Regex> = ctx.get_or_create_aux(0, |pattern| {
                Regex::new(pattern.as_str()?)
                    .map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
            })?;
            Ok(match ctx.get_raw(1) {
                ValueRef::Text(text) => re.is_match(&String::from_utf8_lossy(text)),
                _ => false,
            })
        },
    )
}

fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}
