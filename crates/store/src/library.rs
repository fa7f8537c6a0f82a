//! The bundles a store holds: what the viewer's library lists.

use rusqlite::params;
use trawl_bundle::Finding;

use crate::{BundleSummary, Result, Store};

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

    /// Whether the segment `(writer_id, segment_seq, salt)` (as the bundle manifest writes
    /// them: 32 and 16 hex digits) was read to its end at `bytes` long: importing it again
    /// would add nothing, so an importer can skip fetching it.
    pub fn has_segment(
        &self,
        writer_id: &str,
        segment_seq: u64,
        salt: &str,
        bytes: u64,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM segments
                 WHERE writer_id = ?1 AND segment_seq = ?2 AND salt = ?3 AND bytes = ?4",
            )?
            .query_row(
                params![writer_id, segment_seq as i64, salt, bytes as i64],
                |r| r.get::<_, i64>(0),
            )?
            > 0)
    }
}
