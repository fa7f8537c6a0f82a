//! Deciding a file's format from its first lines.

use serde_json::Value;

use crate::{formats, time::TimeContext, Format};

/// How many lines [`sniff`] looks at.
pub const SNIFF_LINES: usize = 40;

/// The format most of `lines` (a file's first non-blank lines) are in; [`Format::Text`] when
/// nothing fits better.
pub fn sniff<'a>(lines: impl IntoIterator<Item = &'a [u8]>, ctx: &TimeContext) -> Format {
    let mut votes = [0usize; 8];
    let mut total = 0;
    for raw in lines.into_iter().take(SNIFF_LINES) {
        let text = String::from_utf8_lossy(raw);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        total += 1;
        if let Some(format) = classify(text, ctx) {
            let i = Format::ALL
                .iter()
                .position(|f| *f == format)
                .expect("listed");
            votes[i] += 1;
        }
    }
    let (best, count) = votes
        .iter()
        .enumerate()
        .max_by_key(|&(i, &v)| (v, std::cmp::Reverse(i)))
        .expect("eight formats");
    if total > 0 && *count * 2 >= total {
        Format::ALL[best]
    } else {
        Format::Text
    }
}

fn classify(text: &str, ctx: &TimeContext) -> Option<Format> {
    if text.starts_with('{') {
        let Ok(Value::Object(o)) = serde_json::from_str::<Value>(text) else {
            return None;
        };
        if o.contains_key("log") && o.contains_key("stream") && o.contains_key("time") {
            return Some(Format::Docker);
        }
        if o.contains_key("__REALTIME_TIMESTAMP")
            || (o.contains_key("MESSAGE") && o.contains_key("_HOSTNAME"))
        {
            return Some(Format::Journald);
        }
        return Some(Format::Json);
    }
    let mut parts = text.splitn(4, ' ');
    if let (Some(ts), Some(stream), Some(tag)) = (parts.next(), parts.next(), parts.next()) {
        if matches!(stream, "stdout" | "stderr")
            && matches!(tag, "P" | "F")
            && crate::time::whole(ts, ctx).is_some()
        {
            return Some(Format::Cri);
        }
    }
    if formats::access_record(text, ctx).is_some() {
        return Some(Format::Access);
    }
    if text.starts_with('<') && formats::syslog_record(text, ctx).is_some() {
        return Some(Format::Syslog);
    }
    // Syslog without a priority: "Mon DD HH:MM:SS host tag[pid]: msg".
    if text.as_bytes().first().is_some_and(u8::is_ascii_uppercase)
        && text.get(3..4) == Some(" ")
        && crate::time::leading(text, ctx).is_some_and(|(_, len)| len <= 15)
        && formats::syslog_record(text, ctx).is_some_and(|r| r.service.is_some())
    {
        return Some(Format::Syslog);
    }
    if crate::time::leading(text, ctx).is_some() {
        return Some(Format::Text);
    }
    if let Some(pairs) = formats::logfmt_pairs(text) {
        if pairs.iter().filter(|(_, v)| !v.is_empty()).count() >= 2 && text.contains('=') {
            return Some(Format::Logfmt);
        }
    }
    None
}
