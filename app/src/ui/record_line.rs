//! One record in a list of the detail pane (the context around a record, a record's trace):
//! two leading cells the list chooses, the level, the message. The open record is marked and
//! scrolled into view; a click opens a record.

use leptos::prelude::*;
use trawl_protocol::{results::level_name, Row};
use web_sys::ScrollLogicalPosition;

use crate::session::Session;

/// Which list a line is in: it names the line's test ids (`context-line`, `trace-message` …)
/// and where the open record is scrolled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Lines of one source around the open record: it is kept in the middle.
    Context,
    /// A trace's records: the open one is just brought into view.
    Trace,
}

impl Listing {
    fn name(self) -> &'static str {
        match self {
            Self::Context => "context",
            Self::Trace => "trace",
        }
    }

    fn scroll_to(self) -> ScrollLogicalPosition {
        match self {
            Self::Context => ScrollLogicalPosition::Center,
            Self::Trace => ScrollLogicalPosition::Nearest,
        }
    }
}

/// A line for `row` in `listing`; `children` are its two leading cells.
#[component]
pub fn RecordLine(listing: Listing, row: Row, current: bool, children: Children) -> impl IntoView {
    let session = expect_context::<Session>();
    let id = row.id;
    let level = level_name(row.level);
    let node = NodeRef::<leptos::html::Li>::new();
    Effect::new(move |_| {
        if let Some(li) = node.get().filter(|_| current) {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(listing.scroll_to());
            li.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    let name = listing.name();
    view! {
        <li
            node_ref=node
            class="context-line"
            class:current=current
            aria-current=current.then_some("true")
            data-testid=format!("{name}-line")
            data-id=id.to_string()
            on:click=move |_| session.selected.set(Some(id))
        >
            {children()}
            <span class=format!("level level-{level}")>{row.level.map(|_| level)}</span>
            <span class="text" data-testid=format!("{name}-message")>{row.message}</span>
        </li>
    }
}
