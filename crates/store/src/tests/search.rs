use super::data::{self, CRI_JSON, HDFS, OPENSSH};
use super::test;
use crate::{Cursor, Facet, Flow, ImportOptions, Order, Query, Store};
use trawl_bundle::{Level, Record};

/// A store holding three real logs and a few hand-made traced records.
fn store() -> (Store, Vec<Record>) {
    let mut store = Store::open_in_memory().unwrap();
    let mut all = Vec::new();
    for (i, (name, text)) in [
        ("OpenSSH_2k.log", OPENSSH),
        ("HDFS_2k.log", HDFS),
        ("apps.log", CRI_JSON),
    ]
    .into_iter()
    .enumerate()
    {
        let records = data::parse(name, text);
        let bytes = data::segment(100 + i as u128, 0, 0, &records, 64);
        store
            .import_segment(
                "samples",
                name,
                &bytes[..],
                ImportOptions::default(),
                &mut |_| Flow::Continue,
            )
            .unwrap();
        all.extend(records);
    }
    let t0 = 1_709_906_567_000_000_000;
    let traced: Vec<Record> = (0..5)
        .map(|i| Record {
            ts_nanos: Some(t0 + (4 - i) * 1_000_000),
            level: Some(Level::Info),
            service: Some(["gateway", "payment-api"][i as usize % 2].into()),
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736".into()),
            source: Some("traced.log".into()),
            line: Some(i as u64 + 1),
            fields: Some(format!(
                r#"{{"http":{{"status":{}}},"user.id":"u-{i}"}}"#,
                200 + i * 100
            )),
            ..Record::message(format!(
                "step {i} of GET /api/v1/orders/42 from 10.1.2.3:8080"
            ))
        })
        .collect();
    let bytes = data::segment(200, 0, 0, &traced, 64);
    store
        .import_segment(
            "hand",
            "traced",
            &bytes[..],
            ImportOptions::default(),
            &mut |_| Flow::Continue,
        )
        .unwrap();
    all.extend(traced);
    (store, all)
}

fn q(text: &str) -> Query {
    Query::parse(text).unwrap()
}

fn count(store: &Store, text: &str) -> u64 {
    store.count(&q(text)).unwrap()
}

fn scan(all: &[Record], keep: impl Fn(&Record) -> bool) -> u64 {
    all.iter().filter(|r| keep(r)).count() as u64
}

fn text_of(r: &Record) -> String {
    format!("{} {}", r.message, r.fields.as_deref().unwrap_or("")).to_lowercase()
}

#[test]
fn pages_walk_every_result_once_both_ways() {
    let (store, all) = store();
    let total = all.len() as u64;
    assert_eq!(count(&store, ""), total);
    for order in [Order::NewestFirst, Order::OldestFirst] {
        let mut seen = Vec::new();
        let mut cursor = Cursor::Start;
        let mut pages = Vec::new();
        loop {
            let page = store.page(&Query::all(), order, cursor, 97).unwrap();
            seen.extend(page.rows.iter().map(|r| r.id));
            pages.push(page.clone());
            if !page.more {
                break;
            }
            cursor = Cursor::After(page.rows.last().unwrap().id);
        }
        assert_eq!(seen.len() as u64, total);
        let ordered = seen.windows(2).all(|w| match order {
            Order::NewestFirst => w[0] > w[1],
            Order::OldestFirst => w[0] < w[1],
        });
        assert!(ordered, "{order:?}");
        // Back from page 3 is page 2, in display order.
        let back = store
            .page(
                &Query::all(),
                order,
                Cursor::Before(pages[2].rows[0].id),
                97,
            )
            .unwrap();
        assert_eq!(back.rows, pages[1].rows);
        assert!(back.more);
    }
    // Newest first starts with the newest time.
    let first = &store
        .page(&Query::all(), Order::NewestFirst, Cursor::Start, 1)
        .unwrap()
        .rows[0];
    let newest = all.iter().filter_map(|r| r.ts_nanos).max().unwrap();
    assert_eq!(first.ts_nanos.unwrap() / 1_000_000, newest / 1_000_000);
}

#[test]
fn text_queries_find_what_a_substring_scan_finds() {
    let (store, all) = store();
    let cases: &[(&str, &str)] = &[
        ("\"failed password\"", "failed password"),
        ("173.234.31.186", "173.234.31.186"),
        ("blk_-8775602795571523802", "blk_-8775602795571523802"),
        ("PacketResponder", "packetresponder"),
        ("\"api/v1/orders\"", "api/v1/orders"),
        ("10.1.2.3", "10.1.2.3"),
    ];
    for (query, needle) in cases {
        let expected = scan(&all, |r| text_of(r).contains(needle));
        assert!(expected > 0, "{query}");
        assert_eq!(count(&store, query), expected, "{query}");
        let page = store
            .page(&q(query), Order::NewestFirst, Cursor::Start, 10_000)
            .unwrap();
        assert_eq!(page.rows.len() as u64, expected, "{query}");
        assert!(page.rows.iter().all(|r| format!(
            "{} {}",
            r.message,
            r.fields.as_deref().unwrap_or("")
        )
        .to_lowercase()
        .contains(needle)));
    }
    // Prefix, OR, negation.
    let auth = scan(&all, |r| {
        text_of(r)
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.starts_with("authenticat"))
    });
    assert_eq!(count(&store, "authenticat*"), auth);
    let either = scan(&all, |r| {
        let t = text_of(r);
        t.contains("packetresponder") || t.contains("173.234.31.186")
    });
    assert_eq!(count(&store, "PacketResponder OR 173.234.31.186"), either);
    let not_hdfs = scan(&all, |r| !text_of(r).contains("packetresponder"));
    assert_eq!(count(&store, "-PacketResponder"), not_hdfs);
    let both = scan(&all, |r| {
        let t = text_of(r);
        t.contains("failed password") && !t.contains("root")
    });
    assert_eq!(count(&store, "\"failed password\" -root"), both);
}

#[test]
fn fields_levels_regex_and_time_filters() {
    let (store, all) = store();
    let info = scan(&all, |r| r.level == Some(Level::Info));
    assert_eq!(count(&store, "level:info"), info);
    let warn_up = scan(&all, |r| r.level >= Some(Level::Warn));
    assert_eq!(count(&store, "level:>=warn"), warn_up);
    assert_eq!(count(&store, "service:payment-api"), 2);
    assert_eq!(count(&store, "service:pay*"), 2);
    assert_eq!(count(&store, "-service:payment-api"), all.len() as u64 - 2);
    assert_eq!(count(&store, "source:HDFS_2k.log"), 2000);
    assert_eq!(
        count(&store, "trace_id:4bf92f3577b34da6a3ce929d0e0e4736"),
        5
    );
    assert_eq!(count(&store, "fields.user.id:u-3"), 1, "a flat dotted key");
    assert_eq!(count(&store, "fields.http.status:>=400"), 3, "a nested key");
    let pid = scan(&all, |r| {
        r.fields
            .as_deref()
            .is_some_and(|f| f.contains(r#""pid":17"#))
    });
    assert!(pid > 0);
    assert_eq!(count(&store, "fields.pid:17"), pid);
    let re = regex::Regex::new(r"TID \d+\)").unwrap();
    let tid = scan(&all, |r| re.is_match(&r.message));
    assert!(tid > 0);
    assert_eq!(count(&store, r"/TID \d+\)/"), tid);
    // Relative times count back from the newest record.
    let newest = all.iter().filter_map(|r| r.ts_nanos).max().unwrap();
    let floor_ms = |t: i64| t.div_euclid(1_000_000);
    let recent = scan(&all, |r| {
        r.ts_nanos
            .is_some_and(|t| floor_ms(t) >= floor_ms(newest - 60_000_000_000))
    });
    assert_eq!(count(&store, "since:-1m"), recent);
    assert_eq!(
        count(
            &store,
            "since:2024-03-08T14:02:48Z until:2024-03-08T14:02:49Z source:apps.log"
        ),
        scan(&all, |r| r.source.as_deref() == Some("apps.log")
            && r.ts_nanos.is_some_and(|t| (1_709_906_568_000_000_000
                ..1_709_906_569_001_000_000)
                .contains(&t)))
    );
    // A picked time range narrows the typed query like since:/until: terms.
    let (from, to) = (1_709_906_568_000_000_000, 1_709_906_569_000_000_000);
    let within = Query::parse("source:apps.log")
        .unwrap()
        .within(Some(from), Some(to));
    assert_eq!(
        store.count(&within).unwrap(),
        count(
            &store,
            "since:2024-03-08T14:02:48Z until:2024-03-08T14:02:49Z source:apps.log"
        )
    );
    assert_eq!(
        store.count(&Query::all().within(None, None)).unwrap(),
        all.len() as u64
    );
    // Everything together, FTS driving.
    assert_eq!(
        count(&store, "orders level:info service:gateway since:2024-01-01"),
        3
    );
}

#[test]
fn a_histogram_leaves_a_stray_time_off_its_axis_and_counts_it() {
    let mut store = Store::open_in_memory().unwrap();
    let hour = 3_600_000_000_000;
    let t0 = 1_763_800_000_000_000_000; // 2025-11-22
    let year_2100 = 4_102_444_800_000_000_000;
    let mut records: Vec<Record> = vec![Record::message("before any time".to_owned())];
    records.extend((0..2000).map(|i| Record {
        ts_nanos: Some(t0 + i * (hour / 1000)),
        level: Some(Level::Info),
        ..Record::message(format!("request {i}"))
    }));
    let import = |store: &mut Store, writer: u128, records: &[Record]| {
        let bytes = data::segment(writer, 0, 0, records, 64);
        store
            .import_segment(
                "stray",
                &format!("stray-{writer}"),
                &bytes[..],
                ImportOptions::default(),
                &mut |_| Flow::Continue,
            )
            .unwrap();
    };
    import(&mut store, 300, &records);
    let h = store.histogram(&q(""), 60).unwrap();
    assert_eq!(
        (h.buckets.iter().flatten().sum::<u64>(), h.later),
        (2000, None)
    );
    // The record before any time is counted apart.
    assert_eq!(h.untimed, 1);
    import(
        &mut store,
        301,
        &[Record {
            ts_nanos: Some(year_2100),
            ..Record::message("clock gone wrong".to_owned())
        }],
    );
    // The axis spans the two hours of requests, not the 75 years up to the stray.
    let h = store.histogram(&q(""), 60).unwrap();
    assert!(h.start_nanos <= t0 && t0 - h.start_nanos < hour, "{h:?}");
    let axis_end = h.start_nanos + h.bucket_nanos * h.buckets.len() as i64;
    assert!(
        axis_end >= t0 + 2 * hour && axis_end < t0 + 3 * hour,
        "{h:?}"
    );
    assert_eq!(h.buckets.iter().flatten().sum::<u64>(), 2000);
    assert_eq!(h.earlier, None);
    let later = h.later.clone().expect("the stray is counted");
    assert_eq!(later.records, 1);
    assert_eq!((later.from_nanos, later.to_nanos), (year_2100, year_2100));
    // Only the results off the axis are counted: a query without them has none.
    let h = store.histogram(&q("request"), 60).unwrap();
    assert_eq!(
        (h.buckets.iter().flatten().sum::<u64>(), h.later),
        (2000, None)
    );
    let h = store.histogram(&q("clock"), 60).unwrap();
    assert_eq!(h.buckets.iter().flatten().sum::<u64>(), 0);
    assert_eq!(h.later.map(|l| l.records), Some(1));
    // The range it names shows it; a range asked for is never cut.
    let range = q("").within(Some(later.from_nanos), Some(later.to_nanos));
    assert_eq!(store.count(&range).unwrap(), 1);
    let h = store.histogram(&range, 60).unwrap();
    assert_eq!(h.buckets.iter().flatten().sum::<u64>(), 1);
    let h = store
        .histogram(&q("").within(Some(t0), Some(year_2100)), 60)
        .unwrap();
    assert_eq!(
        (h.buckets.iter().flatten().sum::<u64>(), h.later),
        (2001, None)
    );
}

#[test]
fn results_without_a_time_are_counted_beside_the_histogram_with_their_facets() {
    let mut store = Store::open_in_memory().unwrap();
    let records: Vec<Record> = (0..30)
        .map(|i| Record {
            level: Some([Level::Info, Level::Error][i % 2]),
            ..Record::message(format!("worker picked job {i}"))
        })
        .collect();
    let bytes = data::segment(400, 0, 0, &records, 64);
    store
        .import_segment(
            "untimed",
            "untimed",
            &bytes[..],
            ImportOptions::default(),
            &mut |_| Flow::Continue,
        )
        .unwrap();
    let overview = store.overview(&q("job"), 60, 10).unwrap();
    let h = &overview.histogram;
    assert_eq!(h.buckets.iter().flatten().sum::<u64>(), 0);
    assert_eq!((h.untimed, &h.earlier, &h.later), (30, &None, &None));
    let levels: Vec<(Option<String>, u64)> = overview
        .levels
        .into_iter()
        .map(|v| (v.value, v.count))
        .collect();
    assert_eq!(
        levels,
        [(Some("3".to_owned()), 15), (Some("5".to_owned()), 15)]
    );
}

#[test]
fn histogram_and_facets_add_up_to_the_total() {
    let (store, all) = store();
    for query in [
        "",
        "level:info",
        "\"failed password\"",
        "block* -PacketResponder",
    ] {
        let total = count(&store, query);
        let h = store.histogram(&q(query), 60).unwrap();
        assert!((1..=61).contains(&h.buckets.len()), "{}", h.buckets.len());
        let sum: u64 = h.buckets.iter().flatten().sum();
        assert_eq!(sum, total, "{query}");
        let levels = store.facet(&q(query), &Facet::Level, 10).unwrap();
        assert_eq!(
            levels.iter().map(|v| v.count).sum::<u64>(),
            total,
            "{query}"
        );
        let sources = store.facet(&q(query), &Facet::Source, 10).unwrap();
        assert_eq!(
            sources.iter().map(|v| v.count).sum::<u64>(),
            total,
            "{query}"
        );
    }
    // The rollup's buckets (hours or minutes) hold exactly the records of their time span.
    for (query, buckets) in [
        ("", 7),
        ("", 5000),
        ("level:info", 40),
        ("source:HDFS_2k.log", 13),
    ] {
        let h = store.histogram(&q(query), buckets).unwrap();
        let buckets = h.buckets.len();
        let width_ms = h.bucket_nanos / 1_000_000;
        let start_ms = h.start_nanos / 1_000_000;
        let mut expected = vec![[0u64; 7]; buckets];
        for r in &all {
            let keep = match query {
                "level:info" => r.level == Some(Level::Info),
                "source:HDFS_2k.log" => r.source.as_deref() == Some("HDFS_2k.log"),
                _ => true,
            };
            let b = (r.ts_nanos.unwrap().div_euclid(1_000_000) - start_ms).div_euclid(width_ms);
            if keep && (0..buckets as i64).contains(&b) {
                expected[b as usize][r.level.map_or(0, |l| l.code() as usize)] += 1;
            }
        }
        assert_eq!(h.buckets, expected, "{query} in {buckets} buckets");
    }
    let services = store.facet(&Query::all(), &Facet::Service, 3).unwrap();
    assert!(services.len() <= 3);
    let status = store
        .facet(
            &q("trace_id:4bf92f3577b34da6a3ce929d0e0e4736"),
            &Facet::Field("user.id".into()),
            10,
        )
        .unwrap();
    assert_eq!(status.len(), 5);
    // Nested fields too, like the query language finds them.
    let nested = store
        .facet(
            &q("trace_id:4bf92f3577b34da6a3ce929d0e0e4736"),
            &Facet::Field("http.status".into()),
            10,
        )
        .unwrap();
    assert_eq!(nested.iter().map(|v| v.count).sum::<u64>(), 5);
    assert_eq!(nested[0].value.as_deref(), Some("200"));
    assert_eq!(all.len() as u64, count(&store, ""));
}

#[test]
fn context_trace_record_and_gaps() {
    let (store, _) = store();
    let hit = &store
        .page(
            &q("source:OpenSSH_2k.log"),
            Order::OldestFirst,
            Cursor::Start,
            2000,
        )
        .unwrap()
        .rows;
    let at = hit.iter().find(|r| r.line == Some(100)).unwrap();
    let ctx = store.context(at.id, 3, 2).unwrap().unwrap();
    let lines = |rows: &[crate::Row]| rows.iter().map(|r| r.line.unwrap()).collect::<Vec<_>>();
    assert_eq!(lines(&ctx.before), [97, 98, 99]);
    assert_eq!(ctx.record.line, Some(100));
    assert_eq!(lines(&ctx.after), [101, 102]);
    assert!(store.context(-1, 3, 3).unwrap().is_none());

    let trace = store
        .trace("4bf92f3577b34da6a3ce929d0e0e4736", 100)
        .unwrap();
    assert!(!trace.more);
    let first_two = store.trace("4bf92f3577b34da6a3ce929d0e0e4736", 2).unwrap();
    assert!(first_two.more);
    assert_eq!(first_two.rows, trace.rows[..2]);
    let trace = trace.rows;
    assert_eq!(trace.len(), 5);
    assert!(trace.windows(2).all(|w| w[0].ts_nanos <= w[1].ts_nanos));
    assert_eq!(
        trace[0].message,
        "step 4 of GET /api/v1/orders/42 from 10.1.2.3:8080"
    );

    let detail = store.record(at.id).unwrap().unwrap();
    assert_eq!(detail.bundle, "samples");
    assert_eq!(detail.raw, OPENSSH.lines().nth(99).unwrap());

    let gaps = store.gaps(60_000_000_000, 5).unwrap();
    assert!(!gaps.is_empty());
    assert!(gaps
        .windows(2)
        .all(|w| w[0].to_nanos - w[0].from_nanos >= w[1].to_nanos - w[1].from_nanos));
    assert!(gaps
        .iter()
        .all(|g| g.to_nanos - g.from_nanos > 60_000_000_000));
}

#[test]
fn each_match_walks_the_first_matches_in_order_and_says_whether_more_matched() {
    let (store, _) = store();
    let query = Query::all();
    let total = store.count(&query).unwrap() as usize;
    assert!(total > 2500, "{total}");
    let all = store
        .page(&query, Order::OldestFirst, Cursor::Start, total)
        .unwrap();
    for limit in [0, 1, 999, 1000, 1001, 2500, total - 1, total, total + 5] {
        let mut ids = Vec::new();
        let more = store
            .each_match(
                &query,
                Order::OldestFirst,
                limit,
                |row| -> crate::Result<()> {
                    ids.push(row.id);
                    Ok(())
                },
            )
            .unwrap();
        let want: Vec<i64> = all.rows.iter().take(limit).map(|r| r.id).collect();
        assert_eq!(ids, want, "limit {limit}");
        assert_eq!(more, limit < total, "limit {limit}");
    }
    // An error from the callback stops the walk and comes back.
    #[derive(Debug, PartialEq)]
    struct Enough;
    impl From<crate::StoreError> for Enough {
        fn from(err: crate::StoreError) -> Self {
            panic!("the store failed: {err}")
        }
    }
    let mut calls = 0;
    let stopped = store.each_match(&query, Order::NewestFirst, total, |_| {
        calls += 1;
        Err(Enough)
    });
    assert_eq!(stopped, Err(Enough));
    assert_eq!(calls, 1);
}

#[test]
fn json_lines_carry_every_column_with_fields_as_an_object() {
    let (store, _) = store();
    let page = store
        .page(
            &q("trace_id:4bf92f3577b34da6a3ce929d0e0e4736"),
            Order::OldestFirst,
            Cursor::Start,
            1,
        )
        .unwrap();
    let line = crate::export::json_line(&page.rows[0]);
    assert_eq!(line["ts"], "2024-03-08T14:02:47Z");
    assert_eq!(line["level"], "info");
    assert_eq!(line["service"], "gateway");
    assert_eq!(line["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(line["fields"]["http"]["status"], 600);
    assert_eq!(line["source"], "traced.log");
    assert_eq!(line["line"], 5);
    assert_eq!(
        line["message"],
        "step 4 of GET /api/v1/orders/42 from 10.1.2.3:8080"
    );
}

#[test]
fn a_store_from_before_sources_were_interned_answers_the_same_after_migrating() {
    let (mut store, _) = store();
    let answers = |store: &Store| {
        let mut out = Vec::new();
        for query in [
            "",
            "source:OpenSSH_2k.log",
            "source:HDFS*",
            "-source:apps.log error",
        ] {
            let query = q(query);
            let page = store
                .page(&query, Order::NewestFirst, Cursor::Start, 50)
                .unwrap();
            let sources = store.facet(&query, &Facet::Source, 10).unwrap();
            out.push(format!(
                "{page:?} {} {sources:?} {:?}",
                store.count(&query).unwrap(),
                store.overview(&query, 30, 5).unwrap()
            ));
            let id = page.rows[7].id;
            out.push(format!("{:?}", store.context(id, 3, 3).unwrap()));
        }
        out.push(format!("{:?}", store.gaps(60_000_000_000, 5).unwrap()));
        out.push(format!("{:?}", store.bundles().unwrap()));
        out
    };
    let before = answers(&store);
    super::downgrade_to_v5(&store.conn);
    crate::schema::migrate(&mut store.conn).unwrap();
    assert_eq!(answers(&store), before);
    let paths: i64 = store
        .conn
        .query_row("SELECT count(*) FROM sources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(paths, 4);
    // The console's tables keep their columns.
    let (n, source): (i64, String) = store
        .conn
        .query_row(
            "SELECT count(*), source FROM records WHERE source = 'traced.log'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((n, source.as_str()), (5, "traced.log"));
}
