//! Record keys: the `records.id` (and FTS5 rowid) of a record orders records by time.
//!
//! A key is `(milliseconds since 2000-01-01 UTC) << 20 | slot`. Ordering by key is ordering by
//! time at millisecond resolution, then by arrival within a millisecond. Because FTS5 walks
//! its matches in rowid order, "the newest 100 matches of `timeout`" is read straight off the
//! index with no sort, at any store size; a time range is a rowid range FTS5 can seek to.
//!
//! 43 bits of milliseconds reach the year 2278; 2^20 slots per millisecond are more than any
//! log produces (a full millisecond spills into the next: order stays right to the ms).

/// Milliseconds of the key epoch (2000-01-01T00:00:00Z) after the Unix epoch.
const EPOCH_MS: i64 = 946_684_800_000;
/// Bits of the slot within one millisecond.
pub const SLOT_BITS: u32 = 20;
const MAX_MS: i64 = (1 << 43) - 1;

/// The first key of the millisecond holding `ts_nanos` (clamped to the key range). Records
/// with a time at or after `ts_nanos`' millisecond have keys `>=` this.
pub fn floor(ts_nanos: i64) -> i64 {
    ms_of(ts_nanos) << SLOT_BITS
}

/// The first key after the millisecond holding `ts_nanos`.
pub fn ceil(ts_nanos: i64) -> i64 {
    (ms_of(ts_nanos) + 1) << SLOT_BITS
}

/// The time (Unix nanoseconds, at millisecond resolution) a key stands for.
pub fn time_of(key: i64) -> i64 {
    ((key >> SLOT_BITS) + EPOCH_MS).saturating_mul(1_000_000)
}

/// The minute (since the key epoch) a key falls in.
pub fn minute_of(key: i64) -> i64 {
    (key >> SLOT_BITS) / 60_000
}

/// The first key of `minute` (since the key epoch).
pub fn of_minute(minute: i64) -> i64 {
    (minute * 60_000) << SLOT_BITS
}

/// Milliseconds since the key epoch, clamped to `0..=MAX_MS`.
fn ms_of(ts_nanos: i64) -> i64 {
    (ts_nanos.div_euclid(1_000_000) - EPOCH_MS).clamp(0, MAX_MS)
}

/// Hands out keys for records in arrival order. A record without a time takes the time of the
/// record before it (it stays beside its neighbours, as in the file).
///
/// Slots rise with each record, so records of one millisecond keep the order they arrived in
/// (a file's lines of the same second stay in file order), wherever in the file they are and
/// whatever the seed. The count starts below [`START_SPREAD`] and goes back to its start only
/// after [`RESTART_AFTER`] records, and then only where a record opens another millisecond
/// than the one before it: a run of records in one millisecond never wraps round, and only a
/// run of more than a quarter million in one millisecond spills into the next. (A millisecond
/// met again after the count started again sorts its later records first.)
///
/// Keys of another import may already fill a millisecond (two bundles of the same logs, or
/// logs with second-resolution times): when the caller finds a key taken it reports the
/// highest key taken in that millisecond with [`KeyAllocator::taken`], and from then on this
/// allocator continues that millisecond after it, so each collision costs one lookup rather
/// than one probe per record already there.
#[derive(Debug, Default, Clone)]
pub struct KeyAllocator {
    last_ts: Option<i64>,
    /// The millisecond (its first key) of the last key handed out.
    last_base: Option<i64>,
    /// Where the slot count starts (and starts again).
    start: i64,
    /// The slot of the last key handed out (more than a millisecond holds if it spilled).
    slot: i64,
    /// Per millisecond found occupied: the next key to hand out in it.
    resume: std::collections::HashMap<i64, i64>,
}

/// Seeds spread the count's start over this many slots.
pub const START_SPREAD: i64 = 1 << (SLOT_BITS - 2);
/// After this many slots from its start, the count starts again at the next record of another
/// millisecond: it then stands below `START_SPREAD + RESTART_AFTER`, a quarter of the slots
/// short of the end.
pub const RESTART_AFTER: i64 = 1 << (SLOT_BITS - 1);

impl KeyAllocator {
    /// An allocator whose slots start at a place chosen by `seed` (a segment's random salt):
    /// segments with records in the same milliseconds then rarely reach for the same keys.
    pub fn seeded(seed: u64) -> Self {
        let start = (seed % START_SPREAD as u64) as i64;
        Self {
            start,
            slot: start,
            ..Self::default()
        }
    }

    /// A key for the next record, whose time is `ts_nanos`.
    pub fn next(&mut self, ts_nanos: Option<i64>) -> i64 {
        if ts_nanos.is_some() {
            self.last_ts = ts_nanos;
        }
        let base = floor(self.last_ts.unwrap_or(0));
        if let Some(next) = self.resume.get_mut(&base) {
            *next += 1;
            return *next - 1;
        }
        if self.slot - self.start >= RESTART_AFTER && self.last_base != Some(base) {
            self.slot = self.start;
        }
        self.last_base = Some(base);
        self.slot += 1;
        base + self.slot
    }

    /// `key` was taken and `highest` is the highest key taken in its millisecond (at or after
    /// `key`): returns the key to use instead, and continues the millisecond after it.
    pub fn taken(&mut self, key: i64, highest: i64) -> i64 {
        let base = key >> SLOT_BITS << SLOT_BITS;
        let next = highest.max(key) + 1;
        self.resume.insert(base, next + 1);
        next
    }

    /// The range of keys of the millisecond `key` is in: `[start, end)`.
    pub fn millisecond_of(key: i64) -> (i64, i64) {
        let start = key >> SLOT_BITS << SLOT_BITS;
        (start, start + (1 << SLOT_BITS))
    }

    /// Forgets the time carried over to records without one (a new source starts).
    pub fn reset_time(&mut self) {
        self.last_ts = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::test;

    const T: i64 = 1_700_000_000_123_456_789;

    #[test]
    fn keys_order_by_millisecond_then_arrival() {
        let mut keys = KeyAllocator::default();
        let a = keys.next(Some(T));
        let b = keys.next(Some(T - 1_000_000));
        let c = keys.next(Some(T));
        assert!(b < a && a < c);
        assert!(floor(T) <= a && a < ceil(T));
        assert_eq!(time_of(a), T / 1_000_000 * 1_000_000);
    }

    #[test]
    fn after_a_collision_the_millisecond_continues_after_the_highest_taken() {
        let mut keys = KeyAllocator::default();
        let first = keys.next(Some(T));
        let instead = keys.taken(first, first + 500);
        assert_eq!(instead, first + 501);
        assert_eq!(keys.next(Some(T)), first + 502);
        assert_eq!(keys.next(Some(T)), first + 503);
        // Other milliseconds are not affected.
        let other = keys.next(Some(T + 5_000_000));
        assert_eq!(other >> SLOT_BITS, (T + 5_000_000) / 1_000_000 - EPOCH_MS);
        assert_eq!(KeyAllocator::millisecond_of(first + 7), (floor(T), ceil(T)));
    }

    #[test]
    fn records_of_one_millisecond_keep_their_order_whatever_the_seed() {
        // (With 2^19 - 510, a count that wrapped at 2^20 did so amid the run.)
        for seed in [0, (1 << 19) - 510, (1 << SLOT_BITS) - 3, u64::MAX] {
            let mut keys = KeyAllocator::seeded(seed);
            // Enough records, each in a millisecond of its own, to bring the count past its
            // restart (where a count of 2^20 slots used to wrap round)...
            for i in 0..RESTART_AFTER + 10 {
                keys.next(Some(T + i * 1_000_000));
            }
            // ...then a run in one millisecond, the next record in another, and a run again.
            let run: Vec<i64> = (0..1000).map(|_| keys.next(Some(T))).collect();
            assert!(run.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
            assert!(run
                .iter()
                .all(|&k| KeyAllocator::millisecond_of(k).0 == floor(T)));
            let other = keys.next(Some(T + 1_000_000));
            let again: Vec<i64> = (0..1000).map(|_| keys.next(Some(T))).collect();
            assert!(again.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
            assert!(other > again[999]);
        }
    }

    #[test]
    fn a_millisecond_met_again_later_keeps_its_order_whatever_the_seed() {
        // Two milliseconds taking turns, as out-of-order timestamps do, for as many records as
        // a large segment holds.
        for seed in [0, START_SPREAD as u64 - 1, (1 << 19) - 1] {
            let mut keys = KeyAllocator::seeded(seed);
            let mut a = Vec::new();
            for i in 0..400_000 {
                let key = keys.next(Some(T + (i % 2) * 1_000_000));
                if i % 2 == 0 {
                    a.push(key);
                }
            }
            assert!(a.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
        }
    }

    #[test]
    fn a_millisecond_of_more_records_than_slots_spills_into_the_next_in_order() {
        let mut keys = KeyAllocator::seeded(START_SPREAD as u64 - 1);
        let run: Vec<i64> = (0..(1 << SLOT_BITS) - START_SPREAD + 10)
            .map(|_| keys.next(Some(T)))
            .collect();
        assert!(run.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(run[run.len() - 1] >> SLOT_BITS, (floor(T) >> SLOT_BITS) + 1);
    }

    #[test]
    fn records_without_time_stay_beside_the_one_before() {
        let mut keys = KeyAllocator::default();
        let a = keys.next(Some(T));
        let b = keys.next(None);
        assert_eq!(a >> SLOT_BITS, b >> SLOT_BITS);
        keys.reset_time();
        assert_eq!(keys.next(None) >> SLOT_BITS, 0);
    }

    #[test]
    fn times_outside_the_range_are_clamped() {
        assert_eq!(floor(0), 0);
        assert_eq!(floor(i64::MIN), 0);
        // Every i64 nanosecond time (up to 2262) has a key of its own millisecond.
        assert_eq!(
            floor(i64::MAX) >> SLOT_BITS,
            i64::MAX / 1_000_000 - EPOCH_MS
        );
        assert!(ceil(i64::MAX) > floor(i64::MAX));
    }
}
