//! The viewer's components. [`App`] lays them out and owns the keyboard.

mod console;
mod context;
mod detail;
mod export;
mod facets;
mod histogram;
mod imports;
mod library;
mod record_line;
mod results;
mod search_box;
mod store_card;
mod theme;
mod trace;

use leptos::{ev, prelude::*, task::spawn_local};
use trawl_protocol::{Order, WorkerState};
use wasm_bindgen::JsCast;

use crate::{
    embed, platform,
    session::Session,
    view_state,
    worker_client::{self, Event},
};

/// The whole viewer.
#[component]
pub fn App() -> impl IntoView {
    let session = Session::new();
    provide_context(session);
    let bundles = view_state::restore(session);
    view_state::follow(session);
    session.start();

    if let Err(message) = worker_client::start(move |event| match event {
        Event::State(state) => session.worker.set(state),
        Event::Progress(progress) => session.progress(progress),
        Event::Exporting(progress) => session.exporting(progress),
    }) {
        session.worker.set(WorkerState::Failed { message });
    }
    // `?bundle=` URLs are imported once the store is open (segments already stored are
    // skipped without being fetched).
    let pending = StoredValue::new(Some(bundles));
    Effect::new(move |_| {
        if session.worker.get() == WorkerState::Ready {
            let mut urls = None;
            pending.update_value(|p| urls = p.take());
            for url in urls.unwrap_or_default() {
                match view_state::bundle_url(&url) {
                    Some(resolved) => {
                        let name = view_state::bundle_name(&resolved);
                        session.import_url(resolved, name, |_, _| {})
                    }
                    None => session
                        .errors
                        .update(|e| e.push(format!("'{url}' is not a usable bundle URL"))),
                }
            }
        }
    });
    let offline = RwSignal::new(None::<Result<(), String>>);
    let persisted = RwSignal::new(None::<bool>);
    spawn_local(async move { offline.set(Some(platform::register_service_worker().await)) });
    spawn_local(async move { persisted.set(platform::persist_storage().await) });

    embed::listen(session);
    let search_input = NodeRef::<leptos::html::Input>::new();
    keyboard(session, search_input);

    view! {
        <header class="topbar">
            <h1>"trawl"</h1>
            <search_box::SearchBox input=search_input />
            <button
                data-testid="order"
                title="Order of the results"
                on:click=move |_| session.order.update(|o| *o = match o {
                    Order::NewestFirst => Order::OldestFirst,
                    Order::OldestFirst => Order::NewestFirst,
                })
            >
                {move || match session.order.get() {
                    Order::NewestFirst => "Newest first",
                    Order::OldestFirst => "Oldest first",
                }}
            </button>
            <button
                data-testid="timezone"
                title="Show times in UTC or in this browser's time zone"
                on:click=move |_| session.utc.update(|u| *u = !*u)
            >
                {move || if session.utc.get() { "UTC" } else { "Local time" }}
            </button>
            <button
                data-testid="sql-toggle"
                title="Read-only SQL over the store"
                aria-pressed=move || session.console.get().to_string()
                on:click=move |_| session.console.update(|open| *open = !*open)
            >"SQL"</button>
            <imports::OpenButton />
            <theme::ThemeToggle />
        </header>
        <Banners />
        <imports::ImportProgressBar />
        <div class="workspace">
            <aside class="sidebar">
                <facets::Facets />
                <library::Library />
                <store_card::StoreCard offline persisted />
            </aside>
            <section class="content">
                {move || session.console.get().then(|| view! { <console::Console /> })}
                <histogram::Histogram />
                <results::Results />
            </section>
            <detail::DetailPane />
        </div>
        <imports::DropZone />
    }
}

/// Worker state and error banners.
#[component]
fn Banners() -> impl IntoView {
    let session = expect_context::<Session>();
    view! {
        {move || match session.worker.get() {
            WorkerState::WaitingForOtherTab => Some(view! {
                <p class="banner warn" role="status" data-testid="other-tab">
                    "trawl is open in another tab. Close it, and this tab takes over."
                </p>
            }.into_any()),
            WorkerState::Failed { message } => Some(view! {
                <p class="banner error" role="alert" data-testid="store-failed">
                    "The store could not be opened: " {message}
                </p>
            }.into_any()),
            WorkerState::Starting | WorkerState::Ready => None,
        }}
        {move || {
            let errors = session.errors.get();
            (!errors.is_empty()).then(|| view! {
                <div class="banner error" role="alert" data-testid="error-banner">
                    <ul>
                        {errors.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
                    </ul>
                    <button
                        data-testid="dismiss-errors"
                        on:click=move |_| session.errors.set(Vec::new())
                    >"Dismiss"</button>
                </div>
            })
        }}
    }
}

/// `/` focuses the search box; j/k or the arrows move through results; Enter opens the
/// highlighted record; Esc closes the detail pane (or leaves the search box).
fn keyboard(session: Session, search_input: NodeRef<leptos::html::Input>) {
    let handle = window_event_listener(ev::keydown, move |event| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let typing = event
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        let key = event.key();
        if typing {
            if key == "Escape" {
                if let Some(input) = search_input.get_untracked() {
                    let _ = input.blur();
                }
            }
            return;
        }
        let rows = session.rows.with_untracked(Vec::len);
        let step = |delta: isize| {
            if rows == 0 {
                return;
            }
            let next = match session.cursor.get_untracked() {
                None => 0,
                Some(at) => (at as isize + delta).clamp(0, rows as isize - 1) as usize,
            };
            session.cursor.set(Some(next));
            if session.selected.get_untracked().is_some() {
                session.open_at_cursor();
            }
        };
        match key.as_str() {
            "/" => {
                if let Some(input) = search_input.get_untracked() {
                    let _ = input.focus();
                    input.select();
                }
            }
            "j" | "ArrowDown" => step(1),
            "k" | "ArrowUp" => step(-1),
            "Enter" => session.open_at_cursor(),
            "Escape" => {
                session.selected.set(None);
                session.help.set(false);
            }
            "?" => session.help.update(|h| *h = !*h),
            _ => return,
        }
        event.prevent_default();
    });
    on_cleanup(move || handle.remove());
}
