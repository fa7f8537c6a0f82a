//! The result list, virtualised: a fixed pool of row elements is positioned over a spacer as
//! tall as all loaded rows, and each element shows whichever row falls in its slot, so
//! scrolling through millions of rows touches a few dozen elements. Pages are fetched from
//! the worker (keyset, by record id) as the end of the loaded rows comes near.

use leptos::prelude::*;
use trawl_protocol::results::level_name;
use wasm_bindgen::{closure::Closure, JsCast};

use crate::{format, session::Session};

/// Height of one row in pixels (the stylesheet's `.row` height).
const ROW_HEIGHT: f64 = 22.0;
/// Row elements in the pool: enough to cover a tall screen plus the overscan both ways.
const POOL: usize = 128;
/// Rows rendered above the first visible one and below the last.
const OVERSCAN: usize = 20;
/// Fetch the next page when the last loaded row is this many rows below the view.
const PREFETCH_ROWS: usize = 600;

/// The virtualised list of results.
#[component]
pub fn Results() -> impl IntoView {
    let session = expect_context::<Session>();
    let list = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(600.0);
    let top_row = Memo::new(move |_| (scroll_top.get() / ROW_HEIGHT) as usize);
    let first = Memo::new(move |_| top_row.get().saturating_sub(OVERSCAN));
    // Rows from `end` on are below the view and its overscan: their pooled elements stay
    // hidden, so a page arriving at the top renders the visible rows, not the whole pool.
    let end = Memo::new(move |_| {
        let visible = (viewport.get() / ROW_HEIGHT).ceil() as usize;
        (top_row.get() + visible + OVERSCAN).min(first.get() + POOL)
    });
    let terms = Memo::new(move |_| session.filter.with(|f| format::highlight_terms(&f.query)));

    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let top = f64::from(el.scroll_top());
        scroll_top.set(top);
        session.at_top.set(top < ROW_HEIGHT);
        let bottom_row = ((top + f64::from(el.client_height())) / ROW_HEIGHT) as usize;
        if bottom_row + PREFETCH_ROWS >= session.rows.with_untracked(Vec::len) {
            session.load_more();
        }
    };
    // The list's height decides how many rows are rendered; banners, the import's progress and
    // the window itself change it.
    Effect::new(move |_| {
        let Some(el) = list.get() else {
            return;
        };
        viewport.set(f64::from(el.client_height()));
        let measured = el.clone();
        let on_resize = Closure::<dyn FnMut()>::new(move || {
            viewport.set(f64::from(measured.client_height()));
        });
        let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) else {
            return;
        };
        observer.observe(&el);
        let kept = StoredValue::new_local((observer, on_resize));
        on_cleanup(move || kept.with_value(|(observer, _)| observer.disconnect()));
    });
    // A new result list starts at its top.
    Effect::new(move |_| {
        session.filter.track();
        session.order.track();
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(0);
        }
        scroll_top.set(0.0);
        session.cursor.set(None);
    });
    // Keep the highlighted row in view.
    Effect::new(move |_| {
        let Some(at) = session.cursor.get() else {
            return;
        };
        let Some(el) = list.get_untracked() else {
            return;
        };
        let top = at as f64 * ROW_HEIGHT;
        let view_top = f64::from(el.scroll_top());
        let height = f64::from(el.client_height());
        if top < view_top {
            el.set_scroll_top(top as i32);
        } else if top + ROW_HEIGHT > view_top + height {
            el.set_scroll_top((top + ROW_HEIGHT - height) as i32);
        }
    });

    view! {
        <div class="results" node_ref=list on:scroll=on_scroll role="list" data-testid="results">
            <div
                class="spacer"
                style:height=move || {
                    let rows = session.rows.with(Vec::len) + usize::from(session.more.get());
                    format!("{}px", rows as f64 * ROW_HEIGHT)
                }
            >
                {(0..POOL).map(|position| view! { <PooledRow position first end terms /> }).collect_view()}
            </div>
            {move || (session.rows.with(Vec::is_empty) && session.total.get() == Some(0)).then(|| view! {
                <p class="empty">"No records match."</p>
            })}
        </div>
    }
}

/// One pooled row element: shows the row whose index is ≡ `position` (mod [`POOL`]) within the
/// rendered window `first..end`, and is hidden when that index is past `end`. Its cells are
/// kept and their text updated in place as the row it shows changes; only highlighted
/// messages are rebuilt.
#[component]
fn PooledRow(
    position: usize,
    first: Memo<usize>,
    end: Memo<usize>,
    terms: Memo<Vec<String>>,
) -> impl IntoView {
    let session = expect_context::<Session>();
    let index = Memo::new(move |_| {
        let first = first.get();
        let candidate = first - first % POOL + position;
        if candidate < first {
            candidate + POOL
        } else {
            candidate
        }
    });
    let row = Memo::new(move |_| {
        let index = index.get();
        (index < end.get())
            .then(|| session.rows.with(|rows| rows.get(index).cloned()))
            .flatten()
    });
    let on_click = move |_| {
        if let Some(row) = row.get_untracked() {
            session.cursor.set(Some(index.get_untracked()));
            session.selected.set(Some(row.id));
        }
    };
    view! {
        <div
            class="row"
            role="listitem"
            data-testid=move || row.with(|r| r.is_some().then_some("row"))
            data-index=move || index.get().to_string()
            data-id=move || row.with(|r| r.as_ref().map(|r| r.id.to_string()))
            class:cursor=move || session.cursor.get() == Some(index.get())
            class:selected=move || {
                row.with(|r| r.as_ref().map(|r| r.id)) == session.selected.get()
                    && session.selected.get().is_some()
            }
            style:top=move || format!("{}px", index.get() as f64 * ROW_HEIGHT)
            style:display=move || if row.with(Option::is_some) { "" } else { "none" }
            on:click=on_click
        >
            <span class="time">
                {move || row.with(|r| r.as_ref().map(|r| format::maybe_time(r.ts_nanos, session.utc.get())))}
            </span>
            <span class=move || row.with(|r| format!("level level-{}", level_name(r.as_ref().and_then(|r| r.level))))>
                {move || row.with(|r| r.as_ref().and_then(|r| r.level).map(|l| level_name(Some(l))))}
            </span>
            <span class="service">
                {move || row.with(|r| r.as_ref().and_then(|r| r.service.clone()))}
            </span>
            <span class="message" data-testid="message">
                // Plain text while nothing is highlighted: the text node is updated in place.
                {move || terms.with(Vec::is_empty).then(|| {
                    row.with(|r| r.as_ref().map(|r| first_line(&r.message).to_owned()))
                })}
                {move || terms.with(|terms| (!terms.is_empty()).then(|| row.with(|r| {
                    let message = r.as_ref().map_or("", |r| first_line(&r.message));
                    format::highlight(message, terms)
                        .into_iter()
                        .map(|(text, hit)| if hit {
                            view! { <mark>{text.to_owned()}</mark> }.into_any()
                        } else {
                            text.to_owned().into_any()
                        })
                        .collect_view()
                })))}
            </span>
        </div>
    }
}

/// The first line of a message (stack traces continue in the detail pane).
fn first_line(message: &str) -> &str {
    message.split('\n').next().unwrap_or(message)
}
