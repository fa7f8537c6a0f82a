//! The result list, virtualised: a fixed pool of row elements is positioned over a spacer as
//! tall as all loaded rows, and each element shows whichever row falls in its slot, so
//! scrolling through millions of rows touches a few dozen elements. Pages are fetched from
//! the worker (keyset, by record id) as the end of the loaded rows comes near.
//!
//! The pool is written to directly rather than through a reactive view per row: a fast scroll
//! moves a screenful of rows each frame, and one pass over the pool that updates only the
//! elements whose row changed took 0.9 ms of such a frame in the viewer benchmark, where the
//! reactive bindings of each row took 5.1 ms.

use std::ops::Range;

use leptos::prelude::*;
use trawl_protocol::results::{level_name, Row};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, Text};

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
    let spacer = NodeRef::<leptos::html::Div>::new();
    // The pool is made once the spacer is in the page, then brought up to date whenever the
    // window, the rows, the highlighted terms, the cursor, the selection or the time zone change.
    let pool = StoredValue::new_local(None::<RowPool>);
    Effect::new(move |_| {
        let Some(spacer) = spacer.get() else {
            return;
        };
        let look = Look {
            cursor: session.cursor.get(),
            selected: session.selected.get(),
            utc: session.utc.get(),
        };
        let window = first.get()..end.get();
        terms.with(|terms| {
            session.rows.with(|rows| {
                pool.update_value(|pool| {
                    if pool.is_none() {
                        *pool = RowPool::new(&spacer)
                            .inspect_err(|err| leptos::logging::error!("result rows: {err:?}"))
                            .ok();
                    }
                    if let Some(pool) = pool {
                        pool.render(rows, window, terms, look);
                    }
                });
            });
        });
    });
    let on_click = move |event: web_sys::MouseEvent| {
        let index = event
            .target()
            .and_then(|target| target.dyn_into::<Element>().ok())
            .and_then(|target| target.closest(".row").ok().flatten())
            .and_then(|row| row.get_attribute("data-index")?.parse::<usize>().ok());
        let Some(index) = index else {
            return;
        };
        if let Some(id) = session
            .rows
            .with_untracked(|rows| rows.get(index).map(|r| r.id))
        {
            session.cursor.set(Some(index));
            session.selected.set(Some(id));
        }
    };

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
        <div
            class="results"
            node_ref=list
            on:scroll=on_scroll
            on:click=on_click
            role="list"
            data-testid="results"
        >
            <div
                class="spacer"
                node_ref=spacer
                style:height=move || {
                    let rows = session.rows.with(Vec::len) + usize::from(session.more.get());
                    format!("{}px", rows as f64 * ROW_HEIGHT)
                }
            ></div>
            {move || (session.rows.with(Vec::is_empty) && session.total.get() == Some(0)).then(|| view! {
                <p class="empty">"No records match."</p>
            })}
        </div>
    }
}

/// How rows are marked and shown: the cursor's row index, the selected record, UTC or local time.
#[derive(Clone, Copy)]
struct Look {
    cursor: Option<usize>,
    selected: Option<i64>,
    utc: bool,
}

/// The [`POOL`] row elements. Slot `p` shows the row whose index is ≡ `p` (mod [`POOL`])
/// within the rendered window, and is hidden when that index is outside the window or past
/// the loaded rows; a hidden slot keeps its cells, so showing it again sets text, not nodes.
struct RowPool {
    document: Document,
    slots: Vec<Slot>,
    /// The terms and time zone the shown rows were rendered with.
    terms: Vec<String>,
    utc: bool,
}

/// One pooled row element and what it shows.
struct Slot {
    row: HtmlElement,
    time: Text,
    level: HtmlElement,
    level_text: Text,
    service: Text,
    message: HtmlElement,
    /// The row's index and record id, `None` while hidden.
    shows: Option<(usize, i64)>,
    cursor: bool,
    selected: bool,
}

impl RowPool {
    /// Appends the pool's elements, all hidden, to `spacer`.
    fn new(spacer: &Element) -> Result<Self, JsValue> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let slots = (0..POOL)
            .map(|_| Slot::new(&document, spacer))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            document,
            slots,
            terms: Vec::new(),
            utc: true,
        })
    }

    /// Shows `rows[window]` (as far as loaded) in the slots, touching only what changed.
    fn render(&mut self, rows: &[Row], window: Range<usize>, terms: &[String], look: Look) {
        let restyled = self.terms != terms || self.utc != look.utc;
        if restyled {
            self.terms = terms.to_vec();
            self.utc = look.utc;
        }
        for (position, slot) in self.slots.iter_mut().enumerate() {
            let index = slot_index(window.start, position);
            let row = rows.get(index).filter(|_| index < window.end);
            let result = match row {
                Some(row) => slot.show(&self.document, index, row, restyled, terms, look),
                None => slot.hide(),
            };
            if let Err(err) = result {
                leptos::logging::error!("result row {index}: {err:?}");
            }
        }
    }
}

/// The index of the row slot `position` shows while the window starts at `first`: the one
/// in `first..first + POOL` that is ≡ `position` (mod [`POOL`]).
fn slot_index(first: usize, position: usize) -> usize {
    let candidate = first - first % POOL + position;
    if candidate < first {
        candidate + POOL
    } else {
        candidate
    }
}

impl Slot {
    fn new(document: &Document, spacer: &Element) -> Result<Self, JsValue> {
        let row: HtmlElement = document.create_element("div")?.unchecked_into();
        row.set_class_name("row");
        row.set_attribute("role", "listitem")?;
        row.style().set_property("display", "none")?;
        let cell = |class: &str| -> Result<HtmlElement, JsValue> {
            let cell = document.create_element("span")?;
            cell.set_class_name(class);
            row.append_child(&cell)?;
            Ok(cell.unchecked_into())
        };
        let text_in = |cell: &HtmlElement| -> Result<Text, JsValue> {
            let text = document.create_text_node("");
            cell.append_child(&text)?;
            Ok(text)
        };
        let time = text_in(&cell("time")?)?;
        let level = cell("level")?;
        let level_text = text_in(&level)?;
        let service = text_in(&cell("service")?)?;
        let message = cell("message")?;
        message.set_attribute("data-testid", "message")?;
        spacer.append_child(&row)?;
        Ok(Self {
            row,
            time,
            level,
            level_text,
            service,
            message,
            shows: None,
            cursor: false,
            selected: false,
        })
    }

    /// Shows row `index`; its cells are rewritten if it is another row than before or
    /// `restyled` (other terms or time zone).
    fn show(
        &mut self,
        document: &Document,
        index: usize,
        row: &Row,
        restyled: bool,
        terms: &[String],
        look: Look,
    ) -> Result<(), JsValue> {
        let was = self.shows.replace((index, row.id));
        if was.is_none() {
            self.row.style().set_property("display", "")?;
            self.row.set_attribute("data-testid", "row")?;
        }
        if was.map(|(at, _)| at) != Some(index) {
            let y = index as f64 * ROW_HEIGHT;
            self.row
                .style()
                .set_property("transform", &format!("translateY({y}px)"))?;
            self.row.set_attribute("data-index", &index.to_string())?;
        }
        if was != Some((index, row.id)) || restyled {
            self.row.set_attribute("data-id", &row.id.to_string())?;
            self.time
                .set_data(&format::maybe_time(row.ts_nanos, look.utc));
            self.level
                .set_class_name(&format!("level level-{}", level_name(row.level)));
            self.level_text
                .set_data(row.level.map_or("", |l| level_name(Some(l))));
            self.service.set_data(row.service.as_deref().unwrap_or(""));
            self.show_message(document, first_line(&row.message), terms)?;
        }
        let classes = self.row.class_list();
        let cursor = look.cursor == Some(index);
        if cursor != self.cursor {
            classes.toggle_with_force("cursor", cursor)?;
            self.cursor = cursor;
        }
        let selected = look.selected == Some(row.id);
        if selected != self.selected {
            classes.toggle_with_force("selected", selected)?;
            self.selected = selected;
        }
        Ok(())
    }

    /// The message as text, with the runs that match `terms` in `<mark>`s.
    fn show_message(
        &self,
        document: &Document,
        message: &str,
        terms: &[String],
    ) -> Result<(), JsValue> {
        if terms.is_empty() {
            self.message.set_text_content(Some(message));
            return Ok(());
        }
        self.message.set_text_content(None);
        for (text, hit) in format::highlight(message, terms) {
            if hit {
                let mark = document.create_element("mark")?;
                mark.set_text_content(Some(text));
                self.message.append_child(&mark)?;
            } else {
                self.message
                    .append_child(&document.create_text_node(text))?;
            }
        }
        Ok(())
    }

    fn hide(&mut self) -> Result<(), JsValue> {
        if self.shows.take().is_some() {
            self.row.style().set_property("display", "none")?;
            self.row.remove_attribute("data-testid")?;
        }
        Ok(())
    }
}

/// The first line of a message (stack traces continue in the detail pane).
fn first_line(message: &str) -> &str {
    message.split('\n').next().unwrap_or(message)
}
