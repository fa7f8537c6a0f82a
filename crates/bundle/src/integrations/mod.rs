//! Logging through the writer from a service: a `tracing` layer and a `log` backend.

#[cfg(feature = "log")]
pub mod log_backend;
#[cfg(feature = "tracing")]
pub mod tracing_layer;

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex,
};

use crate::{Record, Writer, WriterError};

/// What the integrations share: the writer, the fields every record gets, and the errors
/// that a logging call cannot return.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) writer: Arc<Writer>,
    pub(crate) service: Option<String>,
    pub(crate) host: Option<String>,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Sink {
    pub(crate) fn new(writer: Arc<Writer>, service: Option<String>) -> Self {
        let host = std::env::var("HOSTNAME").ok().or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        });
        Self {
            writer,
            service,
            host,
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
        }
    }

    /// Appends `record` with the writer's policy. A logging call has nowhere to return an
    /// error: failures are counted and the last one kept, for [`Failures`].
    pub(crate) fn append(&self, mut record: Record) {
        record.service = record.service.or_else(|| self.service.clone());
        record.host = record.host.or_else(|| self.host.clone());
        if let Err(err) = self.writer.append(&record) {
            self.failed(&err);
        }
    }

    pub(crate) fn failed(&self, err: &WriterError) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(err.to_string());
    }

    pub(crate) fn failures(&self) -> Failures {
        Failures {
            count: self.failures.load(Ordering::Relaxed),
            last: self
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

/// Records a logging integration could not append (the writer failed or closed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u64,
    pub last: Option<String>,
}

pub(crate) fn now_nanos() -> i64 {
    crate::segment::now_nanos()
}
