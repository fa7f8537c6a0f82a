//! A [`log::Log`] backend that appends every log record to a [`Writer`].

use std::sync::Arc;

use super::{now_nanos, Failures, Sink};
use crate::{Level, Record, Writer};

/// Appends each `log` record: its message, level, target (as the source) and line, with its
/// module and file in `fields`. `flush` syncs the writer. Install it with
/// `log::set_boxed_logger(Box::new(logger))` and `log::set_max_level(...)`.
#[derive(Debug, Clone)]
pub struct WriterLog {
    sink: Arc<Sink>,
    max_level: log::LevelFilter,
}

impl WriterLog {
    /// A logger appending records up to `max_level` to `writer`, tagged with `service`.
    pub fn new(
        writer: Arc<Writer>,
        service: impl Into<String>,
        max_level: log::LevelFilter,
    ) -> Self {
        Self {
            sink: Arc::new(Sink::new(writer, Some(service.into()))),
            max_level,
        }
    }

    /// Records that could not be appended.
    pub fn failures(&self) -> Failures {
        self.sink.failures()
    }
}

fn level(level: log::Level) -> Level {
    match level {
        log::Level::Trace => Level::Trace,
        log::Level::Debug => Level::Debug,
        log::Level::Info => Level::Info,
        log::Level::Warn => Level::Warn,
        log::Level::Error => Level::Error,
    }
}

impl log::Log for WriterLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.max_level
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut fields = serde_json::Map::new();
        if let Some(module) = record.module_path() {
            fields.insert("module".into(), module.into());
        }
        if let Some(file) = record.file() {
            fields.insert("file".into(), file.into());
        }
        self.sink.append(Record {
            ts_nanos: Some(now_nanos()),
            level: Some(level(record.level())),
            level_text: Some(record.level().as_str().to_owned()),
            message: record.args().to_string(),
            fields: (!fields.is_empty()).then(|| serde_json::Value::Object(fields).to_string()),
            source: Some(record.target().to_owned()),
            line: record.line().map(u64::from),
            ..Record::default()
        });
    }

    fn flush(&self) {
        if let Err(err) = self.sink.writer.sync() {
            self.sink.failed(&err);
        }
    }
}
