//! The bundles a store holds: what the viewer's library lists.

use rusqlite::params;
use serde::Serialize;
use trawl_bundle::Finding;

use crate::{Result, Store};

/// One imported bundle, summed over its segments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

impl Store {
    /// The bundles in the store, by name.
    pub fn bundles(&self) -> Result<Vec<BundleSummary>> {
        let mut by_bundle = self.conn.prepare(
            "SELECT bundle, count(*), sum(records), min(min_ts), max(max_ts), sum(bytes),
                    min(bytes > 0)
             FROM segments GROUP BY bundle ORDER BY bundle",
        )?;
        let mut findings = self.conn.prepare_cached(
            "SELECT findings FROM segments WHERE bundle = ?1 AND findings != '[]'
             ORDER BY segment_seq",
        )?;
        let mut out = Vec::new();
        let mut rows = by_bundle.query([])?;
        while let Some(row) = rows.next()? {
            let name: String = row.get(0)?;
            let mut texts = Vec::new();
            let mut stored = findings.query(params![name])?;
            while let Some(f) = stored.next()? {
                let json: String = f.get(0)?;
                // Written by this crate from `Finding`s; anything else is shown as it is.
                match serde_json::from_str::<Vec<Finding>>(&json) {
                    Ok(list) => texts.extend(list.iter().map(Finding::to_string)),
                    Err(_) => texts.push(json),
                }
            }
            out.push(BundleSummary {
                name,
                segments: row.get::<_, i64>(1)?.unsigned_abs(),
                records: row.get::<_, i64>(2)?.unsigned_abs(),
                min_ts_nanos: row.get(3)?,
                max_ts_nanos: row.get(4)?,
                bytes: row.get::<_, i64>(5)?.unsigned_abs(),
                complete: row.get(6)?,
                findings: texts,
            });
        }
        Ok(out)
    }
}
