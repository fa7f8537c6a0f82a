//! Where a histogram's time axis runs when no range is asked for: over the store's records,
//! less a few strays far in time from all the others.
//!
//! One record stamped 1970 or 2100 (a device's clock before NTP, a mistyped year, an epoch in
//! the wrong unit) among a day of logs would stretch the axis over decades and squeeze the day
//! into one bar. So the axis leaves out a stretch of hours at either end when
//! - it holds at most one record in [`STRAY_SHARE`] (and at least one may always go), and
//! - the time between it and the rest is longer than the rest spans.
//!
//! The histogram counts the results it leaves out and says where they are
//! ([`crate::OffAxis`]): nothing is hidden, the viewer offers to show them.

use rusqlite::params;

use crate::{key, Result, Store};

/// The axis may leave out at most one record in this many.
pub const STRAY_SHARE: u64 = 1000;

/// Spans of keys of the store's records with a time, each from its first key to its last
/// (inclusive, in whole milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeAxis {
    /// All of them.
    pub whole: (i64, i64),
    /// Those on the axis.
    pub shown: (i64, i64),
    /// The strays before the axis, if any.
    pub earlier: Option<(i64, i64)>,
    /// The strays after it, if any.
    pub later: Option<(i64, i64)>,
}

/// A time axis found, and when: the data's version (`PRAGMA data_version`, which other
/// connections' commits change) and this connection's count of rows changed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cached {
    version: (i64, u64),
    axis: Option<TimeAxis>,
}

impl Store {
    /// The store's time axis, `None` while no record has a time. Found again only when the
    /// data changed: reading the rollup for it took 6.5 ms at 1M records, as long as the rest
    /// of a histogram of errors.
    pub(crate) fn time_axis(&self) -> Result<Option<TimeAxis>> {
        let data_version: i64 = self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?;
        let version = (data_version, self.conn.total_changes());
        if let Some(cached) = self.time_axis.get().filter(|c| c.version == version) {
            return Ok(cached.axis);
        }
        let axis = self.find_time_axis()?;
        self.time_axis.set(Some(Cached { version, axis }));
        Ok(axis)
    }

    fn find_time_axis(&self) -> Result<Option<TimeAxis>> {
        let (min, max): (Option<i64>, Option<i64>) =
            self.conn
                .query_row("SELECT min(min_ts), max(max_ts) FROM segments", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
        let (Some(min), Some(max)) = (min, max) else {
            return Ok(None);
        };
        let whole = (key::floor(min), key::ceil(max) - 1);
        // Records without a time before the first with one hold the key epoch's time, in an
        // hour of their own: they are not on any axis.
        let first_hour = key::minute_of(whole.0) - key::minute_of(whole.0).rem_euclid(60);
        let hours: Vec<(i64, u64)> = self
            .conn
            .prepare_cached(
                "SELECT minute, sum(n) FROM rollup_hour WHERE minute BETWEEN ?1 AND ?2
                 GROUP BY minute ORDER BY minute",
            )?
            .query_map(params![first_hour, key::minute_of(whole.1)], |r| {
                Ok((r.get(0)?, r.get::<_, i64>(1)?.unsigned_abs()))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let whole_axis = TimeAxis {
            whole,
            shown: whole,
            earlier: None,
            later: None,
        };
        let Some((first, last)) = kept_hours(&hours) else {
            return Ok(Some(whole_axis));
        };
        if (first, last) == (0, hours.len() - 1) {
            return Ok(Some(whole_axis));
        }
        let (start, end) = (
            key::of_minute(hours[first].0),
            key::of_minute(hours[last].0 + 60),
        );
        // The records nearest to either side of the kept hours, within the whole span.
        let keys: [Option<i64>; 4] = self.conn.query_row(
            "SELECT (SELECT max(id) FROM record_rows WHERE id >= ?1 AND id < ?2),
                    (SELECT min(id) FROM record_rows WHERE id >= ?2 AND id < ?3),
                    (SELECT max(id) FROM record_rows WHERE id >= ?2 AND id < ?3),
                    (SELECT min(id) FROM record_rows WHERE id >= ?3 AND id <= ?4)",
            params![whole.0, start, end, whole.1],
            |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
        )?;
        let ms_start = |k: i64| k >> key::SLOT_BITS << key::SLOT_BITS;
        let ms_end = |k: i64| ms_start(k) + (1 << key::SLOT_BITS) - 1;
        let [before, lo, hi, after] = keys;
        Ok(Some(TimeAxis {
            whole,
            shown: (lo.map_or(start, ms_start), hi.map_or(end - 1, ms_end)),
            earlier: before.map(|k| (whole.0, ms_end(k))),
            later: after.map(|k| (ms_start(k), whole.1)),
        }))
    }
}

/// The first and last of `hours` (each the first minute of an hour with its record count, in
/// time order) that the axis keeps, as the [module](self) says; `None` if there are none.
pub(crate) fn kept_hours(hours: &[(i64, u64)]) -> Option<(usize, usize)> {
    let total: u64 = hours.iter().map(|&(_, n)| n).sum();
    let mut budget = (total / STRAY_SHARE).max(1);
    let (mut first, mut last) = (0, hours.len().checked_sub(1)?);
    // Minutes from the start of hour `a` to the end of hour `b`.
    let span = |a: usize, b: usize| hours[b].0 - hours[a].0 + 60;
    // Empty minutes between hour `a` and the later hour `b`.
    let gap = |a: usize, b: usize| hours[b].0 - hours[a].0 - 60;
    loop {
        let mut changed = false;
        // The furthest cut from the start that leaves out few enough records, far enough off.
        let (mut cut, mut left_out) = (None, 0);
        for (i, &(_, n)) in hours.iter().enumerate().take(last).skip(first) {
            left_out += n;
            if left_out > budget {
                break;
            }
            if gap(i, i + 1) > span(i + 1, last) {
                cut = Some((i + 1, left_out));
            }
        }
        if let Some((i, n)) = cut {
            (first, budget, changed) = (i, budget - n, true);
        }
        // The same from the end.
        let (mut cut, mut left_out) = (None, 0);
        for i in (first + 1..=last).rev() {
            left_out += hours[i].1;
            if left_out > budget {
                break;
            }
            if gap(i - 1, i) > span(first, i - 1) {
                cut = Some((i - 1, left_out));
            }
        }
        if let Some((i, n)) = cut {
            (last, budget, changed) = (i, budget - n, true);
        }
        if !changed {
            return Some((first, last));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60;

    /// `n` records in each of `hours` consecutive hours from minute `start`.
    fn run(start: i64, hours: i64, n: u64) -> Vec<(i64, u64)> {
        (0..hours).map(|h| (start + h * 60, n)).collect()
    }

    #[test]
    fn an_axis_keeps_every_hour_when_no_time_is_far_off() {
        assert_eq!(kept_hours(&[]), None);
        assert_eq!(kept_hours(&[(0, 1)]), Some((0, 0)));
        let day = run(0, 24, 1000);
        assert_eq!(kept_hours(&day), Some((0, 23)));
        // Two days of logs a week apart are two bursts, not strays.
        let mut weeks = run(0, 24, 1000);
        weeks.extend(run(7 * DAY, 24, 1000));
        assert_eq!(kept_hours(&weeks), Some((0, 47)));
    }

    #[test]
    fn an_axis_leaves_out_a_few_records_far_from_the_rest() {
        // A day of logs, one record at 2100 and three in 1970 spread over two hours.
        let mut hours = vec![(0, 2), (60, 1)];
        hours.extend(run(30 * 365 * DAY, 24, 1000));
        hours.push((100 * 365 * DAY, 1));
        assert_eq!(kept_hours(&hours), Some((2, 25)));
        // A record a few hours after an hour of logs is far off for that hour...
        let late = vec![(0, 5000), (4 * 60, 1)];
        assert_eq!(kept_hours(&late), Some((0, 0)));
        // ...but not for a day of them.
        let mut day = run(0, 24, 1000);
        day.push((28 * 60, 1));
        assert_eq!(kept_hours(&day), Some((0, 24)));
    }

    #[test]
    fn an_axis_leaves_out_no_more_than_one_record_in_a_thousand() {
        let mut hours = run(0, 10, 100);
        // 1,000 records in all: one may go, two may not.
        hours.push((365 * DAY, 2));
        assert_eq!(kept_hours(&hours), Some((0, 10)));
        hours.last_mut().unwrap().1 = 1;
        assert_eq!(kept_hours(&hours), Some((0, 9)));
        // Leaving the strays at one end out can make those at the other end far off.
        let mut both = vec![(0, 1)];
        both.extend(run(20 * DAY, 24, 1000));
        both.push((50 * DAY, 1));
        assert_eq!(kept_hours(&both), Some((1, 24)));
    }
}
