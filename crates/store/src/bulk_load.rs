//! Bulk loads: imports whose full-text index is merged once, at the end, instead of as it grows.
//!
//! Every committed import batch writes its postings into a new FTS5 b-tree (a "segment").
//! Ordinarily FTS5 merges a level's segments [`AUTOMERGE`] at a time as they accumulate, so a
//! store is fast to query while an import runs, as the viewer's is. A store that is optimized
//! right after its import, as `trawl query`'s cache is, rewrites the merged segments once
//! more: the merges during the import are wasted there. A bulk load holds them back and
//! merges everything once.
//!
//! Measured on the benchmark corpus, 1M records into a file, as `trawl query` indexes: import
//! and optimize took 7.5 s instead of 8.5 s (1.13x; the median of three interleaved pairs,
//! 1.24x, 1.00x and 1.14x), the import alone 6.0 s. Into memory, three pairs gave 1.12-1.18x.

use crate::{Result, Store};

/// Segments FTS5 merges at a time in an ordinary import (set by schema migration 7), and how
/// many one level may hold before it merges them at once ("crisismerge", FTS5's default).
pub(crate) const AUTOMERGE: i64 = 16;

/// How many segments one level may hold during a bulk load before FTS5 merges them at once.
/// It bounds the segments a query reads while the load runs: the default batch of 20,000
/// records makes 64 of them at 1.28M records.
const BULK_CRISISMERGE: i64 = 64;

/// How the full-text index merges its segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Merges {
    /// As segments accumulate, [`AUTOMERGE`] at a time.
    AsTheyGrow,
    /// Only when a level reaches [`BULK_CRISISMERGE`] segments.
    HeldBack,
}

impl Store {
    /// Runs `load`, which imports into this store, with the full-text index's merges held
    /// back, then merges the whole index into one b-tree ([`Store::optimize`]).
    ///
    /// Worth it when the store would be optimized after the import anyway: `trawl query`
    /// indexes a bundle this way. Queries run while the load is under way read up to 64
    /// unmerged b-trees per level, so the viewer, which queries as records land, imports
    /// ordinarily.
    ///
    /// Whether `load` succeeds or fails, the ordinary merge settings are restored before this
    /// returns, and what `load` committed stays; the final merge runs only if `load`
    /// succeeded. A process that dies during the load leaves the settings held back in the
    /// file; the next [`Store::open`] restores them.
    pub fn bulk_load<T, E: From<crate::StoreError>>(
        &mut self,
        load: impl FnOnce(&mut Store) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        set_merges(self, Merges::HeldBack)?;
        let loaded = load(self);
        let restored = set_merges(self, Merges::AsTheyGrow);
        let value = loaded?;
        restored?;
        self.optimize()?;
        Ok(value)
    }
}

/// Restores the ordinary merge settings if a bulk load was interrupted and left them held
/// back. Writes nothing otherwise.
pub(crate) fn restore_interrupted(store: &Store) -> Result<()> {
    let held_back: bool = store.conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM records_fts_config
                        WHERE (k = 'automerge' OR k = 'crisismerge') AND v != ?1)",
        [AUTOMERGE],
        |r| r.get(0),
    )?;
    if held_back {
        set_merges(store, Merges::AsTheyGrow)?;
    }
    Ok(())
}

fn set_merges(store: &Store, merges: Merges) -> Result<()> {
    let (automerge, crisismerge) = match merges {
        Merges::AsTheyGrow => (AUTOMERGE, AUTOMERGE),
        // An automerge of 0 turns incremental merging off.
        Merges::HeldBack => (0, BULK_CRISISMERGE),
    };
    store.conn.execute(
        "INSERT INTO records_fts(records_fts, rank) VALUES ('automerge', ?1), ('crisismerge', ?2)",
        [automerge, crisismerge],
    )?;
    Ok(())
}
