//! Severity words and numbers, as the common loggers write them.

use trawl_bundle::Level;

/// The level a word names, in any case: `WARN`, `warning`, `Err`, `CRIT`, `notice`, …
pub fn from_word(word: &str) -> Option<Level> {
    let w = word.trim_matches(|c: char| c == '[' || c == ']' || c == ':' || c == '<' || c == '>');
    if w.is_empty() || w.len() > 11 {
        return None;
    }
    let lower = w.to_ascii_lowercase();
    Some(match lower.as_str() {
        "trace" | "trc" | "finest" | "finer" | "verbose" => Level::Trace,
        "debug" | "dbg" | "fine" | "config" | "debug1" | "debug2" | "debug3" => Level::Debug,
        "info" | "inf" | "information" | "informational" | "notice" | "note" => Level::Info,
        "warn" | "warning" | "wrn" => Level::Warn,
        "error" | "err" | "erro" | "eror" | "severe" | "failure" => Level::Error,
        "fatal" | "ftl" | "crit" | "critical" | "alert" | "emerg" | "emergency" | "panic"
        | "dpanic" => Level::Fatal,
        _ => return None,
    })
}

/// Android logcat's one-letter priorities: V D I W E F (A = assert).
pub fn from_letter(letter: &str) -> Option<Level> {
    Some(match letter {
        "V" => Level::Trace,
        "D" => Level::Debug,
        "I" => Level::Info,
        "W" => Level::Warn,
        "E" => Level::Error,
        "F" | "A" => Level::Fatal,
        _ => return None,
    })
}

/// bunyan/pino numbers: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
pub fn from_bunyan(n: i64) -> Option<Level> {
    Some(match n {
        ..=10 => Level::Trace,
        11..=20 => Level::Debug,
        21..=30 => Level::Info,
        31..=40 => Level::Warn,
        41..=50 => Level::Error,
        _ => Level::Fatal,
    })
}

/// Syslog and journald PRIORITY: 0 emerg … 7 debug.
pub fn from_syslog(n: i64) -> Option<Level> {
    Some(match n {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        7 => Level::Debug,
        _ => return None,
    })
}

/// OpenTelemetry severityNumber: 1–4 trace, 5–8 debug, 9–12 info, 13–16 warn, 17–20 error,
/// 21–24 fatal.
pub fn from_otel(n: i64) -> Option<Level> {
    Some(match n {
        1..=4 => Level::Trace,
        5..=8 => Level::Debug,
        9..=12 => Level::Info,
        13..=16 => Level::Warn,
        17..=20 => Level::Error,
        21..=24 => Level::Fatal,
        _ => return None,
    })
}

/// A number in a level field: OTel (1–24) and bunyan/pino (10–60) ranges overlap only where
/// they agree closely enough; numbers of 25 and more, or multiples of 10, are bunyan.
pub fn from_number(n: i64) -> Option<Level> {
    if n >= 10 && n % 10 == 0 || n > 24 {
        from_bunyan(n)
    } else {
        from_otel(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_any_case_and_decoration() {
        for (w, l) in [
            ("WARNING", Level::Warn),
            ("warn", Level::Warn),
            ("[error]", Level::Error),
            ("Err:", Level::Error),
            ("CRIT", Level::Fatal),
            ("notice", Level::Info),
            ("SEVERE", Level::Error),
            ("DPANIC", Level::Fatal),
        ] {
            assert_eq!(from_word(w), Some(l), "{w}");
        }
        assert_eq!(from_word("combo"), None);
        assert_eq!(from_word(""), None);
    }

    #[test]
    fn numbers_of_every_convention() {
        assert_eq!(from_number(30), Some(Level::Info));
        assert_eq!(from_number(50), Some(Level::Error));
        assert_eq!(from_number(9), Some(Level::Info));
        assert_eq!(from_number(17), Some(Level::Error));
        assert_eq!(from_syslog(3), Some(Level::Error));
        assert_eq!(from_syslog(6), Some(Level::Info));
        assert_eq!(from_letter("W"), Some(Level::Warn));
    }
}
