//! Timestamps in the shapes logs use, recognised at the start of a text: ISO 8601 / RFC 3339,
//! `YYYY-MM-DD HH:MM:SS,mmm`, `YYYY/MM/DD`, `yy/MM/dd`, `yyMMdd HHmmss`, syslog's `Mon DD
//! HH:MM:SS` and Android's `MM-DD HH:MM:SS.mmm` (no year), Apache's `[Www Mon DD HH:MM:SS
//! YYYY]`, access logs' `DD/Mon/YYYY:HH:MM:SS +zzzz`, and epoch seconds, milliseconds,
//! microseconds or nanoseconds. Times without an offset are in the configured zone.

use jiff::{civil, tz::TimeZone};

/// How to read times that leave something out.
#[derive(Debug, Clone)]
pub struct TimeContext {
    /// Zone of times without an offset.
    pub tz: TimeZone,
    /// Year of times without one (syslog, Android).
    pub year: i16,
    /// With a guessed year: a time that would fall after this (nanoseconds since the epoch)
    /// is taken to be from the year before (December's logs read in January).
    pub latest: Option<i64>,
}

impl Default for TimeContext {
    fn default() -> Self {
        Self {
            tz: TimeZone::UTC,
            year: 1970,
            latest: None,
        }
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

fn num(b: &[u8], at: usize, n: usize) -> Option<i32> {
    let digits = b.get(at..at + n)?;
    let mut v = 0i32;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i32::from(d - b'0');
    }
    Some(v)
}

fn month(b: &[u8], at: usize) -> Option<i8> {
    let m = b.get(at..at + 3)?;
    MONTHS
        .iter()
        .position(|name| name.eq_ignore_ascii_case(m))
        .map(|i| i as i8 + 1)
}

/// A fraction of a second after `.` or `,` at `at`: (nanoseconds, bytes consumed).
fn fraction(b: &[u8], at: usize) -> (i32, usize) {
    if !matches!(b.get(at), Some(b'.') | Some(b',')) {
        return (0, 0);
    }
    let mut nanos = 0i32;
    let mut n = 0;
    while let Some(d) = b.get(at + 1 + n).filter(|d| d.is_ascii_digit()) {
        if n < 9 {
            nanos = nanos * 10 + i32::from(d - b'0');
        }
        n += 1;
    }
    if n == 0 {
        return (0, 0);
    }
    for _ in n..9 {
        nanos *= 10;
    }
    (nanos, n + 1)
}

/// An offset at `at`: `Z`, `±HH:MM`, `±HHMM`, `±HH`: (seconds east, bytes consumed).
fn offset(b: &[u8], at: usize) -> Option<(i32, usize)> {
    match b.get(at)? {
        b'Z' | b'z' => Some((0, 1)),
        sign @ (b'+' | b'-') => {
            let s = if *sign == b'-' { -1 } else { 1 };
            let h = num(b, at + 1, 2)?;
            let (m, used) = if b.get(at + 3) == Some(&b':') {
                (num(b, at + 4, 2)?, 6)
            } else if let Some(m) = num(b, at + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            (h <= 14 && m < 60).then_some((s * (h * 3600 + m * 60), used))
        }
        _ => None,
    }
}

struct Civil {
    year: i32,
    month: i32,
    day: i32,
    hour: i32,
    minute: i32,
    second: i32,
    nanos: i32,
    offset: Option<i32>,
    /// The text had no year: `year` is the context's.
    guessed_year: bool,
}

fn to_nanos(c: &Civil, ctx: &TimeContext) -> Option<i64> {
    let dt = civil::DateTime::new(
        i16::try_from(c.year).ok()?,
        i8::try_from(c.month).ok()?,
        i8::try_from(c.day).ok()?,
        i8::try_from(c.hour).ok()?,
        i8::try_from(c.minute).ok()?,
        // Leap seconds (":60") become :59.
        i8::try_from(c.second.min(59)).ok()?,
        c.nanos,
    )
    .ok()?;
    let ts = match c.offset {
        Some(secs) => {
            let tz = TimeZone::fixed(jiff::tz::Offset::from_seconds(secs).ok()?);
            dt.to_zoned(tz).ok()?.timestamp()
        }
        None => dt.to_zoned(ctx.tz.clone()).ok()?.timestamp(),
    };
    i64::try_from(ts.as_nanosecond()).ok()
}

/// `HH:MM:SS` at `at`.
fn hms(b: &[u8], at: usize) -> Option<(i32, i32, i32)> {
    if b.get(at + 2) != Some(&b':') || b.get(at + 5) != Some(&b':') {
        return None;
    }
    let (h, m, s) = (num(b, at, 2)?, num(b, at + 3, 2)?, num(b, at + 6, 2)?);
    (h < 24 && m < 60 && s <= 60).then_some((h, m, s))
}

/// Recognises a timestamp at the start of `text` (after an optional `[`). Returns the time in
/// nanoseconds since the epoch (UTC) and how many bytes it spans (brackets included).
pub fn leading(text: &str, ctx: &TimeContext) -> Option<(i64, usize)> {
    let b = text.as_bytes();
    let open = usize::from(b.first() == Some(&b'['));
    let (mut civil, mut len) = shapes(b, open, ctx)?;
    if open == 1 {
        if b.get(len) != Some(&b']') {
            return None;
        }
        len += 1;
    }
    // A timestamp ends at a word boundary.
    if b.get(len).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut nanos = to_nanos(&civil, ctx)?;
    if civil.guessed_year && ctx.latest.is_some_and(|latest| nanos > latest) {
        civil.year -= 1;
        nanos = to_nanos(&civil, ctx)?;
    }
    Some((nanos, len))
}

impl Civil {
    /// A date and time of day, without an offset and with the year as written.
    fn new(
        year: i32,
        month: i32,
        day: i32,
        (hour, minute, second): (i32, i32, i32),
        nanos: i32,
    ) -> Self {
        Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
            offset: None,
            guessed_year: false,
        }
    }

    fn with_offset(self, offset: Option<i32>) -> Self {
        Self { offset, ..self }
    }

    fn guessed(self, guessed_year: bool) -> Self {
        Self {
            guessed_year,
            ..self
        }
    }
}

fn shapes(b: &[u8], at: usize, ctx: &TimeContext) -> Option<(Civil, usize)> {
    let d = |n| b.get(at + n).copied();
    let context_year = i32::from(ctx.year);
    // YYYY-MM-DD[T ]HH:MM:SS / YYYY/MM/DD HH:MM:SS, optional fraction and offset
    if let (Some(y), Some(sep @ (b'-' | b'/'))) = (num(b, at, 4), d(4)) {
        if d(7) == Some(sep) && matches!(d(10), Some(b'T' | b't' | b' ' | b'_')) {
            let (mo, da) = (num(b, at + 5, 2)?, num(b, at + 8, 2)?);
            let clock = hms(b, at + 11)?;
            let (nanos, flen) = fraction(b, at + 19);
            let mut end = at + 19 + flen;
            let mut off = offset(b, end);
            if off.is_none()
                && matches!(b.get(end + 1), Some(b'+' | b'-'))
                && d(end - at) == Some(b' ')
            {
                // "2024-01-01 10:00:00 +0100"
                off = offset(b, end + 1).map(|(o, n)| (o, n + 1));
            }
            let offset = off.map(|(o, n)| {
                end += n;
                o
            });
            return Some((Civil::new(y, mo, da, clock, nanos).with_offset(offset), end));
        }
    }
    // yy/MM/dd HH:MM:SS (Spark, log4j's yy/MM/dd)
    if d(2) == Some(b'/') && d(5) == Some(b'/') && d(8) == Some(b' ') {
        let (y, mo, da) = (num(b, at, 2)?, num(b, at + 3, 2)?, num(b, at + 6, 2)?);
        let clock = hms(b, at + 9)?;
        let (nanos, flen) = fraction(b, at + 17);
        return Some((Civil::new(2000 + y, mo, da, clock, nanos), at + 17 + flen));
    }
    // yyMMdd HHmmss (HDFS)
    if d(6) == Some(b' ') && d(13).is_none_or(|c| !c.is_ascii_digit()) {
        if let (Some(ymd), Some(t)) = (num(b, at, 6), num(b, at + 7, 6)) {
            let clock = (t / 10000, t / 100 % 100, t % 100);
            if clock.0 < 24 && clock.1 < 60 && clock.2 < 60 {
                let (y, mo, da) = (2000 + ymd / 10000, ymd / 100 % 100, ymd % 100);
                return Some((Civil::new(y, mo, da, clock, 0), at + 13));
            }
        }
    }
    // MM-DD HH:MM:SS.mmm (Android logcat threadtime): no year
    if d(2) == Some(b'-') && d(5) == Some(b' ') {
        let (mo, da) = (num(b, at, 2)?, num(b, at + 3, 2)?);
        let clock = hms(b, at + 6)?;
        let (nanos, flen) = fraction(b, at + 14);
        let civil = Civil::new(context_year, mo, da, clock, nanos).guessed(true);
        return Some((civil, at + 14 + flen));
    }
    // Mon DD HH:MM:SS (syslog), also "Mon  D", and "Mon DD HH:MM:SS YYYY"
    if let Some(mo) = month(b, at) {
        if d(3) == Some(b' ') {
            let (day_at, day_len) = if d(4) == Some(b' ') {
                (at + 5, 1)
            } else if num(b, at + 5, 1).is_some() {
                (at + 4, 2)
            } else {
                (at + 4, 1)
            };
            let da = num(b, day_at, day_len)?;
            if b.get(day_at + day_len) != Some(&b' ') {
                return None;
            }
            let t = day_at + day_len + 1;
            let clock = hms(b, t)?;
            let (nanos, flen) = fraction(b, t + 8);
            let end = t + 8 + flen;
            let written_year = (b.get(end) == Some(&b' '))
                .then(|| num(b, end + 1, 4))
                .flatten()
                .filter(|_| b.get(end + 5).is_none_or(|c| !c.is_ascii_digit()));
            let civil = Civil::new(
                written_year.unwrap_or(context_year),
                i32::from(mo),
                da,
                clock,
                nanos,
            )
            .guessed(written_year.is_none());
            return Some((civil, if written_year.is_some() { end + 5 } else { end }));
        }
    }
    // Www Mon DD HH:MM:SS[.ffffff] YYYY (Apache error log, ctime)
    if d(3) == Some(b' ')
        && b.get(at..at + 3)
            .is_some_and(|w| w.iter().all(u8::is_ascii_alphabetic))
    {
        let mo = month(b, at + 4)?;
        let day_at = if d(8) == Some(b' ') { at + 9 } else { at + 8 };
        let day_len = if b.get(day_at + 1) == Some(&b' ') {
            1
        } else {
            2
        };
        let da = num(b, day_at, day_len)?;
        let t = day_at + day_len + 1;
        let clock = hms(b, t)?;
        let (nanos, flen) = fraction(b, t + 8);
        let y_at = t + 8 + flen + 1;
        let y = num(b, y_at, 4)?;
        return Some((Civil::new(y, i32::from(mo), da, clock, nanos), y_at + 4));
    }
    // DD/Mon/YYYY:HH:MM:SS +zzzz (access logs)
    if d(2) == Some(b'/') && d(6) == Some(b'/') && d(11) == Some(b':') {
        let da = num(b, at, 2)?;
        let mo = month(b, at + 3)?;
        let y = num(b, at + 7, 4)?;
        let clock = hms(b, at + 12)?;
        let (nanos, flen) = fraction(b, at + 20);
        let mut end = at + 20 + flen;
        let mut offset_secs = None;
        if b.get(end) == Some(&b' ') {
            if let Some((o, n)) = offset(b, end + 1) {
                offset_secs = Some(o);
                end += 1 + n;
            }
        }
        return Some((
            Civil::new(y, i32::from(mo), da, clock, nanos).with_offset(offset_secs),
            end,
        ));
    }
    None
}

/// Epoch seconds (10 digits, optional fraction), milliseconds (13), microseconds (16) or
/// nanoseconds (19) at the start of `text`.
pub fn leading_epoch(text: &str) -> Option<(i64, usize)> {
    let b = text.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let value: i64 = text.get(..digits)?.parse().ok()?;
    let (nanos, len) = match digits {
        10 => {
            let (frac, flen) = if b.get(10) == Some(&b'.') {
                fraction(b, 10)
            } else {
                (0, 0)
            };
            (
                value
                    .checked_mul(1_000_000_000)?
                    .checked_add(i64::from(frac))?,
                10 + flen,
            )
        }
        13 => (value.checked_mul(1_000_000)?, 13),
        16 => (value.checked_mul(1_000)?, 16),
        19 => (value, 19),
        _ => return None,
    };
    if b.get(len).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((nanos, len))
}

/// A whole string that is a timestamp (as in a JSON `time` field).
pub fn whole(text: &str, ctx: &TimeContext) -> Option<i64> {
    let text = text.trim();
    leading(text, ctx)
        .or_else(|| leading_epoch(text))
        .filter(|&(_, len)| len == text.len())
        .map(|(nanos, _)| nanos)
}

/// A number that is a time: epoch seconds (with fraction), milliseconds, microseconds or
/// nanoseconds, told apart by magnitude (years 1973 to 2286 in each unit).
pub fn epoch_number(n: f64) -> Option<i64> {
    let abs = n.abs();
    let nanos = if abs < 1e11 {
        n * 1e9
    } else if abs < 1e14 {
        n * 1e6
    } else if abs < 1e17 {
        n * 1e3
    } else {
        n
    };
    (nanos.is_finite() && abs >= 1e8).then_some(nanos as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        jiff::Timestamp::from_str(s).unwrap().as_nanosecond() as i64
    }
    use std::str::FromStr;

    fn ctx() -> TimeContext {
        TimeContext {
            tz: TimeZone::UTC,
            year: 2024,
            latest: None,
        }
    }

    #[test]
    fn a_guessed_year_never_puts_a_time_in_the_future() {
        let jan = TimeContext {
            latest: Some(utc("2024-01-05T00:00:00Z")),
            ..ctx()
        };
        assert_eq!(
            leading("Dec 31 23:59:59 host x", &jan).unwrap().0,
            utc("2023-12-31T23:59:59Z")
        );
        assert_eq!(
            leading("Jan  4 10:00:00 host x", &jan).unwrap().0,
            utc("2024-01-04T10:00:00Z")
        );
        assert_eq!(
            leading("12-31 23:59:59.000 1 2 D x", &jan).unwrap().0,
            utc("2023-12-31T23:59:59Z")
        );
        // A year in the text is never changed.
        assert_eq!(
            leading("2024-12-31 23:59:59 x", &jan).unwrap().0,
            utc("2024-12-31T23:59:59Z")
        );
        assert_eq!(
            leading("Dec 31 23:59:59 2024 host", &jan).unwrap().0,
            utc("2024-12-31T23:59:59Z")
        );
    }

    #[test]
    fn every_shape_at_the_start_of_a_line() {
        let cases = [
            (
                "2015-10-18 18:01:47,978 INFO",
                "2015-10-18T18:01:47.978Z",
                23,
            ),
            (
                "2024-03-08T14:02:47.288205947Z stdout",
                "2024-03-08T14:02:47.288205947Z",
                30,
            ),
            ("2024-03-08T14:02:47+02:00 x", "2024-03-08T12:02:47Z", 25),
            ("2024-03-08 14:02:47 +0100 x", "2024-03-08T13:02:47Z", 25),
            ("2024/03/08 14:02:47 [error]", "2024-03-08T14:02:47Z", 19),
            ("17/06/09 20:10:40 INFO", "2017-06-09T20:10:40Z", 17),
            ("081109 203615 148 INFO", "2008-11-09T20:36:15Z", 13),
            ("03-17 16:13:38.811  1702", "2024-03-17T16:13:38.811Z", 18),
            ("Jun 14 15:16:01 combo", "2024-06-14T15:16:01Z", 15),
            ("Jun  4 05:06:07 host", "2024-06-04T05:06:07Z", 15),
            (
                "[Sun Dec 04 04:47:44 2005] [notice]",
                "2005-12-04T04:47:44Z",
                26,
            ),
            (
                "[Wed Oct 11 14:32:52.123456 2000] [core:error]",
                "2000-10-11T14:32:52.123456Z",
                33,
            ),
            (
                "[10/Oct/2000:13:55:36 -0700] \"GET",
                "2000-10-10T20:55:36Z",
                28,
            ),
        ];
        for (text, want, len) in cases {
            let (nanos, used) = leading(text, &ctx()).unwrap_or_else(|| panic!("{text}"));
            assert_eq!((nanos, used), (utc(want), len), "{text}");
        }
    }

    #[test]
    fn epochs_in_every_unit() {
        let want = utc("2024-03-08T14:02:47Z");
        for text in [
            "1709906567",
            "1709906567000",
            "1709906567000000",
            "1709906567000000000",
        ] {
            assert_eq!(leading_epoch(text).unwrap().0, want, "{text}");
        }
        assert_eq!(
            leading_epoch("1709906567.5 x").unwrap().0,
            want + 500_000_000
        );
        assert_eq!(
            epoch_number(1709906567.24764).unwrap() / 1_000_000,
            (want + 247_640_000) / 1_000_000
        );
        assert_eq!(epoch_number(1709906567504.0).unwrap(), want + 504_000_000);
        assert_eq!(epoch_number(42.0), None);
    }

    #[test]
    fn zones_apply_to_times_without_offsets() {
        let berlin = TimeContext {
            tz: TimeZone::get("Europe/Berlin").unwrap(),
            year: 2024,
            latest: None,
        };
        assert_eq!(
            leading("2024-07-01 12:00:00 x", &berlin).unwrap().0,
            utc("2024-07-01T10:00:00Z")
        );
        assert_eq!(
            leading("2024-07-01T12:00:00Z x", &berlin).unwrap().0,
            utc("2024-07-01T12:00:00Z")
        );
    }

    #[test]
    fn non_times_are_not_times() {
        for text in [
            "hello world",
            "2024-13-45 99:00:00",
            "12345",
            "Junk 14 15:16:01",
            "2024-03-08T14:02:47Zulu",
            "",
        ] {
            assert!(leading(text, &ctx()).is_none(), "{text}");
        }
        assert_eq!(
            whole("2024-03-08T14:02:47.497Z", &ctx()),
            Some(utc("2024-03-08T14:02:47.497Z"))
        );
        assert_eq!(whole("2024-03-08T14:02:47.497Z trailing", &ctx()), None);
    }
}
