//! Accuracy on the loghub samples: every line becomes one record, and timestamps and levels
//! match the `*_structured.csv` ground truth (at least 99% each; the figures are printed).

use jiff::{tz::TimeZone, Timestamp};
use trawl_bundle::Level;
use trawl_parse::{level, sniff::sniff, Options, Parser, TimeContext};

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/loghub")
}

/// Expected (year if known, month, day, hour, minute, second, millisecond) from a CSV row.
type Civil = (Option<i16>, i8, i8, i8, i8, i8, i32);

fn month(name: &str) -> i8 {
    [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == name)
    .expect("month name") as i8
        + 1
}

fn hms(t: &str) -> (i8, i8, i8, i32) {
    let (clock, frac) = t.split_once([',', '.']).unwrap_or((t, "0"));
    let mut parts = clock.split(':').map(|p| p.parse::<i8>().unwrap());
    let ms = format!("{frac:0<3}")[..3].parse().unwrap();
    (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
        ms,
    )
}

fn expected(
    file: &str,
    row: &csv::StringRecord,
    headers: &csv::StringRecord,
) -> (Civil, Option<Level>) {
    let col = |name: &str| {
        row.get(
            headers
                .iter()
                .position(|h| h == name)
                .unwrap_or_else(|| panic!("{file}: no column {name}")),
        )
        .unwrap()
    };
    let level_col = headers
        .iter()
        .position(|h| h == "Level")
        .map(|i| row.get(i).unwrap());
    let civil = match file {
        "Android" => {
            let (mo, d) = col("Date").split_once('-').unwrap();
            let (h, mi, s, ms) = hms(col("Time"));
            (None, mo.parse().unwrap(), d.parse().unwrap(), h, mi, s, ms)
        }
        "Apache" => {
            // Sun Dec 04 04:47:44 2005
            let parts: Vec<&str> = col("Time").split_whitespace().collect();
            let (h, mi, s, ms) = hms(parts[3]);
            (
                Some(parts[4].parse().unwrap()),
                month(parts[1]),
                parts[2].parse().unwrap(),
                h,
                mi,
                s,
                ms,
            )
        }
        "HDFS" => {
            let (d, t) = (col("Date"), format!("{:0>6}", col("Time")));
            (
                Some(2000 + d[..2].parse::<i16>().unwrap()),
                d[2..4].parse().unwrap(),
                d[4..].parse().unwrap(),
                t[..2].parse().unwrap(),
                t[2..4].parse().unwrap(),
                t[4..].parse().unwrap(),
                0,
            )
        }
        "Hadoop" | "Zookeeper" => {
            let d: Vec<&str> = col("Date").split('-').collect();
            let (h, mi, s, ms) = hms(col("Time"));
            (
                Some(d[0].parse().unwrap()),
                d[1].parse().unwrap(),
                d[2].parse().unwrap(),
                h,
                mi,
                s,
                ms,
            )
        }
        "Linux" => {
            let (h, mi, s, ms) = hms(col("Time"));
            (
                None,
                month(col("Month")),
                col("Date").parse().unwrap(),
                h,
                mi,
                s,
                ms,
            )
        }
        "OpenSSH" => {
            let (h, mi, s, ms) = hms(col("Time"));
            (
                None,
                month(col("Date")),
                col("Day").parse().unwrap(),
                h,
                mi,
                s,
                ms,
            )
        }
        "Spark" => {
            let d: Vec<&str> = col("Date").split('/').collect();
            let (h, mi, s, ms) = hms(col("Time"));
            (
                Some(2000 + d[0].parse::<i16>().unwrap()),
                d[1].parse().unwrap(),
                d[2].parse().unwrap(),
                h,
                mi,
                s,
                ms,
            )
        }
        other => panic!("no ground-truth mapping for {other}"),
    };
    // Linux's "Level" column holds the host name: no level there.
    let level = level_col.and_then(|l| {
        if l.len() == 1 {
            level::from_letter(l)
        } else {
            level::from_word(l)
        }
    });
    (civil, level)
}

#[test]
fn loghub_timestamps_and_levels_match_the_ground_truth() {
    let dir = samples();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (shared/samples must sit beside the checkout)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with("_2k.log"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    println!(
        "{:<12} {:>6} {:>8} {:>9} {:>8}  format",
        "file", "lines", "records", "ts match", "level"
    );
    for name in names {
        let file = name.trim_end_matches("_2k.log");
        let bytes = std::fs::read(dir.join(&name)).unwrap();
        let lines: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        let ctx = TimeContext {
            tz: TimeZone::UTC,
            year: 2024,
            latest: None,
        };
        let format = sniff(lines.iter().copied(), &ctx);
        let mut parser = Parser::new(
            format,
            Options {
                time: ctx,
                source: name.clone(),
                ..Options::default()
            },
        );
        let mut records = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            parser.line(line, i as u64 + 1, &mut records);
        }
        parser.finish(&mut records);
        assert_eq!(records.len(), lines.len(), "{name}: one record per line");

        let mut reader =
            csv::Reader::from_path(dir.join(format!("{name}_structured.csv"))).unwrap();
        let headers = reader.headers().unwrap().clone();
        let (mut ts_ok, mut level_ok, mut rows) = (0, 0, 0);
        for (row, record) in reader.records().zip(&records) {
            let row = row.unwrap();
            let ((year, mo, d, h, mi, s, ms), level) = expected(file, &row, &headers);
            rows += 1;
            if let Some(ts) = record.ts_nanos {
                let t = Timestamp::from_nanosecond(i128::from(ts))
                    .unwrap()
                    .to_zoned(TimeZone::UTC);
                let got = (
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second(),
                    t.millisecond() as i32,
                );
                if got == (mo, d, h, mi, s, ms) && year.is_none_or(|y| y == t.year()) {
                    ts_ok += 1;
                }
            }
            if record.level == level {
                level_ok += 1;
            }
        }
        assert_eq!(rows, records.len(), "{name}: the CSV has a row per line");
        let pct = |n: usize| 100.0 * n as f64 / rows as f64;
        println!(
            "{file:<12} {:>6} {:>8} {:>8.2}% {:>7.2}%  {format}",
            lines.len(),
            records.len(),
            pct(ts_ok),
            pct(level_ok)
        );
        assert!(pct(ts_ok) >= 99.0, "{name}: timestamps {:.2}%", pct(ts_ok));
        assert!(
            pct(level_ok) >= 99.0,
            "{name}: levels {:.2}%",
            pct(level_ok)
        );
        assert_eq!(
            parser.stats().unparsed,
            0,
            "{name}: {:?}",
            parser.stats().first_unparsed
        );
    }
}
