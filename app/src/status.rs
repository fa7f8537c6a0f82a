//! The platform page: what the store worker reports, the theme, and offline readiness.

use leptos::{prelude::*, task::spawn_local};
use trawl_protocol::{Request, Response, StoreStatus, WorkerState};

use crate::{platform, worker_client};

/// The setting key under which the theme is stored.
const THEME_KEY: &str = "theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    fn parse(value: &str) -> Option<Self> {
        match value {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    fn toggled(self) -> Self {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

/// The whole app, for now: the platform page.
#[component]
pub fn App() -> impl IntoView {
    let state = RwSignal::new(WorkerState::Starting);
    let status = RwSignal::new(None::<StoreStatus>);
    let theme = RwSignal::new(Theme::Light);
    let error = RwSignal::new(None::<String>);
    let offline = RwSignal::new(None::<Result<(), String>>);
    let persisted = RwSignal::new(None::<bool>);

    if let Err(message) = worker_client::start(move |s| state.set(s)) {
        state.set(WorkerState::Failed { message });
    }
    spawn_local(async move { offline.set(Some(platform::register_service_worker().await)) });
    spawn_local(async move { persisted.set(platform::persist_storage().await) });

    // Once the store is open, read its status and the stored theme.
    Effect::new(move |_| {
        if state.get() == WorkerState::Ready {
            spawn_local(async move {
                match worker_client::request(Request::Status).await {
                    Ok(Response::Status(s)) => status.set(Some(s)),
                    Ok(other) => error.set(Some(format!("unexpected reply: {other:?}"))),
                    Err(err) => error.set(Some(err.to_string())),
                }
                let key = THEME_KEY.to_owned();
                match worker_client::request(Request::GetSetting { key }).await {
                    Ok(Response::Setting { value }) => {
                        if let Some(t) = value.as_deref().and_then(Theme::parse) {
                            theme.set(t);
                        }
                    }
                    Ok(other) => error.set(Some(format!("unexpected reply: {other:?}"))),
                    Err(err) => error.set(Some(err.to_string())),
                }
            });
        }
    });

    Effect::new(move |_| {
        let value = theme.get().as_str();
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-theme", value);
        }
    });

    let toggle_theme = move |_| {
        let next = theme.get_untracked().toggled();
        theme.set(next);
        spawn_local(async move {
            let request = Request::SetSetting {
                key: THEME_KEY.to_owned(),
                value: next.as_str().to_owned(),
            };
            if let Err(err) = worker_client::request(request).await {
                error.set(Some(format!("the theme was not saved: {err}")));
            }
        });
    };

    view! {
        <header class="bar">
            <h1>"trawl"</h1>
            <span class="tagline">"offline log review"</span>
            <button data-testid="theme-toggle" class="theme" on:click=toggle_theme>
                {move || match theme.get() {
                    Theme::Light => "Dark theme",
                    Theme::Dark => "Light theme",
                }}
            </button>
        </header>
        <main>
            {move || error.get().map(|message| view! {
                <p class="banner error" role="alert" data-testid="error-banner">{message}</p>
            })}
            <StateBanner state=state />
            <section class="card" data-testid="platform">
                <h2>"Platform"</h2>
                <dl>
                    <dt>"Store"</dt>
                    <dd data-testid="worker-state">{move || state_label(&state.get())}</dd>
                    <dt>"SQLite"</dt>
                    <dd data-testid="sqlite-version">
                        {move || status.get().map(|s| s.sqlite_version).unwrap_or_default()}
                    </dd>
                    <dt>"Full-text search"</dt>
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
            </section>
            <p class="note">
                "Embedded in a page of another site, this app has its own storage, separate from "
                "the same app opened directly: browsers partition storage by top-level site."
            </p>
        </main>
    }
}

#[component]
fn StateBanner(state: RwSignal<WorkerState>) -> impl IntoView {
    move || match state.get() {
        WorkerState::WaitingForOtherTab => Some(
            view! {
                <p class="banner warn" role="status" data-testid="other-tab">
                    "trawl is open in another tab. Close it, and this tab takes over."
                </p>
            }
            .into_any(),
        ),
        WorkerState::Failed { message } => Some(
            view! {
                <p class="banner error" role="alert" data-testid="store-failed">
                    "The store could not be opened: " {message}
                </p>
            }
            .into_any(),
        ),
        WorkerState::Starting | WorkerState::Ready => None,
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

fn storage_label(usage: Option<f64>, quota: Option<f64>) -> String {
    match (usage, quota) {
        (Some(usage), Some(quota)) => format!("{} of {}", bytes(usage), bytes(quota)),
        (Some(usage), None) => bytes(usage),
        _ => "unknown".to_owned(),
    }
}

fn bytes(n: f64) -> String {
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
