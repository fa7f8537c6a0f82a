//! Logging from a service through the writer: the `tracing` layer and the `log` backend.

mod common;

use std::sync::Arc;

use tracing_subscriber::prelude::*;
use trawl_bundle::{
    fs::StdFs,
    integrations::{log_backend::WriterLog, tracing_layer::WriterLayer},
    Level, Options, Writer,
};

#[test]
fn tracing_events_become_durable_records_with_their_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, _) = Writer::open(dir.path(), Options::default()).unwrap();
    let writer = Arc::new(writer);
    let layer = WriterLayer::new(writer.clone(), "checkout");
    let subscriber = tracing_subscriber::registry().with(layer.clone());
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("request", path = "/api/v1/orders");
        let _e = span.enter();
        tracing::warn!(
            order = 42u64,
            ok = false,
            trace_id = "abc123",
            "payment slow"
        );
        tracing::debug!("plain");
    });
    assert_eq!(
        writer.durable_seq(),
        2,
        "every-record policy: durable on return"
    );
    assert_eq!(layer.failures().count, 0);
    drop(writer);
    let records = common::read_all(&StdFs, dir.path()).unwrap();
    let (_, first) = &records[0];
    assert_eq!(first.message, "payment slow");
    assert_eq!(first.level, Some(Level::Warn));
    assert_eq!(first.service.as_deref(), Some("checkout"));
    assert_eq!(first.trace_id.as_deref(), Some("abc123"));
    let fields: serde_json::Value = serde_json::from_str(first.fields.as_deref().unwrap()).unwrap();
    assert_eq!(fields["order"], 42);
    assert_eq!(fields["ok"], false);
    assert_eq!(fields["spans"][0], "request");
    assert_eq!(first.source.as_deref(), Some("integrations"));
    assert!(first.ts_nanos.is_some() && first.line.is_some());
    assert_eq!(records[1].1.level, Some(Level::Debug));
}

#[test]
fn log_records_become_durable_records_and_flush_syncs() {
    use log::Log;
    let dir = tempfile::tempdir().unwrap();
    let (writer, _) = Writer::open(
        dir.path(),
        Options::with_durability(trawl_bundle::Durability::Manual),
    )
    .unwrap();
    let writer = Arc::new(writer);
    let logger = WriterLog::new(writer.clone(), "billing", log::LevelFilter::Info);
    logger.log(
        &log::Record::builder()
            .level(log::Level::Error)
            .target("billing::db")
            .args(format_args!("connection lost after {} tries", 3))
            .line(Some(7))
            .build(),
    );
    logger.log(
        &log::Record::builder()
            .level(log::Level::Debug)
            .args(format_args!("filtered out"))
            .build(),
    );
    assert_eq!(writer.durable_seq(), 0);
    logger.flush();
    assert_eq!(writer.durable_seq(), 1, "flush syncs");
    drop(writer);
    let records = common::read_all(&StdFs, dir.path()).unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0].1;
    assert_eq!(r.message, "connection lost after 3 tries");
    assert_eq!(
        (r.level, r.source.as_deref(), r.line),
        (Some(Level::Error), Some("billing::db"), Some(7))
    );
    assert_eq!(r.service.as_deref(), Some("billing"));
}

#[test]
fn failures_are_counted_not_lost_silently() {
    let fs = trawl_bundle::sim::SimFs::new();
    let (writer, _) = Writer::open_with_fs(
        Arc::new(fs.clone()),
        std::path::Path::new("/b"),
        Options::default(),
    )
    .unwrap();
    // The next sync (the first event's) fails, as an fdatasync returning EIO would.
    fs.fail_sync_at(3);
    let layer = WriterLayer::new(Arc::new(writer), "svc");
    let subscriber = tracing_subscriber::registry().with(layer.clone());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("first");
        tracing::info!("second");
    });
    let failures = layer.failures();
    assert_eq!(failures.count, 2, "{failures:?}");
    assert!(failures.last.unwrap().contains("EIO"));
}
