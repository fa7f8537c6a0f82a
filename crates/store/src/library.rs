//! The bundles a store holds: what the viewer's library lists, with each bundle's integrity
//! report (the findings of its segments and the time gaps of its sources).

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension};
use trawl_bundle::Finding;

use crate::{key, BundleSummary, Gap, Result, Store};

/// A silence is a gap of the integrity report when it lasts at least this many whole minutes…
const GAP_MIN_MINUTES: f64 = 5.0;
/// …and at least this many times as long as the source's usual spacing between minutes that
/// have records (so an hourly cron job's silent hours are not gaps, a busy stream's 5 minutes
/// are).
const GAP_USUAL_FACTOR: f64 = 5.0;
/// Gaps reported per bundle at most, longest first.
const GAPS_PER_BUNDLE: usize = 10;

impl Store {
    /// The bundles in the store, by name, with their integrity reports.
    ///
    /// A bundle's gaps are silences of one source (file or stream), found from the minutes
    /// each source has records in (kept at import, so this reads those minutes, not the
    /// records). A source is silent while whole minutes go by without a record of it; the
    /// silence is a gap when it lasts at least 5 minutes and 5 times the source's usual
    /// spacing between minutes with records. The longest 10 are reported, each between the
    /// exact records that end and resume the silence.
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
            let gaps = self.bundle_gaps(&name, row.get(3)?)?;
            out.push(BundleSummary {
                name,
                segments: row.get::<_, i64>(1)?.unsigned_abs(),
                records: row.get::<_, i64>(2)?.unsigned_abs(),
                min_ts_nanos: row.get(3)?,
                max_ts_nanos: row.get(4)?,
                bytes: row.get::<_, i64>(5)?.unsigned_abs(),
                complete: row.get(6)?,
                findings: texts,
                gaps,
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

    /// The longest unusual silences of bundle `bundle`'s sources (whose records start at
    /// `since_nanos`), longest first: see [`bundles`](Self::bundles).
    fn bundle_gaps(&self, bundle: &str, since_nanos: Option<i64>) -> Result<Vec<Gap>> {
        let Some(since) = since_nanos else {
            return Ok(Vec::new());
        };
        // Minutes with records, by source. Records before the bundle's first time have none
        // of their own (they borrowed the key of the record before them) and are left out.
        let mut minutes: BTreeMap<Option<i64>, Vec<i64>> = BTreeMap::new();
        let mut active = self.conn.prepare_cached(
            "SELECT DISTINCT source_id, minute FROM source_minutes
             WHERE segment IN (SELECT id FROM segments WHERE bundle = ?1) AND minute >= ?2
             ORDER BY source_id, minute",
        )?;
        let mut rows = active.query(params![bundle, key::minute_of(key::floor(since))])?;
        while let Some(row) = rows.next()? {
            minutes.entry(row.get(0)?).or_default().push(row.get(1)?);
        }
        let mut path_of = self
            .conn
            .prepare_cached("SELECT path FROM sources WHERE id = ?1")?;
        // (silent minutes, source path, source id, last minute before, first minute after)
        let mut silences = Vec::new();
        for (&source, minutes) in &minutes {
            if minutes.len() < 2 {
                continue;
            }
            let path: Option<String> = match source {
                Some(id) => path_of.query_row([id], |r| r.get(0)).optional()?,
                None => None,
            };
            let span = minutes[minutes.len() - 1] - minutes[0];
            let usual = span as f64 / (minutes.len() - 1) as f64;
            let least = GAP_MIN_MINUTES.max(GAP_USUAL_FACTOR * usual);
            for pair in minutes.windows(2) {
                let silent = pair[1] - pair[0] - 1;
                if silent as f64 >= least {
                    silences.push((silent, path.clone(), source, pair[0], pair[1]));
                }
            }
        }
        silences.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        silences.truncate(GAPS_PER_BUNDLE);
        // The last (or first) record of `source` in `minute`: (id, time).
        let edge = |source: Option<i64>, minute: i64, last: bool| -> Result<Option<(i64, i64)>> {
            let sql = if last {
                "SELECT id, ts FROM record_rows
                 WHERE id >= ?1 AND id < ?2 AND source_id IS ?3
                   AND segment IN (SELECT id FROM segments WHERE bundle = ?4)
                 ORDER BY id DESC LIMIT 1"
            } else {
                "SELECT id, ts FROM record_rows
                 WHERE id >= ?1 AND id < ?2 AND source_id IS ?3
                   AND segment IN (SELECT id FROM segments WHERE bundle = ?4)
                 ORDER BY id LIMIT 1"
            };
            let range = (key::of_minute(minute), key::of_minute(minute + 1));
            let found = self
                .conn
                .prepare_cached(sql)?
                .query_row(params![range.0, range.1, source, bundle], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
                })
                .optional()?;
            // A record without a timestamp has its key's time (its neighbour's).
            Ok(found.map(|(id, ts)| (id, ts.unwrap_or_else(|| key::time_of(id)))))
        };
        let mut gaps = Vec::with_capacity(silences.len());
        for (_, path, source, before, after) in silences {
            // Both are there, as the minutes were listed; a store edited by hand may differ.
            let (Some((before_id, from_nanos)), Some((after_id, to_nanos))) =
                (edge(source, before, true)?, edge(source, after, false)?)
            else {
                continue;
            };
            gaps.push(Gap {
                source: path,
                before_id,
                after_id,
                from_nanos,
                to_nanos,
            });
        }
        gaps.sort_by_key(|g| std::cmp::Reverse(g.to_nanos - g.from_nanos));
        Ok(gaps)
    }
}
