//! A [`tracing_subscriber::Layer`] that appends every event to a [`Writer`].

use std::{fmt, sync::Arc};

use serde_json::{Map, Value};
use tracing::{
    field::{Field, Visit},
    Event, Level as TracingLevel, Subscriber,
};
use tracing_subscriber::{layer::Context, registry::LookupSpan, Layer};

use super::{now_nanos, Failures, Sink};
use crate::{Level, Record, Writer};

/// Appends each `tracing` event as a record: its `message` field as the message, its level,
/// its target as the source, its file line, the names of the spans it is in (`spans`), and
/// every other field (`fields`). `trace_id` and `span_id` fields fill the record's own.
///
/// Durability is the writer's policy: with [`crate::Durability::EveryRecord`] an event returns
/// only once it is durable. Errors cannot be returned from a logging call; see
/// [`WriterLayer::failures`].
#[derive(Debug, Clone)]
pub struct WriterLayer {
    sink: Arc<Sink>,
}

impl WriterLayer {
    /// A layer appending to `writer`, tagging records with `service`.
    pub fn new(writer: Arc<Writer>, service: impl Into<String>) -> Self {
        Self {
            sink: Arc::new(Sink::new(writer, Some(service.into()))),
        }
    }

    /// Events that could not be appended.
    pub fn failures(&self) -> Failures {
        self.sink.failures()
    }
}

fn level(level: &TracingLevel) -> Level {
    match *level {
        TracingLevel::TRACE => Level::Trace,
        TracingLevel::DEBUG => Level::Debug,
        TracingLevel::INFO => Level::Info,
        TracingLevel::WARN => Level::Warn,
        TracingLevel::ERROR => Level::Error,
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    trace_id: Option<String>,
    span_id: Option<String>,
    rest: Map<String, Value>,
}

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        match (field.name(), value) {
            ("message", Value::String(s)) => self.message = Some(s),
            ("trace_id", Value::String(s)) => self.trace_id = Some(s),
            ("span_id", Value::String(s)) => self.span_id = Some(s),
            (name, value) => {
                self.rest.insert(name.to_owned(), value);
            }
        }
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
}

impl<S> Layer<S> for WriterLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(scope) = ctx.event_scope(event) {
            let spans: Vec<Value> = scope
                .from_root()
                .map(|span| Value::String(span.name().to_owned()))
                .collect();
            if !spans.is_empty() {
                fields.rest.insert("spans".into(), Value::Array(spans));
            }
        }
        let level = level(meta.level());
        self.sink.append(Record {
            ts_nanos: Some(now_nanos()),
            level: Some(level),
            level_text: Some(meta.level().as_str().to_owned()),
            message: fields.message.unwrap_or_default(),
            trace_id: fields.trace_id,
            span_id: fields.span_id,
            fields: (!fields.rest.is_empty()).then(|| Value::Object(fields.rest).to_string()),
            source: Some(meta.target().to_owned()),
            line: meta.line().map(u64::from),
            ..Record::default()
        });
    }
}
