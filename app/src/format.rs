//! Turning values into the text the viewer shows: times, sizes, counts, and the parts of a
//! message to highlight. Everything here returns plain text: log text is untrusted and is only
//! ever put into the page as text nodes.

/// Formats Unix nanoseconds as `2024-03-08 14:02:48.123`, in UTC or the browser's time zone.
pub fn time(nanos: i64, utc: bool) -> String {
    let ms = nanos.div_euclid(1_000_000);
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let (y, mo, d, h, mi, s, milli) = if utc {
        (
            date.get_utc_full_year(),
            date.get_utc_month() + 1,
            date.get_utc_date(),
            date.get_utc_hours(),
            date.get_utc_minutes(),
            date.get_utc_seconds(),
            date.get_utc_milliseconds(),
        )
    } else {
        (
            date.get_full_year(),
            date.get_month() + 1,
            date.get_date(),
            date.get_hours(),
            date.get_minutes(),
            date.get_seconds(),
            date.get_milliseconds(),
        )
    };
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{milli:03}")
}

/// An optional time, or a dash.
pub fn maybe_time(nanos: Option<i64>, utc: bool) -> String {
    nanos.map_or_else(|| "—".to_owned(), |t| time(t, utc))
}

/// Bytes in binary units: `512 B`, `1.5 MiB`.
pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A count of `noun`s, with thousands separators: `1 record`, `1,234 records`.
pub fn counted(n: u64, noun: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{} {noun}{plural}", count(n))
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration in milliseconds as `850 ms`, `12.3 s`, `4 min 5 s`, `3 h 7 min`.
pub fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else if ms < 3_600_000.0 {
        let s = (ms / 1000.0).round() as u64;
        format!("{} min {} s", s / 60, s % 60)
    } else {
        let min = (ms / 60_000.0).round() as u64;
        format!("{} h {} min", min / 60, min % 60)
    }
}

/// The words of a query worth highlighting in results: its plain and quoted text terms, not
/// field terms, negations, operators or regular expressions. Lower-cased.
pub fn highlight_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() || c == '(' || c == ')' => {
                chars.next();
            }
            '"' => {
                chars.next();
                let phrase: String = chars.by_ref().take_while(|&c| c != '"').collect();
                push_term(&mut terms, &phrase);
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || c == ')' {
                        break;
                    }
                    word.push(c);
                    chars.next();
                    if c == '"' {
                        // A quoted field value: skip to the closing quote.
                        word.extend(chars.by_ref().take_while(|&c| c != '"'));
                    }
                }
                let negated = word.starts_with('-') || word.starts_with('/');
                let operator = matches!(word.as_str(), "OR" | "AND" | "NOT");
                if !negated && !operator && !word.contains(':') {
                    push_term(&mut terms, word.trim_end_matches('*'));
                }
            }
        }
    }
    terms
}

fn push_term(terms: &mut Vec<String>, term: &str) {
    let term = term.trim().to_lowercase();
    if !term.is_empty() && !terms.contains(&term) {
        terms.push(term);
    }
}

/// Splits `text` into runs, each marked `true` where it matches one of `terms`
/// (case-insensitively, for ASCII case). Concatenated, the runs are `text` again.
pub fn highlight<'a>(text: &'a str, terms: &[String]) -> Vec<(&'a str, bool)> {
    if terms.is_empty() {
        return vec![(text, false)];
    }
    let lower = text.to_ascii_lowercase();
    let mut marks = vec![false; text.len()];
    for term in terms {
        // Terms are lower-cased with Unicode rules; match them where ASCII folding agrees.
        if term.is_empty() || term.len() > lower.len() {
            continue;
        }
        let mut from = 0;
        while let Some(at) = lower[from..].find(term.as_str()) {
            let start = from + at;
            let end = start + term.len();
            marks[start..end].iter_mut().for_each(|m| *m = true);
            from = end;
        }
    }
    let mut runs = Vec::new();
    let mut start = 0;
    for i in 1..=text.len() {
        let boundary = i == text.len() || (marks[i] != marks[start] && text.is_char_boundary(i));
        if boundary {
            runs.push((&text[start..i], marks[start]));
            start = i;
        }
    }
    runs.retain(|(run, _)| !run.is_empty());
    runs
}

/// Quotes a value for a query term (`service:"a b"`) when it is not a plain word.
pub fn query_value(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@/".contains(c));
    if plain {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
