//! What the store worker reports about the platform: SQLite, FTS5, OPFS, space, offline.

use leptos::prelude::*;
use trawl_protocol::WorkerState;

use crate::{format, session::Session};

/// The store's facts, at the foot of the sidebar.
#[component]
pub fn StoreCard(
    offline: RwSignal<Option<Result<(), String>>>,
    persisted: RwSignal<Option<bool>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let status = session.status;
    view! {
        <section class="panel store" data-testid="platform">
            <h2>"Store"</h2>
            <dl>
                <dt>"State"</dt>
                <dd data-testid="worker-state">{move || state_label(&session.worker.get())}</dd>
                <dt>"SQLite"</dt>
                <dd data-testid="sqlite-version">
                    {move || status.get().map(|s| s.sqlite_version).unwrap_or_default()}
                </dd>
                <dt>"Search"</dt>
                <dd data-testid="fts5">
                    {move || status.get().map(|s| if s.fts5 { "FTS5" } else { "unavailable" })}
                </dd>
                <dt>"Storage"</dt>
                <dd data-testid="opfs">
                    {move || status.get().map(|s| if s.opfs {
                        format!("OPFS ({}), kept across reloads", s.vfs)
                    } else {
                        "memory only: data is lost on reload".to_owned()
                    })}
                </dd>
                <dt>"Opened"</dt>
                <dd data-testid="open-count">
                    {move || status.get().map(|s| s.open_count.to_string())}
                </dd>
                <dt>"Space used"</dt>
                <dd data-testid="storage">
                    {move || status.get().map(|s| storage_label(s.storage_usage, s.storage_quota))}
                </dd>
                <dt>"Worker memory"</dt>
                <dd data-testid="worker-memory">
                    {move || status.get().and_then(|s| s.worker_memory).map(format::bytes)}
                </dd>
                <dt>"Persistence"</dt>
                <dd data-testid="persisted">
                    {move || match persisted.get() {
                        Some(true) => "granted: the browser keeps this data under storage pressure",
                        Some(false) => "best effort: the browser may evict this data under storage pressure",
                        None => "unknown",
                    }}
                </dd>
                <dt>"Offline"</dt>
                <dd data-testid="offline">
                    {move || match offline.get() {
                        None => "preparing…".to_owned(),
                        Some(Ok(())) => "ready: this app works without a network".to_owned(),
                        Some(Err(err)) => format!("unavailable: {err}"),
                    }}
                </dd>
            </dl>
            <p class="note">
                "Nothing leaves this browser. Embedded in a page of another site, trawl has "
                "storage of its own there: browsers partition storage by top-level site. "
                "To move a bundle between the two, Export it from the library and drop the "
                ".tar on the other."
            </p>
        </section>
    }
}

fn state_label(state: &WorkerState) -> &'static str {
    match state {
        WorkerState::Starting => "opening…",
        WorkerState::WaitingForOtherTab => "waiting for another tab",
        WorkerState::Ready => "ready",
        WorkerState::Failed { .. } => "failed",
    }
}

/// `12.0 MiB of 9.8 GiB`: the origin's usage against its quota.
pub fn storage_label(usage: Option<f64>, quota: Option<f64>) -> String {
    match (usage, quota) {
        (Some(usage), Some(quota)) => {
            format!("{} of {}", format::bytes(usage), format::bytes(quota))
        }
        (Some(usage), None) => format::bytes(usage),
        _ => "unknown".to_owned(),
    }
}
