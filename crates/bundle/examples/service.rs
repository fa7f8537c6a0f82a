//! A small service that logs through the durable writer with `tracing`.
//!
//! `cargo run -p trawl-bundle --example service --features tracing -- /tmp/service-bundle`
//! then `trawl verify /tmp/service-bundle` (or read it with `SegmentReader`).

use std::{sync::Arc, time::Duration};

use tracing_subscriber::prelude::*;
use trawl_bundle::{integrations::tracing_layer::WriterLayer, Durability, Options, Writer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "service-bundle".to_owned());
    // Durable within 50 ms of each event, without making each event wait for a sync.
    let options = Options::with_durability(Durability::Interval(Duration::from_millis(50)));
    let (writer, recovered) = Writer::open(&dir, options)?;
    let writer = Arc::new(writer);
    let layer = WriterLayer::new(writer.clone(), "checkout");
    tracing_subscriber::registry().with(layer.clone()).init();

    tracing::info!(records_before = recovered.last_seq, "service started");
    for order in 1..=20u64 {
        let span = tracing::info_span!("order", order);
        let _entered = span.enter();
        tracing::info!(order, amount_cents = order * 250, "order placed");
        if order % 7 == 0 {
            tracing::warn!(
                order,
                trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
                "payment slow"
            );
        }
    }
    tracing::error!(reason = "shutting down", "service stopping");

    let durable = writer.sync()?;
    println!(
        "{durable} records durable in {dir}; failures: {:?}",
        layer.failures()
    );
    Ok(())
}
