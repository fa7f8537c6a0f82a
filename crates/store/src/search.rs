//! What the viewer asks of the store: pages of results, totals, histograms, facets, context,
//! traces and gaps, all for a [`Query`].
//!
//! Results are in key order ([`crate::key`]): time at millisecond resolution, then arrival.
//! Pages are keyset-paginated by key, so a page costs the same at row 10 and at row 10 million,
//! and a page stays put while more records are imported.

use std::collections::HashMap;

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension, Row as SqlRow};

use crate::key;
use crate::query::{compile, json_lookup, Compiled, Frag, Query};
use crate::{
    Context, Cursor, Detail, Facet, FacetValue, Gap, Histogram, OffAxis, Order, Overview, Page,
    Result, Row, Store, Trace,
};

/// The columns of a [`Row`] from `record_rows r`.
pub(crate) const ROW_COLUMNS: &str = "r.id, r.ts, r.level, r.service, r.host, r.trace_id, \
    r.span_id, r.message, r.fields, (SELECT path FROM sources WHERE id = r.source_id), r.line";

/// Reads a [`Row`] from the first columns of `row`, as listed by [`ROW_COLUMNS`].
pub(crate) fn row_from_sql(row: &SqlRow<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: row.get(0)?,
        ts_nanos: row.get(1)?,
        level: row.get(2)?,
        service: row.get(3)?,
        host: row.get(4)?,
        trace_id: row.get(5)?,
        span_id: row.get(6)?,
        message: row.get(7)?,
        fields: row.get(8)?,
        source: row.get(9)?,
        line: row.get::<_, Option<i64>>(10)?.map(i64::unsigned_abs),
    })
}

/// `records` results off a histogram's axis, in the strays' span of keys (or else `beyond`,
/// the span past the axis).
fn off_axis(records: u64, strays: Option<(i64, i64)>, beyond: (i64, i64)) -> Option<OffAxis> {
    let (from, to) = strays.unwrap_or(beyond);
    (records > 0).then(|| OffAxis {
        records,
        from_nanos: key::time_of(from),
        to_nanos: key::time_of(to),
    })
}

/// The SQL of the histogram bucket that the millisecond `ms` (since the key epoch) falls in,
/// given the first bucket's start, the width and where records with a time begin as
/// parameters 1 to 3: -1 before the start (SQL's division rounds towards zero, which would put
/// the millisecond just before it in bucket 0), NULL before records with a time.
fn bucket_of(ms: &str) -> String {
    format!("CASE WHEN {ms} < ?3 THEN NULL WHEN {ms} < ?1 THEN -1 ELSE ({ms} - ?1) / ?2 END")
}

/// The round bucket width (ms) at least `raw` ms wide: 1-2-5 steps below a second, then the
/// clock's steps (15 s, 30 s, 1 min, 5 min, 15 min, 1 h, 3 h, 12 h, 1 d, 7 d …).
fn nice_width(raw: i64) -> i64 {
    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    const NICE: [i64; 33] = [
        1,
        2,
        5,
        10,
        20,
        50,
        100,
        200,
        500,
        SECOND,
        2 * SECOND,
        5 * SECOND,
        10 * SECOND,
        15 * SECOND,
        30 * SECOND,
        MINUTE,
        2 * MINUTE,
        5 * MINUTE,
        10 * MINUTE,
        15 * MINUTE,
        30 * MINUTE,
        HOUR,
        2 * HOUR,
        3 * HOUR,
        6 * HOUR,
        12 * HOUR,
        DAY,
        2 * DAY,
        7 * DAY,
        14 * DAY,
        30 * DAY,
        91 * DAY,
        365 * DAY,
    ];
    NICE.iter()
        .copied()
        .find(|&w| w >= raw)
        .unwrap_or_else(|| (raw + DAY - 1) / DAY * DAY)
}

/// The `limit` largest counts, largest first (then by value).
fn top(counts: HashMap<Option<String>, u64>, limit: usize) -> Vec<FacetValue> {
    let mut values: Vec<FacetValue> = counts
        .into_iter()
        .map(|(value, count)| FacetValue { value, count })
        .collect();
    values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    values.truncate(limit);
    values
}

/// The SQL that selects a query's records, in pieces a statement is built from.
struct Plan {
    compiled: Compiled,
}

impl Plan {
    /// `FROM … WHERE …` selecting the results as `r`, optionally only keys `op bound`; and
    /// the column to order by (FTS5's rowid when FTS5 drives, so it walks its index in order).
    ///
    /// With `columns` false the caller reads no column of `r`: when FTS5 alone decides the
    /// results, the records are then not joined at all.
    fn selection(&self, bound: Option<(&str, i64)>, columns: bool) -> (Frag, &'static str) {
        let c = &self.compiled;
        let mut sql = String::new();
        let mut params = Vec::new();
        let key = if let Some(fts) = &c.fts {
            sql.push_str(" FROM records_fts");
            if columns || c.filter.is_some() {
                sql.push_str(" CROSS JOIN record_rows r ON r.id = records_fts.rowid");
            }
            sql.push_str(" WHERE records_fts MATCH ?");
            params.push(Value::Text(fts.clone()));
            "records_fts.rowid"
        } else {
            sql.push_str(" FROM record_rows r WHERE 1");
            "r.id"
        };
        for (op, value) in [(">=", c.lo), ("<", c.hi)]
            .into_iter()
            .chain(bound.map(|(op, v)| (op, Some(v))))
        {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {key} {op} ?"));
                params.push(Value::Integer(v));
            }
        }
        if let Some(filter) = &c.filter {
            sql.push_str(" AND ");
            sql.push_str(&filter.sql);
            params.extend(filter.params.iter().cloned());
        }
        (Frag { sql, params }, key)
    }

    /// `FROM rollup… r WHERE …` selecting the rollup rows of the results at `grain`, if the
    /// query can be answered from the rollup: a filter on level, service, host and source only,
    /// and a time range (if any) of whole grains.
    fn rollup_selection(&self, grain: Grain) -> Option<Frag> {
        let c = &self.compiled;
        let minute = |bound: Option<i64>| match bound {
            None => Some(None),
            Some(k) => {
                let m = key::minute_of(k);
                (key::of_minute(m) == k && m % grain.minutes() == 0).then_some(Some(m))
            }
        };
        let (lo, hi) = (minute(c.lo)?, minute(c.hi)?);
        if !c.rollup {
            return None;
        }
        let mut frag = Frag {
            sql: format!(" FROM {} r WHERE 1", grain.table()),
            params: Vec::new(),
        };
        for (op, bound) in [(">=", lo), ("<", hi)] {
            if let Some(m) = bound {
                frag.sql.push_str(&format!(" AND r.minute {op} ?"));
                frag.params.push(Value::Integer(m));
            }
        }
        if let Some(filter) = &c.filter {
            frag.sql.push_str(" AND ");
            frag.sql.push_str(&filter.sql);
            frag.params.extend(filter.params.iter().cloned());
        }
        Some(frag)
    }

    /// The coarsest rollup that answers the query (for totals, where time does not matter).
    fn any_rollup(&self) -> Option<Frag> {
        self.rollup_selection(Grain::Hour)
            .or_else(|| self.rollup_selection(Grain::Minute))
    }
}

/// The time resolution of a rollup table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grain {
    Minute,
    Hour,
}

impl Grain {
    fn minutes(self) -> i64 {
        match self {
            Grain::Minute => 1,
            Grain::Hour => 60,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Grain::Minute => "rollup",
            Grain::Hour => "rollup_hour",
        }
    }
}

impl Store {
    fn plan(&self, query: &Query) -> Result<Plan> {
        let newest: Option<i64> =
            self.conn
                .query_row("SELECT max(max_ts) FROM segments", [], |r| r.get(0))?;
        Ok(Plan {
            compiled: compile(&query.expr, newest.unwrap_or(0)),
        })
    }

    /// Up to `limit` results of `query` from `cursor` on, in `order`.
    pub fn page(&self, query: &Query, order: Order, cursor: Cursor, limit: usize) -> Result<Page> {
        let plan = self.plan(query)?;
        // Reading backwards is reading the other order and turning the page around.
        let (descending, bound, reverse) = match (order, cursor) {
            (Order::NewestFirst, Cursor::Start) => (true, None, false),
            (Order::OldestFirst, Cursor::Start) => (false, None, false),
            (Order::NewestFirst, Cursor::After(id)) => (true, Some(("<", id)), false),
            (Order::OldestFirst, Cursor::After(id)) => (false, Some((">", id)), false),
            (Order::NewestFirst, Cursor::Before(id)) => (false, Some((">", id)), true),
            (Order::OldestFirst, Cursor::Before(id)) => (true, Some(("<", id)), true),
        };
        let (mut frag, key) = plan.selection(bound, true);
        let dir = if descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {ROW_COLUMNS}{} ORDER BY {key} {dir} LIMIT ?",
            frag.sql
        );
        frag.params.push(Value::Integer(limit as i64 + 1));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt
            .query_map(params_from_iter(frag.params), row_from_sql)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        if reverse {
            rows.reverse();
        }
        Ok(Page { rows, more })
    }

    /// The exact number of results of `query`.
    pub fn count(&self, query: &Query) -> Result<u64> {
        let plan = self.plan(query)?;
        if let Some(frag) = plan.any_rollup() {
            let sql = format!("SELECT coalesce(sum(r.n), 0){}", frag.sql);
            let n: i64 = self
                .conn
                .prepare_cached(&sql)?
                .query_row(params_from_iter(frag.params), |r| r.get(0))?;
            return Ok(n.unsigned_abs());
        }
        let (frag, _) = plan.selection(None, false);
        let sql = format!("SELECT count(*){}", frag.sql);
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(frag.params), |r| r.get(0))?;
        Ok(n.unsigned_abs())
    }

    /// Results of `query` per time bucket and level, over the query's time range (or the
    /// store's records, less strays far off in time: [`crate::time_axis`]): about `buckets`
    /// buckets (at most one more) of a round width (1 s, 5 min, 1 h, 1 d …) aligned to
    /// multiples of it, as Grafana and Kibana draw them. Results off the axis and results
    /// without a time are counted beside the buckets.
    pub fn histogram(&self, query: &Query, buckets: usize) -> Result<Histogram> {
        Ok(self.overview(query, buckets, 0)?.histogram)
    }

    /// The histogram of `query` (as [`Store::histogram`]) and its `facet_limit` most common
    /// levels, services and hosts, all from one pass over the results (or the rollup).
    pub fn overview(&self, query: &Query, buckets: usize, facet_limit: usize) -> Result<Overview> {
        let plan = self.plan(query)?;
        let c = &plan.compiled;
        let buckets = buckets.max(1);
        // An end the query leaves open is where the store's records are, less strays far off
        // (see `time_axis`). With no record that has a time, every result is untimed.
        let axis = self.time_axis()?;
        let (min, max) = axis.map_or((0, 0), |a| a.whole);
        let shown = axis.map_or((0, 0), |a| a.shown);
        let ms = |k: i64| k >> key::SLOT_BITS;
        let lo = ms(c.lo.map_or(shown.0, |l| l.max(min)));
        let hi = ms(c.hi.map_or(shown.1, |h| (h - 1).min(max))).max(lo) + 1;
        let width = nice_width((hi - lo + buckets as i64 - 1) / buckets as i64);
        let lo = lo.div_euclid(width) * width;
        let buckets = usize::try_from((hi - lo + width - 1) / width)
            .unwrap_or(1)
            .max(1);
        let end = lo + width * buckets as i64;
        // Records without a time have keys of the key epoch's first millisecond: before the
        // hour of the first record with one (the rollup's grain is the hour at most).
        let timed = match axis {
            Some(_) => ms(min) - ms(min).rem_euclid(3_600_000),
            None => i64::MAX,
        };
        // Buckets of whole hours or minutes come from the rollup at that grain.
        let rollup = [Grain::Hour, Grain::Minute].into_iter().find_map(|grain| {
            let grain_ms = grain.minutes() * 60_000;
            (width % grain_ms == 0)
                .then(|| plan.rollup_selection(grain))
                .flatten()
        });
        let (sql, params) = match rollup {
            Some(mut frag) => {
                let sql = format!(
                    "SELECT {}, coalesce(r.level, 0), r.service, r.host, sum(r.n){}
                     GROUP BY 1, 2, 3, 4",
                    bucket_of("r.minute * 60000"),
                    frag.sql
                );
                let mut params = vec![
                    Value::Integer(lo),
                    Value::Integer(width),
                    Value::Integer(timed),
                ];
                params.append(&mut frag.params);
                (sql, params)
            }
            None => {
                let (mut frag, key) = plan.selection(None, true);
                let sql = format!(
                    "SELECT {}, coalesce(r.level, 0), r.service, r.host, count(*){}
                     GROUP BY 1, 2, 3, 4",
                    bucket_of(&format!("({key} >> {})", key::SLOT_BITS)),
                    frag.sql
                );
                let mut params = vec![
                    Value::Integer(lo),
                    Value::Integer(width),
                    Value::Integer(timed),
                ];
                params.append(&mut frag.params);
                (sql, params)
            }
        };
        let mut out = vec![[0u64; 7]; buckets];
        let (mut earlier, mut later, mut untimed) = (0, 0, 0);
        let mut levels: HashMap<Option<String>, u64> = HashMap::new();
        let mut services: HashMap<Option<String>, u64> = HashMap::new();
        let mut hosts: HashMap<Option<String>, u64> = HashMap::new();
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            let (b, level, n): (Option<i64>, i64, i64) = (row.get(0)?, row.get(1)?, row.get(4)?);
            let n = n.unsigned_abs();
            match (b.map(usize::try_from), usize::try_from(level)) {
                (None, _) => untimed += n,
                (Some(Err(_)), _) => earlier += n,
                (Some(Ok(b)), _) if b >= buckets => later += n,
                (Some(Ok(b)), Ok(level)) if level < 7 => out[b][level] += n,
                _ => {}
            }
            *levels
                .entry((level > 0).then(|| level.to_string()))
                .or_default() += n;
            *services.entry(row.get(2)?).or_default() += n;
            *hosts.entry(row.get(3)?).or_default() += n;
        }
        Ok(Overview {
            histogram: Histogram {
                start_nanos: key::time_of(lo << key::SLOT_BITS),
                bucket_nanos: width * 1_000_000,
                buckets: out,
                earlier: off_axis(
                    earlier,
                    axis.and_then(|a| a.earlier),
                    (min, (lo << key::SLOT_BITS) - 1),
                ),
                later: off_axis(
                    later,
                    axis.and_then(|a| a.later),
                    (end << key::SLOT_BITS, max),
                ),
                untimed,
            },
            levels: top(levels, facet_limit),
            services: top(services, facet_limit),
            hosts: top(hosts, facet_limit),
        })
    }

    /// The `limit` most common values of `facet` among the results of `query`, most common
    /// first.
    pub fn facet(&self, query: &Query, facet: &Facet, limit: usize) -> Result<Vec<FacetValue>> {
        let plan = self.plan(query)?;
        let rollup = match facet {
            Facet::Field(_) => None,
            _ => plan.any_rollup(),
        };
        let (count, frag) = match rollup {
            Some(frag) => ("sum(r.n)", frag),
            None => ("count(*)", plan.selection(None, true).0),
        };
        let mut params = Vec::new();
        let column = match facet {
            Facet::Level => "CAST(r.level AS TEXT)".to_owned(),
            Facet::Service => "r.service".to_owned(),
            Facet::Host => "r.host".to_owned(),
            Facet::Source => "r.source_id".to_owned(),
            Facet::Field(path) => {
                let lookup = json_lookup(path);
                params.extend(lookup.params);
                format!("CAST({} AS TEXT)", lookup.sql)
            }
        };
        // Sources are counted by id and named once per value.
        let value = match facet {
            Facet::Source => "(SELECT path FROM sources WHERE id = f.value)",
            _ => "f.value",
        };
        params.extend(frag.params);
        params.push(Value::Integer(limit as i64));
        let sql = format!(
            "SELECT {value}, f.n FROM (SELECT {column} AS value, {count} AS n{} GROUP BY 1) f
             ORDER BY 2 DESC, 1 LIMIT ?",
            frag.sql
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let values = stmt
            .query_map(params_from_iter(params), |r| {
                Ok(FacetValue {
                    value: r.get(0)?,
                    count: r.get::<_, i64>(1)?.unsigned_abs(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(values)
    }

    /// The record `id` with its raw bytes, or `None` if there is no such record.
    pub fn record(&self, id: i64) -> Result<Option<Detail>> {
        let sql = format!(
            "SELECT {ROW_COLUMNS}, coalesce(r.raw, CAST(r.message AS BLOB)), s.bundle
             FROM record_rows r JOIN segments s ON s.id = r.segment WHERE r.id = ?1"
        );
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row([id], |r| {
                Ok(Detail {
                    row: row_from_sql(r)?,
                    raw: String::from_utf8_lossy(&r.get::<_, Vec<u8>>(11)?).into_owned(),
                    bundle: r.get(12)?,
                })
            })
            .optional()?)
    }

    /// Up to `before` and `after` records around record `id` from the same source, in line
    /// order (key order for records without a source).
    pub fn context(&self, id: i64, before: usize, after: usize) -> Result<Option<Context>> {
        let Some(detail) = self.record(id)? else {
            return Ok(None);
        };
        let record = detail.row;
        let (before_rows, after_rows) = match (&record.source, record.line) {
            (Some(source), Some(line)) => {
                let near = |op: &str, dir: &str, n: usize| -> Result<Vec<Row>> {
                    let sql = format!(
                        "SELECT {ROW_COLUMNS} FROM record_rows r
                         WHERE r.source_id = (SELECT id FROM sources WHERE path = ?1)
                           AND (r.line {op} ?2 OR (r.line = ?2 AND r.id {op} ?3))
                         ORDER BY r.line {dir}, r.id {dir} LIMIT ?4"
                    );
                    let rows = self
                        .conn
                        .prepare_cached(&sql)?
                        .query_map(params![source, line as i64, id, n as i64], row_from_sql)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok(rows)
                };
                (near("<", "DESC", before)?, near(">", "ASC", after)?)
            }
            _ => {
                let near = |op: &str, dir: &str, n: usize| -> Result<Vec<Row>> {
                    let sql = format!(
                        "SELECT {ROW_COLUMNS} FROM record_rows r WHERE r.source_id IS NULL AND r.id {op} ?1
                         ORDER BY r.id {dir} LIMIT ?2"
                    );
                    let rows = self
                        .conn
                        .prepare_cached(&sql)?
                        .query_map(params![id, n as i64], row_from_sql)?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok(rows)
                };
                (near("<", "DESC", before)?, near(">", "ASC", after)?)
            }
        };
        let mut before_rows = before_rows;
        before_rows.reverse();
        Ok(Some(Context {
            before: before_rows,
            record,
            after: after_rows,
        }))
    }

    /// The first `limit` records of trace `trace_id`, oldest first (found through the
    /// full-text index, which holds trace ids whole).
    pub fn trace(&self, trace_id: &str, limit: usize) -> Result<Trace> {
        let query = Query {
            expr: crate::query::Expr::Field {
                field: crate::query::Field::TraceId,
                cmp: crate::query::Cmp::Eq,
                value: trace_id.to_owned(),
                prefix: false,
            },
        };
        let mut rows = Vec::new();
        let more = self.each_match(&query, Order::OldestFirst, limit, |row| {
            rows.push(row.clone());
            Ok::<_, crate::StoreError>(())
        })?;
        Ok(Trace { rows, more })
    }

    /// Silences longer than `min_nanos` between consecutive records of each source, longest
    /// first, at most `limit`.
    pub fn gaps(&self, min_nanos: i64, limit: usize) -> Result<Vec<Gap>> {
        let sql = "SELECT (SELECT path FROM sources WHERE id = source_id),
                          prev_id, id, prev_ts, ts FROM (
                       SELECT source_id, id, ts,
                              lag(id) OVER w AS prev_id, lag(ts) OVER w AS prev_ts
                       FROM record_rows WHERE ts IS NOT NULL
                       WINDOW w AS (PARTITION BY source_id ORDER BY id))
                   WHERE ts - prev_ts > ?1
                   ORDER BY ts - prev_ts DESC LIMIT ?2";
        let gaps = self
            .conn
            .prepare_cached(sql)?
            .query_map(params![min_nanos, limit as i64], |r| {
                Ok(Gap {
                    source: r.get(0)?,
                    before_id: r.get(1)?,
                    after_id: r.get(2)?,
                    from_nanos: r.get(3)?,
                    to_nanos: r.get(4)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(gaps)
    }
}
