//! Context around a record: the lines before and after it in the same source, as the source
//! had them (line order), whatever the query. "Earlier" and "Later" widen it; a line opens in
//! the detail pane, and the context stays open around it.

use leptos::{prelude::*, task::spawn_local};
use trawl_protocol::{Context, Row};

use super::{
    detail::ToggleHeading,
    record_line::{Listing, RecordLine},
};
use crate::{format, session::Session};

/// Lines shown on each side at first.
const FIRST_LINES: u32 = 10;
/// Lines added by "Earlier" or "Later".
const MORE_LINES: u32 = 25;

/// The context section of the detail pane for record `id` (from `source`). Whether it is open
/// is the session's, so it stays open while the user walks through it (and is in the URL).
#[component]
pub fn ContextLines(id: i64, source: Option<String>) -> impl IntoView {
    let session = expect_context::<Session>();
    let shown = session.context;
    let span = RwSignal::new((FIRST_LINES, FIRST_LINES));
    let context = RwSignal::new(None::<Context>);
    Effect::new(move |_| {
        let (before, after) = span.get();
        if shown.get() {
            spawn_local(async move {
                let found = session.context(id, before, after).await;
                // A wider span asked for meanwhile answers later and replaces this one; a
                // record closed meanwhile took these signals with it.
                if span.try_get_untracked() == Some((before, after)) {
                    context.try_set(found);
                }
            });
        }
    });
    let where_from = source.map_or_else(
        || "records without a source, in time order".to_owned(),
        |source| format!("in {source}"),
    );
    view! {
        <ToggleHeading title="Context" testid="context-toggle" shown />
        {move || shown.get().then(|| view! {
            <p class="note context-source">{where_from.clone()}</p>
            {move || context.get().map(|context| {
                let (before, after) = span.get_untracked();
                let earlier = context.before.len() as u32 >= before;
                let later = context.after.len() as u32 >= after;
                let lines = context
                    .before
                    .into_iter()
                    .map(|row| (row, false))
                    .chain(std::iter::once((context.record, true)))
                    .chain(context.after.into_iter().map(|row| (row, false)));
                view! {
                    {earlier.then(|| view! {
                        <button
                            class="context-more"
                            data-testid="context-earlier"
                            on:click=move |_| span.update(|s| s.0 += MORE_LINES)
                        >"Earlier"</button>
                    })}
                    <ol class="context" data-testid="context">
                        {lines.map(|(row, current)| view! { <ContextLine row current /> }).collect_view()}
                    </ol>
                    {later.then(|| view! {
                        <button
                            class="context-more"
                            data-testid="context-later"
                            on:click=move |_| span.update(|s| s.1 += MORE_LINES)
                        >"Later"</button>
                    })}
                }
            })}
        })}
    }
}

/// One line of the context: its line number and time.
#[component]
fn ContextLine(row: Row, current: bool) -> impl IntoView {
    let session = expect_context::<Session>();
    let (line, ts) = (row.line, row.ts_nanos);
    view! {
        <RecordLine listing=Listing::Context row current>
            <span class="line-no">{line}</span>
            <span class="time">{move || format::maybe_time(ts, session.utc.get())}</span>
        </RecordLine>
    }
}
