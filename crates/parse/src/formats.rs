//! The parsers, one function per format, sharing the mapping of structured fields.

use std::borrow::Cow;

use serde_json::{Map, Value};
use trawl_bundle::{Level, Record};

use crate::{
    fields_text::FieldsText,
    level,
    line::{clean_message, lossy},
    raw_record, time, Format, Parser, MAX_RECORD_BYTES,
};

/// A record that may still grow.
#[derive(Debug)]
pub(crate) enum Pending {
    /// A text record that takes continuation lines (stack traces).
    Text(Box<Record>),
    /// Partial container-log chunks (CRI `P`, Docker lines without `\n`): the content so far,
    /// with the container's time and stream.
    Partial {
        content: Vec<u8>,
        raw: Vec<u8>,
        line: u64,
        ts: Option<i64>,
        stream: String,
    },
}

pub(crate) fn parse(p: &mut Parser, raw: &[u8], line_no: u64, out: &mut Vec<Record>) {
    if raw.iter().all(u8::is_ascii_whitespace) {
        // Blank lines belong to a pending multi-line record; elsewhere they carry nothing.
        if let Some(Pending::Text(record)) = &mut p.pending {
            append_continuation(record, raw);
        }
        return;
    }
    let result = match p.format {
        Format::Text => {
            text(p, raw, line_no, out);
            return;
        }
        Format::Json => json(p, raw, line_no, out),
        Format::Logfmt => logfmt(p, raw, line_no).map(|r| out.push(r)),
        Format::Cri => {
            cri(p, raw, line_no, out);
            return;
        }
        Format::Docker => {
            docker(p, raw, line_no, out);
            return;
        }
        Format::Journald => journald(p, raw, line_no).map(|r| out.push(r)),
        Format::Access => access(p, raw, line_no).map(|r| out.push(r)),
        Format::Syslog => syslog(p, raw, line_no).map(|r| out.push(r)),
    };
    if let Err(reason) = result {
        p.unparsed(line_no, reason);
        out.push(raw_record(raw, line_no));
    }
}

pub(crate) fn flush(p: &mut Parser, pending: Pending, out: &mut Vec<Record>) {
    match pending {
        Pending::Text(mut record) => {
            let trimmed = record.message.trim_end().len();
            record.message.truncate(trimmed);
            out.push(*record);
        }
        Pending::Partial {
            content,
            raw,
            line,
            ts,
            stream,
        } => {
            out.push(container_record(p, &content, raw, line, ts, &stream));
        }
    }
}

fn append_continuation(record: &mut Record, raw: &[u8]) {
    record.message.push('\n');
    record.message.push_str(&clean_message(raw));
    if let Some(r) = &mut record.raw {
        r.push(b'\n');
        r.extend_from_slice(raw);
    }
}

// ---- text ---------------------------------------------------------------------------------

/// Parses a line of plain text: a leading timestamp starts a record, anything else continues
/// the pending one.
fn text(p: &mut Parser, raw: &[u8], line_no: u64, out: &mut Vec<Record>) {
    let text = clean_message(raw);
    match text_record(&text, &p.options.time) {
        Some(mut record) => {
            record.raw = Some(raw.to_vec());
            record.line = Some(line_no);
            if let Some(pending) = p.pending.replace(Pending::Text(Box::new(record))) {
                flush(p, pending, out);
            }
        }
        None => match &mut p.pending {
            Some(Pending::Text(record))
                if record.raw.as_ref().map_or(0, Vec::len) + raw.len() < MAX_RECORD_BYTES =>
            {
                append_continuation(record, raw);
            }
            _ => {
                if let Some(pending) = p.pending.take() {
                    flush(p, pending, out);
                }
                p.unparsed(line_no, "no timestamp at the start of the line");
                out.push(raw_record(raw, line_no));
            }
        },
    }
}

/// A record from a line with a leading timestamp and, near it, a level word.
pub(crate) fn text_record(text: &str, ctx: &time::TimeContext) -> Option<Record> {
    let (ts, len) = time::leading(text, ctx).or_else(|| {
        time::leading_epoch(text).filter(|&(_, len)| text.as_bytes().get(len) == Some(&b' '))
    })?;
    let rest = &text[len..];
    let (level, level_text) = find_level(rest)
        .map(|(l, w)| (Some(l), Some(w)))
        .unwrap_or((None, None));
    Some(Record {
        ts_nanos: Some(ts),
        ts_text: Some(text[..len].to_owned()),
        level,
        level_text,
        message: rest
            .trim_start_matches([' ', '\t', '-', ':', '|'])
            .to_owned(),
        ..Record::default()
    })
}

/// A level word among the first tokens after the timestamp (`INFO`, `[error]`, `- WARN`,
/// Android's `pid tid D`).
fn find_level(rest: &str) -> Option<(Level, String)> {
    let tokens: Vec<&str> = rest.split_whitespace().take(5).collect();
    for (i, token) in tokens.iter().enumerate() {
        if let Some(level) = level::from_word(token) {
            let word = token.trim_matches(|c: char| !c.is_ascii_alphanumeric());
            return Some((level, word.to_owned()));
        }
        // Apache 2.4: [core:error], [proxy:warn]
        if let Some(inner) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if let Some((_, word)) = inner.rsplit_once(':') {
                if let Some(level) = level::from_word(word) {
                    return Some((level, word.to_owned()));
                }
            }
        }
        if i == 2
            && tokens[0].bytes().all(|b| b.is_ascii_digit())
            && tokens[1].bytes().all(|b| b.is_ascii_digit())
        {
            if let Some(level) = level::from_letter(token) {
                return Some((level, (*token).to_owned()));
            }
        }
    }
    None
}

// ---- JSON ---------------------------------------------------------------------------------

fn json(p: &mut Parser, raw: &[u8], line_no: u64, out: &mut Vec<Record>) -> Result<(), String> {
    if let Some(mut record) = flat_json(raw, &p.options.time) {
        record.raw = Some(raw.to_vec());
        record.line = Some(line_no);
        out.push(record);
        return Ok(());
    }
    let value: Value = serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("a JSON value that is not an object".into());
    };
    if object.contains_key("resourceLogs") {
        let records = otel(object, &p.options.time)?;
        for mut record in records {
            record.raw = Some(raw.to_vec());
            record.line = Some(line_no);
            out.push(record);
        }
        return Ok(());
    }
    let mut record = map_object(object, &p.options.time);
    record.raw = Some(raw.to_vec());
    record.line = Some(line_no);
    out.push(record);
    Ok(())
}

/// Where the common loggers put each field (first match wins). Dotted names match both a
/// literal key and nested objects (ECS's `{"log":{"level":…}}`).
const TIME_KEYS: &[&str] = &[
    "time",
    "ts",
    "timestamp",
    "@timestamp",
    "t",
    "datetime",
    "date",
    "timeMillis",
    "instant",
    "timeUnixNano",
    "@t",
];
const LEVEL_KEYS: &[&str] = &[
    "level",
    "lvl",
    "severity",
    "levelname",
    "log.level",
    "severityText",
    "severity_text",
    "loglevel",
    "@l",
    "severityNumber",
    "level_name",
];
const MESSAGE_KEYS: &[&str] = &[
    "msg",
    "message",
    "@m",
    "@mt",
    "body",
    "fields.message",
    "event",
    "log",
    "text",
];
const SERVICE_KEYS: &[&str] = &[
    "service",
    "service.name",
    "serviceName",
    "service_name",
    "app",
    "application",
    "name",
];
const HOST_KEYS: &[&str] = &[
    "host",
    "hostname",
    "host.name",
    "host.hostname",
    "pod",
    "kubernetes.pod.name",
    "pod_name",
];
const TRACE_KEYS: &[&str] = &[
    "trace_id",
    "traceId",
    "traceID",
    "trace.id",
    "dd.trace_id",
    "otelTraceID",
    "logging.googleapis.com/trace",
    "span.trace_id",
];
const SPAN_KEYS: &[&str] = &[
    "span_id",
    "spanId",
    "spanID",
    "span.id",
    "dd.span_id",
    "otelSpanID",
    "span.span_id",
];

/// Takes the value at `path` (literal key first, then nested), removing it (and objects it
/// leaves empty) from `object`. Removals shift (serde_json's `remove` swaps the last member
/// into the gap), so the members left keep the order the log wrote them in.
fn take(object: &mut Map<String, Value>, path: &str) -> Option<Value> {
    if let Some(v) = object.shift_remove(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    let Some(Value::Object(inner)) = object.get_mut(head) else {
        return None;
    };
    let v = take(inner, rest)?;
    if inner.is_empty() {
        object.shift_remove(head);
    }
    Some(v)
}

fn take_first(
    object: &mut Map<String, Value>,
    keys: &[&str],
    accept: impl Fn(&Value) -> bool,
) -> Option<Value> {
    for key in keys {
        if let Some(v) = peek(object, key) {
            if accept(v) {
                return take(object, key);
            }
        }
    }
    None
}

fn peek<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    peek(object.get(head)?.as_object()?, rest)
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        // OTel AnyValue: {"stringValue": "..."}
        Value::Object(o) => o
            .get("stringValue")
            .and_then(|s| s.as_str())
            .map(str::to_owned),
        _ => None,
    }
}

/// A scalar's text as [`scalar_text`] gives it, taking a string's without copying it; `Err`
/// gives back a value that is no scalar.
fn into_text(v: Value) -> Result<String, Value> {
    match v {
        Value::String(s) => Ok(s),
        Value::Object(ref o) => match o.get("stringValue").and_then(Value::as_str) {
            Some(s) => Ok(s.to_owned()),
            None => Err(v),
        },
        other => scalar_text(&other).ok_or(other),
    }
}

fn time_value(v: &Value, ctx: &time::TimeContext) -> Option<i64> {
    match v {
        Value::String(s) => {
            time::whole(s, ctx).or_else(|| s.parse::<f64>().ok().and_then(time::epoch_number))
        }
        Value::Number(n) => n.as_f64().and_then(time::epoch_number),
        // log4j2 JSONLayout: {"epochSecond": …, "nanoOfSecond": …}
        Value::Object(o) => {
            let secs = o.get("epochSecond")?.as_i64()?;
            let nanos = o.get("nanoOfSecond").and_then(Value::as_i64).unwrap_or(0);
            secs.checked_mul(1_000_000_000)?.checked_add(nanos)
        }
        _ => None,
    }
}

fn level_value(v: &Value) -> Option<Level> {
    match v {
        Value::String(s) => {
            level::from_word(s).or_else(|| s.parse().ok().and_then(level::from_number))
        }
        Value::Number(n) => n.as_i64().and_then(level::from_number),
        _ => None,
    }
}

/// The record fields a structured log fills.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Time,
    Level,
    Message,
    Service,
    Host,
    Trace,
    Span,
}

const ROLES: [(Role, &[&str]); 7] = [
    (Role::Time, TIME_KEYS),
    (Role::Level, LEVEL_KEYS),
    (Role::Message, MESSAGE_KEYS),
    (Role::Service, SERVICE_KEYS),
    (Role::Host, HOST_KEYS),
    (Role::Trace, TRACE_KEYS),
    (Role::Span, SPAN_KEYS),
];

/// The role a key names, as (index into [`ROLES`], rank among that role's keys): one hash
/// lookup per member instead of a scan of every role's list (with FxHash: the keys are our
/// own list, and SipHash's resistance to chosen keys would cost every member for nothing).
/// Every key has one role (a test says so).
fn role_of(key: &str) -> Option<(usize, usize)> {
    static BY_KEY: std::sync::OnceLock<rustc_hash::FxHashMap<&str, (usize, usize)>> =
        std::sync::OnceLock::new();
    BY_KEY
        .get_or_init(|| {
            ROLES
                .iter()
                .enumerate()
                .flat_map(|(i, (_, keys))| keys.iter().enumerate().map(move |(r, k)| (*k, (i, r))))
                .collect()
        })
        .get(key)
        .copied()
}

/// Top-level keys whose object values may hold a mapped field (`{"log":{"level":…}}`).
const NESTED: &[&str] = &[
    "log",
    "service",
    "host",
    "trace",
    "span",
    "dd",
    "fields",
    "kubernetes",
];

fn accepts(role: Role, v: &Value, ctx: &time::TimeContext) -> bool {
    match role {
        Role::Time => time_value(v, ctx).is_some(),
        Role::Level => level_value(v).is_some(),
        Role::Message => scalar_text(v).is_some(),
        Role::Service | Role::Host | Role::Trace | Role::Span => {
            matches!(v, Value::String(_) | Value::Number(_))
        }
    }
}

/// Maps a structured log object (JSON or logfmt) into a record.
pub(crate) fn map_object(mut object: Map<String, Value>, ctx: &time::TimeContext) -> Record {
    // One pass over the keys picks, per role, the most preferred key present (dotted names
    // need the path lookup below, done only when a nested object could hold one).
    let nested = object
        .iter()
        .any(|(k, v)| v.is_object() && NESTED.contains(&k.as_str()));
    let mut chosen: [Option<(usize, String)>; 7] = Default::default();
    if !nested {
        for (key, value) in &object {
            if let Some((i, rank)) = role_of(key) {
                if chosen[i].as_ref().is_none_or(|(r, _)| rank < *r)
                    && accepts(ROLES[i].0, value, ctx)
                {
                    chosen[i] = Some((rank, key.clone()));
                }
            }
        }
    }
    let mut record = mapped_record(
        |i| {
            if nested {
                let (role, keys) = ROLES[i];
                take_first(&mut object, keys, |v| accepts(role, v, ctx))
            } else {
                chosen[i]
                    .take()
                    .and_then(|(_, key)| object.shift_remove(&key))
            }
        },
        ctx,
    );
    if !object.is_empty() {
        record.fields = Some(Value::Object(object).to_string());
    }
    record
}

/// Per role of [`ROLES`], the member chosen for it so far: its key's rank among the role's
/// keys, its place among the members, and its value.
type Chosen = [Option<(usize, usize, Value)>; 7];

/// Offers member `at`, named `key`, to the role its key names: it is chosen if no key of a
/// better rank was, and its value (made by `value` only then) suits the role.
fn offer(
    chosen: &mut Chosen,
    at: usize,
    key: &str,
    value: impl FnOnce() -> Option<Value>,
    ctx: &time::TimeContext,
) {
    let Some((i, rank)) = role_of(key) else {
        return;
    };
    if chosen[i].as_ref().is_some_and(|(r, ..)| *r <= rank) {
        return;
    }
    if let Some(value) = value().filter(|v| accepts(ROLES[i].0, v, ctx)) {
        chosen[i] = Some((rank, at, value));
    }
}

/// Whether member `at` was chosen for a role.
fn is_chosen(chosen: &Chosen, at: usize) -> bool {
    chosen.iter().flatten().any(|(_, a, _)| *a == at)
}

/// A record with the fields of each role of [`ROLES`] filled from the value `take(i)` gives
/// for role `i` (called once per role, in order).
fn mapped_record(mut take: impl FnMut(usize) -> Option<Value>, ctx: &time::TimeContext) -> Record {
    let mut record = Record::default();
    if let Some(v) = take(0) {
        record.ts_nanos = time_value(&v, ctx);
        record.ts_text = Some(into_text(v).unwrap_or_else(|v| v.to_string()));
    }
    if let Some(v) = take(1) {
        record.level = level_value(&v);
        record.level_text = into_text(v).ok();
    }
    if let Some(v) = take(2) {
        record.message = crate::line::strip_ansi(into_text(v).unwrap_or_default());
    }
    let mut text = |i| take(i).and_then(|v| into_text(v).ok());
    record.service = text(3);
    record.host = text(4);
    record.trace_id = text(5);
    record.span_id = text(6);
    record
}

/// Pairs of a logfmt line that [`pairs_record`] maps itself at most: its search for a
/// repeated key is quadratic, so a longer line goes through a map.
const FLAT_PAIRS: usize = 64;

/// A record from key=value pairs, the flat counterpart of [`map_object`] for logfmt: the same
/// record and fields, without a JSON map built and taken apart. A key given twice keeps its
/// first place and its last value, as a map would.
fn pairs_record(pairs: Vec<(&str, Cow<'_, str>)>, ctx: &time::TimeContext) -> Record {
    if pairs.len() > FLAT_PAIRS {
        let object = pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.into_owned())))
            .collect();
        return map_object(object, ctx);
    }
    let mut members: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(pairs.len());
    for (key, value) in pairs {
        match members.iter_mut().find(|(k, _)| *k == key) {
            Some(member) => member.1 = value,
            None => members.push((key, value)),
        }
    }
    // Only a value a role may take is copied out of the line.
    let mut chosen = Chosen::default();
    for (at, (key, value)) in members.iter().enumerate() {
        let value = || Some(Value::String(value.as_ref().to_owned()));
        offer(&mut chosen, at, key, value, ctx);
    }
    // logfmt_pairs admits keys of letters, digits and `_.-@/` only: none needs escaping.
    let mut fields = FieldsText::default();
    for (at, (key, value)) in members.iter().enumerate() {
        if !is_chosen(&chosen, at) {
            fields.add(key, value.as_ref());
        }
    }
    let mut record = mapped_record(|i| chosen[i].take().map(|(_, _, v)| v), ctx);
    record.fields = fields.finish();
    record
}

/// A JSON object's top-level members, unparsed: keys borrowed (so without escapes), values
/// as their raw text.
struct Members<'a>(Vec<(&'a str, &'a serde_json::value::RawValue)>);

impl<'de> serde::Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Members<'de>, A::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The fast path for the common case, a flat JSON object: only the values that may be mapped
/// are parsed, and the other members are copied into `fields` as they were written. `None`
/// (use the general path) for anything else: keys with escapes, nested objects that may hold a
/// mapped field, OpenTelemetry, not an object.
fn flat_json(raw: &[u8], ctx: &time::TimeContext) -> Option<Record> {
    // Checked once here, the text is not checked again member by member.
    let text = std::str::from_utf8(raw).ok()?;
    let Members(members) = serde_json::from_str(text).ok()?;
    let mut chosen = Chosen::default();
    for (at, (key, value)) in members.iter().enumerate() {
        let text = value.get();
        if *key == "resourceLogs" || (text.starts_with('{') && NESTED.contains(key)) {
            return None;
        }
        offer(&mut chosen, at, key, || json_value(text), ctx);
    }
    // Keys borrowed from the line had no escapes, so they are written as they are.
    let mut fields = FieldsText::with_capacity(raw.len());
    for (at, (key, value)) in members.iter().enumerate() {
        if !is_chosen(&chosen, at) {
            fields.add_json(key, value.get());
        }
    }
    let mut record = mapped_record(|i| chosen[i].take().map(|(_, _, v)| v), ctx);
    record.fields = fields.finish();
    Some(record)
}

/// The value of a member's JSON text, already checked to be valid by the parse of its line: a
/// string with no escapes (what the mapped members almost always are) is taken from between
/// its quotes without a second parse.
fn json_value(text: &str) -> Option<Value> {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Value::String(inner.to_owned())),
        _ => serde_json::from_str(text).ok(),
    }
}

/// OpenTelemetry JSON (OTLP): `resourceLogs[].scopeLogs[].logRecords[]`.
fn otel(mut object: Map<String, Value>, ctx: &time::TimeContext) -> Result<Vec<Record>, String> {
    let Some(Value::Array(resource_logs)) = object.remove("resourceLogs") else {
        return Err("resourceLogs is not an array".into());
    };
    let mut records = Vec::new();
    for rl in resource_logs {
        let resource = attributes(rl.pointer("/resource/attributes"));
        for sl in rl
            .get("scopeLogs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let scope = sl
                .pointer("/scope/name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for lr in sl
                .get("logRecords")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let mut fields = attributes(lr.get("attributes"));
                let ts = ["timeUnixNano", "observedTimeUnixNano"]
                    .iter()
                    .filter_map(|k| lr.get(*k))
                    .find_map(|v| {
                        time_value(v, ctx)
                            .or_else(|| scalar_text(v)?.parse().ok())
                            .filter(|&n: &i64| n != 0)
                    });
                let level = lr
                    .get("severityNumber")
                    .and_then(Value::as_i64)
                    .and_then(level::from_otel)
                    .or_else(|| {
                        lr.get("severityText")
                            .and_then(Value::as_str)
                            .and_then(level::from_word)
                    });
                if let Some(scope) = &scope {
                    fields.insert("otel.scope".into(), scope.clone().into());
                }
                let mut resource = resource.clone();
                let service = resource
                    .shift_remove("service.name")
                    .and_then(|v| into_text(v).ok());
                let host = resource
                    .shift_remove("host.name")
                    .and_then(|v| into_text(v).ok());
                for (k, v) in resource {
                    fields.insert(format!("resource.{k}"), v);
                }
                records.push(Record {
                    ts_nanos: ts,
                    ts_text: lr.get("timeUnixNano").and_then(scalar_text),
                    level,
                    level_text: lr.get("severityText").and_then(scalar_text),
                    message: lr.get("body").and_then(scalar_text).unwrap_or_default(),
                    service,
                    host,
                    trace_id: lr
                        .get("traceId")
                        .and_then(scalar_text)
                        .filter(|s| !s.is_empty()),
                    span_id: lr
                        .get("spanId")
                        .and_then(scalar_text)
                        .filter(|s| !s.is_empty()),
                    fields: (!fields.is_empty()).then(|| Value::Object(fields).to_string()),
                    ..Record::default()
                });
            }
        }
    }
    Ok(records)
}

/// OTel `[{"key": k, "value": {"stringValue": …}}]` as a map.
fn attributes(list: Option<&Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for kv in list.and_then(Value::as_array).into_iter().flatten() {
        let (Some(key), Some(value)) = (kv.get("key").and_then(Value::as_str), kv.get("value"))
        else {
            continue;
        };
        let plain = value
            .as_object()
            .and_then(|o| o.values().next().cloned())
            .unwrap_or_else(|| value.clone());
        out.insert(key.to_owned(), plain);
    }
    out
}

// ---- logfmt -------------------------------------------------------------------------------

/// `key=value` pairs (values bare or double-quoted with backslash escapes), in order: keys
/// and values borrowed from `text`, except a quoted value with escapes.
pub(crate) fn logfmt_pairs(text: &str) -> Option<Vec<(&str, Cow<'_, str>)>> {
    let mut pairs = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let key_start = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        let key = &text[key_start..i];
        if key.is_empty()
            || !key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-@/".contains(&c))
        {
            return None;
        }
        if i >= b.len() || b[i] != b'=' {
            // A bare key: a flag with no value.
            pairs.push((key, Cow::Borrowed("")));
            continue;
        }
        i += 1;
        let value = if b.get(i) == Some(&b'"') {
            i += 1;
            let (value, len) = quoted_value(&text[i..])?;
            i += len;
            value
        } else {
            let start = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            Cow::Borrowed(&text[start..i])
        };
        pairs.push((key, value));
    }
    Some(pairs)
}

/// A double-quoted value after its opening quote: the value (borrowed when it has no escapes)
/// and the bytes it took, closing quote included; `None` if it is not closed.
fn quoted_value(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let end = memchr::memchr2(b'"', b'\\', text.as_bytes())?;
    if text.as_bytes()[end] == b'"' {
        return Some((Cow::Borrowed(&text[..end]), end + 1));
    }
    let mut v = String::from(&text[..end]);
    let mut chars = text[end..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, e)) = chars.next() {
                    v.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                }
            }
            '"' => return Some((Cow::Owned(v), end + at + 1)),
            other => v.push(other),
        }
    }
    None
}

fn logfmt(p: &mut Parser, raw: &[u8], line_no: u64) -> Result<Record, String> {
    let text = lossy(raw);
    let pairs = logfmt_pairs(&text).ok_or("not key=value pairs")?;
    if pairs.iter().filter(|(_, v)| !v.is_empty()).count() < 2 {
        return Err("fewer than two key=value pairs".into());
    }
    let mut record = pairs_record(pairs, &p.options.time);
    record.raw = Some(raw.to_vec());
    record.line = Some(line_no);
    Ok(record)
}

// ---- containers ---------------------------------------------------------------------------

/// A record from a container's log content: JSON or logfmt if it is, text with its own
/// timestamp if it has one, else the content with the container's time.
fn container_record(
    p: &Parser,
    content: &[u8],
    raw: Vec<u8>,
    line: u64,
    ts: Option<i64>,
    stream: &str,
) -> Record {
    let ctx = &p.options.time;
    let mut record = content
        .starts_with(b"{")
        .then(|| flat_json(content, ctx))
        .flatten()
        .unwrap_or_else(|| content_record(content, ctx));
    if record.ts_nanos.is_none() {
        record.ts_nanos = ts;
    }
    if record.level.is_none() && stream == "stderr" {
        record.level_text = Some("stderr".into());
    }
    record.fields = Some(with_stream(record.fields.take(), stream));
    record.raw = Some(raw);
    record.line = Some(line);
    record
}

/// A container's log content that is not a flat JSON object: JSON, text with its own
/// timestamp, logfmt, or else just a message.
fn content_record(content: &[u8], ctx: &time::TimeContext) -> Record {
    let text = clean_message(content);
    if text.starts_with('{') {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(o)) => map_object(o, ctx),
            _ => Record::message(text),
        }
    } else if let Some(r) = text_record(&text, ctx) {
        r
    } else if let Some(pairs) = logfmt_pairs(&text)
        .filter(|p| p.len() >= 2 && p.iter().any(|(k, _)| matches!(*k, "msg" | "level" | "lvl")))
    {
        pairs_record(pairs, ctx)
    } else {
        Record::message(text)
    }
}

/// `fields` (a JSON object's text) with the member `"stream": stream` set: appended to the
/// text as it is when the object has no such member yet (the common case, and no re-encoding
/// of the rest), else through a parsed map.
fn with_stream(fields: Option<String>, stream: &str) -> String {
    let value = Value::from(stream).to_string();
    match fields {
        None => format!("{{\"stream\":{value}}}"),
        Some(mut f) if !f.contains("\"stream\"") && f.ends_with('}') => {
            f.pop();
            if f.trim_end() != "{" {
                f.push(',');
            }
            f.push_str("\"stream\":");
            f.push_str(&value);
            f.push('}');
            f
        }
        Some(f) => {
            let mut map = serde_json::from_str::<Map<String, Value>>(&f).unwrap_or_default();
            map.insert("stream".into(), stream.into());
            Value::Object(map).to_string()
        }
    }
}

fn cri(p: &mut Parser, raw: &[u8], line_no: u64, out: &mut Vec<Record>) {
    // The three fields before the content are ASCII; the content may be anything.
    let mut parts = raw.splitn(4, |&b| b == b' ').map(std::str::from_utf8);
    let (Some(Ok(ts)), Some(Ok(stream)), Some(Ok(tag))) =
        (parts.next(), parts.next(), parts.next())
    else {
        p.unparsed(
            line_no,
            "not CRI: expected '<time> <stream> <P|F> <content>'",
        );
        out.push(raw_record(raw, line_no));
        return;
    };
    let ts_nanos = time::whole(ts, &p.options.time);
    if ts_nanos.is_none()
        || !matches!(stream, "stdout" | "stderr")
        || !matches!(tag.split(':').next(), Some("P" | "F"))
    {
        p.unparsed(
            line_no,
            "not CRI: expected '<time> <stream> <P|F> <content>'",
        );
        out.push(raw_record(raw, line_no));
        return;
    }
    // The content, as bytes (it may not be valid UTF-8).
    let prefix = ts.len() + stream.len() + tag.len() + 3;
    let content = raw.get(prefix..).unwrap_or_default();
    chunk(
        p,
        content,
        raw,
        line_no,
        ts_nanos,
        stream,
        tag.starts_with('P'),
        out,
    );
}

/// Adds a container-log chunk; completes the record unless `partial`.
#[allow(clippy::too_many_arguments)]
fn chunk(
    p: &mut Parser,
    content: &[u8],
    raw: &[u8],
    line_no: u64,
    ts: Option<i64>,
    stream: &str,
    partial: bool,
    out: &mut Vec<Record>,
) {
    if !partial && p.pending.is_none() {
        // A whole line on its own (the common case): no copy into a pending record.
        out.push(container_record(
            p,
            content,
            raw.to_vec(),
            line_no,
            ts,
            stream,
        ));
        return;
    }
    let pending = match p.pending.take() {
        Some(Pending::Partial {
            content: mut c,
            raw: mut r,
            line,
            ts: t,
            stream: s,
        }) if s == stream => {
            c.extend_from_slice(content);
            r.push(b'\n');
            r.extend_from_slice(raw);
            Pending::Partial {
                content: c,
                raw: r,
                line,
                ts: t,
                stream: s,
            }
        }
        other => {
            if let Some(other) = other {
                flush(p, other, out);
            }
            Pending::Partial {
                content: content.to_vec(),
                raw: raw.to_vec(),
                line: line_no,
                ts,
                stream: stream.to_owned(),
            }
        }
    };
    let too_big =
        matches!(&pending, Pending::Partial { content, .. } if content.len() > MAX_RECORD_BYTES);
    if partial && !too_big {
        p.pending = Some(pending);
    } else {
        flush(p, pending, out);
    }
}

fn docker(p: &mut Parser, raw: &[u8], line_no: u64, out: &mut Vec<Record>) {
    let parsed: Result<Value, _> = serde_json::from_slice(raw);
    let Ok(Value::Object(o)) = parsed else {
        p.unparsed(
            line_no,
            "not Docker json-file: expected {\"log\",\"stream\",\"time\"}",
        );
        out.push(raw_record(raw, line_no));
        return;
    };
    let Some(log) = o.get("log").and_then(Value::as_str) else {
        p.unparsed(line_no, "Docker json-file line without a \"log\" string");
        out.push(raw_record(raw, line_no));
        return;
    };
    let stream = o
        .get("stream")
        .and_then(Value::as_str)
        .unwrap_or("stdout")
        .to_owned();
    let ts = o.get("time").and_then(|v| time_value(v, &p.options.time));
    // Docker splits lines over 16 KiB; only the last chunk ends with a newline.
    let partial = !log.ends_with('\n');
    let content = log.strip_suffix('\n').unwrap_or(log);
    let content = content.strip_suffix('\r').unwrap_or(content);
    chunk(
        p,
        content.as_bytes(),
        raw,
        line_no,
        ts,
        &stream,
        partial,
        out,
    );
}

// ---- journald -----------------------------------------------------------------------------

fn journald(p: &mut Parser, raw: &[u8], line_no: u64) -> Result<Record, String> {
    let value: Value = serde_json::from_slice(raw).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut o) = value else {
        return Err("a JSON value that is not an object".into());
    };
    let text = |o: &mut Map<String, Value>, key: &str| match o.shift_remove(key) {
        Some(Value::String(s)) => Some(s),
        // journalctl writes non-UTF-8 or binary fields as arrays of bytes.
        Some(Value::Array(bytes)) => {
            let bytes: Vec<u8> = bytes
                .iter()
                .filter_map(|b| b.as_u64().map(|b| b as u8))
                .collect();
            Some(clean_message(&bytes))
        }
        Some(other) => scalar_text(&other),
        None => None,
    };
    let ts_text = text(&mut o, "__REALTIME_TIMESTAMP");
    let ts_nanos = ts_text
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok())
        .map(|us| us * 1000);
    let priority = text(&mut o, "PRIORITY");
    let service =
        text(&mut o, "SYSLOG_IDENTIFIER").or_else(|| o.get("_SYSTEMD_UNIT").and_then(scalar_text));
    let record = Record {
        ts_nanos,
        ts_text,
        level: priority
            .as_deref()
            .and_then(|p| p.parse().ok())
            .and_then(level::from_syslog),
        level_text: priority,
        message: crate::line::strip_ansi(
            text(&mut o, "MESSAGE").ok_or("journald entry without MESSAGE")?,
        ),
        service,
        host: text(&mut o, "_HOSTNAME"),
        trace_id: text(&mut o, "TRACE_ID"),
        span_id: text(&mut o, "SPAN_ID"),
        fields: (!o.is_empty()).then(|| Value::Object(o).to_string()),
        raw: Some(raw.to_vec()),
        line: Some(line_no),
        ..Record::default()
    };
    let _ = p;
    Ok(record)
}

// ---- access logs --------------------------------------------------------------------------

/// A quoted string at the start of `s` (backslash escapes kept as written): (content, rest).
fn quoted(s: &str) -> Option<(&str, &str)> {
    let s = s.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some((&s[..i], &s[i + 1..])),
            _ => escaped = false,
        }
    }
    None
}

fn token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    let end = s.find(' ').unwrap_or(s.len());
    (end > 0).then(|| (&s[..end], &s[end..]))
}

/// `host ident user [time] "request" status bytes ["referer" "user-agent"]`.
pub(crate) fn access_record(text: &str, ctx: &time::TimeContext) -> Option<Record> {
    let (remote, rest) = token(text)?;
    let (_ident, rest) = token(rest)?;
    let (user, rest) = token(rest)?;
    let rest = rest.trim_start_matches(' ');
    let (ts, len) = time::leading(rest, ctx).filter(|_| rest.starts_with('['))?;
    let ts_text = &rest[1..len - 1];
    let (request, rest) = quoted(rest[len..].trim_start_matches(' '))?;
    let (status, rest) = token(rest)?;
    let status_code: u16 = status.parse().ok()?;
    let (bytes, rest) = token(rest)?;
    let mut fields = FieldsText::with_capacity(text.len() + 100);
    fields.add("remote_addr", remote);
    if user != "-" {
        fields.add("user", user);
    }
    let mut parts = request.splitn(3, ' ');
    if let (Some(method), Some(path)) = (parts.next(), parts.next()) {
        fields.add("method", method);
        fields.add("path", path);
        if let Some(proto) = parts.next() {
            fields.add("protocol", proto);
        }
    }
    fields.add("status", status_code);
    fields.add("bytes", bytes.parse::<u64>().ok());
    let rest = rest.trim_start_matches(' ');
    if let Some((referer, rest)) = quoted(rest) {
        if referer != "-" {
            fields.add("referer", referer);
        }
        if let Some((agent, rest)) = quoted(rest.trim_start_matches(' ')) {
            fields.add("user_agent", agent);
            let extra = rest.trim();
            if !extra.is_empty() {
                fields.add("extra", extra);
            }
        }
    }
    let level = match status_code {
        500.. => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    };
    Some(Record {
        ts_nanos: Some(ts),
        ts_text: Some(ts_text.to_owned()),
        level: Some(level),
        level_text: Some(status.to_owned()),
        message: format!("{request} {status}"),
        fields: fields.finish(),
        ..Record::default()
    })
}

fn access(p: &mut Parser, raw: &[u8], line_no: u64) -> Result<Record, String> {
    let text = clean_message(raw);
    // Access lines, and the error log of the same server (nginx: `2024/01/01 10:00:00
    // [error] …`, Apache: `[Sun Dec 04 …] [error] …`) in the same stream.
    let mut record = access_record(&text, &p.options.time)
        .or_else(|| text_record(&text, &p.options.time))
        .ok_or("neither an access log line nor an error log line")?;
    record.raw = Some(raw.to_vec());
    record.line = Some(line_no);
    Ok(record)
}

// ---- syslog -------------------------------------------------------------------------------

pub(crate) fn syslog_record(text: &str, ctx: &time::TimeContext) -> Option<Record> {
    let mut rest = text;
    let mut level = None;
    let mut level_text = None;
    if let Some(after) = rest.strip_prefix('<') {
        let close = after.find('>')?;
        let pri: i64 = after[..close].parse().ok().filter(|&p| p <= 191)?;
        level = level::from_syslog(pri % 8);
        level_text = Some((pri % 8).to_string());
        rest = &after[close + 1..];
    }
    let mut fields = FieldsText::default();
    if let Some(after) = rest.strip_prefix("1 ") {
        // RFC 5424: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG
        let (ts_text, r) = token(after)?;
        let ts = if ts_text == "-" {
            None
        } else {
            Some(time::whole(ts_text, ctx)?)
        };
        let (host, r) = token(r)?;
        let (app, r) = token(r)?;
        let (procid, r) = token(r)?;
        let (msgid, r) = token(r)?;
        let r = r.trim_start_matches(' ');
        let (sd, msg) = if let Some(r) = r.strip_prefix('-') {
            (None, r)
        } else {
            let mut depth = 0;
            let mut end = None;
            let mut in_quotes = false;
            let mut prev = ' ';
            for (i, c) in r.char_indices() {
                match c {
                    '"' if prev != '\\' => in_quotes = !in_quotes,
                    '[' if !in_quotes => depth += 1,
                    ']' if !in_quotes => {
                        depth -= 1;
                        if depth == 0 && !r[i + 1..].starts_with('[') {
                            end = Some(i + 1);
                            break;
                        }
                    }
                    _ => {}
                }
                prev = c;
            }
            let end = end?;
            (Some(&r[..end]), &r[end..])
        };
        for (k, v) in [("procid", procid), ("msgid", msgid)] {
            if v != "-" {
                fields.add(k, v);
            }
        }
        if let Some(sd) = sd {
            fields.add("structured_data", sd);
        }
        return Some(Record {
            ts_nanos: ts,
            ts_text: Some(ts_text.to_owned()),
            level,
            level_text,
            message: msg
                .trim_start_matches(' ')
                .trim_start_matches('\u{feff}')
                .to_owned(),
            service: (app != "-").then(|| app.to_owned()),
            host: (host != "-").then(|| host.to_owned()),
            fields: fields.finish(),
            ..Record::default()
        });
    }
    // RFC 3164: Mon DD HH:MM:SS HOST TAG[PID]: MSG
    let (ts, len) = time::leading(rest, ctx)?;
    let ts_text = &rest[..len];
    let (host, r) = token(&rest[len..])?;
    let r = r.trim_start_matches(' ');
    let (tag, msg) = match r.find(": ") {
        Some(i) if !r[..i].contains(' ') => (&r[..i], &r[i + 2..]),
        _ => ("", r),
    };
    let (service, pid) = match tag.find('[') {
        Some(i) => (&tag[..i], tag[i + 1..].strip_suffix(']')),
        None => (tag, None),
    };
    if let Some(pid) = pid {
        fields.add("pid", pid);
    }
    Some(Record {
        ts_nanos: Some(ts),
        ts_text: Some(ts_text.to_owned()),
        level,
        level_text,
        message: msg.to_owned(),
        service: (!service.is_empty()).then(|| service.to_owned()),
        host: Some(host.to_owned()),
        fields: fields.finish(),
        ..Record::default()
    })
}

fn syslog(p: &mut Parser, raw: &[u8], line_no: u64) -> Result<Record, String> {
    let text = clean_message(raw);
    let mut record =
        syslog_record(&text, &p.options.time).ok_or("not syslog (RFC 3164 or 5424)")?;
    record.raw = Some(raw.to_vec());
    record.line = Some(line_no);
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_key_has_one_role_and_its_rank() {
        let all: Vec<&str> = ROLES
            .iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "a key is listed under two roles");
        for (i, (_, keys)) in ROLES.iter().enumerate() {
            for (rank, key) in keys.iter().enumerate() {
                assert_eq!(role_of(key), Some((i, rank)), "{key}");
            }
        }
        assert_eq!(role_of("user_id"), None);
    }

    #[test]
    fn logfmt_values_are_borrowed_unless_unescaped_and_an_open_quote_is_no_pair() {
        let pairs = logfmt_pairs(r#"a=1 b="two words" c="say \"hi\"\n" d"#).unwrap();
        let values: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        assert_eq!(
            values,
            [
                ("a", "1"),
                ("b", "two words"),
                ("c", "say \"hi\"\n"),
                ("d", "")
            ]
        );
        assert!(matches!(pairs[1].1, Cow::Borrowed(_)));
        assert!(matches!(pairs[2].1, Cow::Owned(_)));
        assert_eq!(logfmt_pairs(r#"a=1 b="never closed"#), None);
        assert_eq!(logfmt_pairs(r#"a=1 b="ends in an escape\"#), None);
    }

    #[test]
    fn a_container_stream_joins_the_fields_once() {
        assert_eq!(with_stream(None, "stdout"), r#"{"stream":"stdout"}"#);
        assert_eq!(
            with_stream(Some("{}".into()), "stderr"),
            r#"{"stream":"stderr"}"#
        );
        assert_eq!(
            with_stream(Some(r#"{"a":1,"b":"streams"}"#.into()), "stdout"),
            r#"{"a":1,"b":"streams","stream":"stdout"}"#
        );
        // The application's own `stream` member is replaced where it stands, not repeated.
        assert_eq!(
            with_stream(Some(r#"{"stream":"kafka","a":1}"#.into()), "stderr"),
            r#"{"stream":"stderr","a":1}"#
        );
        // Docker's stream is whatever the file says: it is encoded, not pasted.
        assert_eq!(
            with_stream(Some(r#"{"a":1}"#.into()), "we\"ird"),
            r#"{"a":1,"stream":"we\"ird"}"#
        );
    }
}
