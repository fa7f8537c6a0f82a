//! When the results refresh while an import adds records: paced by what searches cost, so that
//! refreshing takes a bounded share of the worker's time however big the store grows.
//!
//! The worker runs searches and import batches on one thread. A refresh (first page, total,
//! histogram and facets) costs little on a small store and hundreds of milliseconds on one of
//! hundreds of thousands of records: refreshed at a fixed rate, it would take a growing share of
//! the import's time as the store grows.

use trawl_protocol::{ImportProgress, RequestId};

/// Refreshes start at most this often (ms).
const MIN_INTERVAL_MS: f64 = 700.0;
/// After a search, the worker gets at least this many times its cost for other work before a
/// refresh is due: refreshes then take at most a fifth of its time.
const IDLE_PER_COST: f64 = 4.0;

/// The searches run so far and the import records the results show, which decide whether an
/// import's progress is worth a refresh now.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshPace {
    /// The import whose records the results last refreshed for, and its records committed by
    /// then.
    shown: Option<(RequestId, u64)>,
    /// Searches asked of the worker whose answers are not all in.
    running: u32,
    /// When the last search began and when the last one ended (ms).
    began_ms: f64,
    ended_ms: f64,
    /// How long the last search to end took (ms), from when the app asked for it: that
    /// includes waiting for the import batch under way in the worker, which is the import's
    /// time, not the search's. Kept on purpose: counted from the search's first answer instead,
    /// a 200,000-record first visit refreshed 5 times instead of 3 or 4 and its import took
    /// 8-14% longer (2 pairs of runs); a refresh a second instead of every 0.8 s is not worth
    /// that while the import is what the user waits for.
    cost_ms: f64,
}

/// A search under way, as [`RefreshPace::search_began`] counted it; give it back to
/// [`RefreshPace::search_ended`].
#[must_use = "a search that began must be ended"]
#[derive(Debug)]
pub struct SearchRunning {
    began_ms: f64,
}

impl RefreshPace {
    /// Whether `progress` is worth refreshing the results for at time `now_ms`: an import's
    /// first records at once; more of them once no search is running, [`MIN_INTERVAL_MS`] has
    /// passed since the last search began, and [`IDLE_PER_COST`] times its cost since it ended.
    pub fn due(&self, progress: &ImportProgress, now_ms: f64) -> bool {
        let shown = match self.shown {
            Some((import, records)) if import == progress.import => records,
            _ => 0,
        };
        if progress.records <= shown {
            return false;
        }
        shown == 0
            || (self.running == 0
                && now_ms - self.began_ms >= MIN_INTERVAL_MS
                && now_ms - self.ended_ms >= IDLE_PER_COST * self.cost_ms)
    }

    /// Notes that the results refresh for `progress`'s records.
    pub fn refreshing(&mut self, progress: &ImportProgress) {
        self.shown = Some((progress.import, progress.records));
    }

    /// Notes that a search began at `now_ms`.
    pub fn search_began(&mut self, now_ms: f64) -> SearchRunning {
        self.running += 1;
        self.began_ms = now_ms;
        SearchRunning { began_ms: now_ms }
    }

    /// Notes that `search` ended (all its answers in, or given up) at `now_ms`.
    pub fn search_ended(&mut self, search: SearchRunning, now_ms: f64) {
        self.running = self.running.saturating_sub(1);
        self.ended_ms = now_ms;
        self.cost_ms = (now_ms - search.began_ms).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(import: u64, records: u64) -> ImportProgress {
        ImportProgress {
            import,
            bundle: "b".into(),
            file: "segment-000001.trawl".into(),
            bytes_fetched: 0,
            bytes_imported: 0,
            bytes_total: None,
            records,
            elapsed_ms: 0.0,
        }
    }

    /// Refreshes for `pace`'s import from time `from_ms` to `to_ms`, with progress every 50 ms
    /// and searches that cost `cost_ms(started)`; returns the times refreshes started.
    fn simulate(
        pace: &mut RefreshPace,
        from_ms: f64,
        to_ms: f64,
        cost_ms: impl Fn(f64) -> f64,
    ) -> Vec<f64> {
        let mut started = Vec::new();
        let mut running: Option<(SearchRunning, f64)> = None;
        let mut now = from_ms;
        while now < to_ms {
            if let Some((_, ends)) = &running {
                if *ends <= now {
                    let (search, ends) = running.take().unwrap();
                    pace.search_ended(search, ends);
                }
            }
            let update = progress(1, 1 + now as u64);
            if pace.due(&update, now) {
                pace.refreshing(&update);
                started.push(now);
                running = Some((pace.search_began(now), now + cost_ms(now)));
            }
            now += 50.0;
        }
        started
    }

    #[test]
    fn an_imports_first_records_refresh_at_once_even_while_a_search_runs() {
        let mut pace = RefreshPace::default();
        let _user_search = pace.search_began(0.0);
        assert!(pace.due(&progress(1, 500), 10.0));
        pace.refreshing(&progress(1, 500));
        // Nothing new: nothing to refresh.
        assert!(!pace.due(&progress(1, 500), 5000.0));
        // Another import's first records are new records too.
        assert!(pace.due(&progress(2, 100), 20.0));
    }

    #[test]
    fn cheap_searches_refresh_every_seven_tenths_of_a_second() {
        let mut pace = RefreshPace::default();
        let started = simulate(&mut pace, 0.0, 10_000.0, |_| 40.0);
        let gaps: Vec<f64> = started.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&gap| gap == 700.0), "{gaps:?}");
        assert_eq!(started.len(), 15);
    }

    #[test]
    fn costly_searches_take_at_most_a_fifth_of_the_time() {
        let mut pace = RefreshPace::default();
        // Searches get dearer as the store grows: 100 ms at first, 1.1 s after 20 s.
        let cost = |at: f64| 100.0 + at / 20.0;
        let started = simulate(&mut pace, 0.0, 60_000.0, cost);
        let busy: f64 = started.iter().map(|&at| cost(at)).sum();
        assert!(busy <= 60_000.0 / 5.0 + cost(60_000.0), "busy {busy} ms");
        for pair in started.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= 5.0 * cost(pair[0]) - 50.0, "{pair:?}");
        }
        // Still refreshing to the end, only less often.
        let last = *started.last().unwrap();
        assert!(
            60_000.0 - last <= 5.0 * cost(60_000.0) + 50.0,
            "{started:?}"
        );
    }

    #[test]
    fn no_refresh_is_due_while_a_search_runs() {
        let mut pace = RefreshPace::default();
        pace.refreshing(&progress(1, 10));
        let search = pace.search_began(0.0);
        assert!(!pace.due(&progress(1, 5000), 10_000.0));
        pace.search_ended(search, 10_000.0);
        // Ten seconds' search: forty seconds for the import before the next.
        assert!(!pace.due(&progress(1, 5000), 49_000.0));
        assert!(pace.due(&progress(1, 5000), 50_000.0));
    }
}
