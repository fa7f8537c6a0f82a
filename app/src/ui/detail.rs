//! The selected record: every field, the structured fields as pretty JSON, the raw line, copy
//! buttons, "filter by this value" on any field, the context around it in its source, and its
//! trace across services; a trace id filters to its trace.

use leptos::prelude::*;
use trawl_protocol::{leading_chars, results::level_name, Detail};

use super::{context::ContextLines, trace::TraceView};
use crate::{format, session::Session};

/// The detail pane; present while a record is selected.
#[component]
pub fn DetailPane() -> impl IntoView {
    let session = expect_context::<Session>();
    move || {
        session.selected.get()?;
        Some(view! {
            <aside class="detail" data-testid="detail" aria-label="Record detail">
                <div class="detail-head">
                    <h2>"Record"</h2>
                    <button data-testid="close-detail" title="Close (Esc)" on:click=move |_| session.selected.set(None)>
                        "Close"
                    </button>
                </div>
                {move || match session.detail.get() {
                    Some(detail) => view! { <DetailBody detail /> }.into_any(),
                    None => view! { <p class="note">"Loading…"</p> }.into_any(),
                }}
            </aside>
        })
    }
}

#[component]
fn DetailBody(detail: Detail) -> impl IntoView {
    let session = expect_context::<Session>();
    let row = detail.row;
    let mut fields: Vec<(String, String, String)> = Vec::new();
    let mut add = |name: &str, value: Option<String>, term: &str| {
        if let Some(value) = value {
            let filter = format!("{term}:{}", format::query_value(&value));
            fields.push((name.to_owned(), value, filter));
        }
    };
    add(
        "level",
        row.level.map(|l| level_name(Some(l)).to_owned()),
        "level",
    );
    add("service", row.service.clone(), "service");
    add("host", row.host.clone(), "host");
    add("span_id", row.span_id.clone(), "span_id");
    add("source", row.source.clone(), "source");
    let structured: Vec<(String, String)> = row
        .fields
        .as_deref()
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .map(|value| {
            let mut flat = Vec::new();
            flatten("", &value, &mut flat);
            flat
        })
        .unwrap_or_default();
    for (key, value) in &structured {
        let filter = format!("fields.{key}:{}", format::query_value(value));
        fields.push((format!("fields.{key}"), value.clone(), filter));
    }
    let pretty = row.fields.as_deref().map(|json| {
        serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| json.to_owned())
    });
    let ts = row.ts_nanos;
    let trace = row.trace_id.clone();
    let trace_view = trace
        .clone()
        .map(|trace_id| view! { <TraceView trace_id id=row.id /> });
    let raw = detail.raw;
    let message = row.message;
    let (id, source) = (row.id, row.source.clone());
    view! {
        <dl class="fields">
            <dt>"time"</dt>
            <dd data-testid="detail-time">{move || format::maybe_time(ts, session.utc.get())}</dd>
            {trace.map(|trace| {
                let term = format!("trace_id:{}", format::query_value(&trace));
                view! {
                    <dt>"trace_id"</dt>
                    <dd>
                        <button
                            class="link"
                            data-testid="trace-link"
                            title="Show this trace"
                            on:click=move |_| session.set_query(term.clone())
                        >{trace.clone()}</button>
                    </dd>
                }
            })}
            <dt>"bundle"</dt>
            <dd>{detail.bundle}</dd>
            {row.line.map(|line| view! { <dt>"line"</dt><dd>{line}</dd> })}
            {fields.into_iter().map(|(name, value, filter)| view! {
                <dt>{name}</dt>
                <dd class="field-value">
                    <span>{value}</span>
                    <button
                        class="filter-by"
                        data-testid="filter-by"
                        title="Filter by this value"
                        on:click=move |_| session.add_term(filter.clone())
                    >"filter"</button>
                </dd>
            }).collect_view()}
        </dl>
        <h3>"Message" <CopyButton text=message.clone() /></h3>
        <LongText text=message class="message" testid="detail-message" />
        <ContextLines id source />
        {trace_view}
        {pretty.map(|pretty| view! {
            <h3>"Fields" <CopyButton text=pretty.clone() /></h3>
            <LongText text=pretty class="json" testid="detail-fields" />
        })}
        <h3>"Raw" <CopyButton text=raw.clone() /></h3>
        <LongText text=raw class="raw" testid="detail-raw" />
    }
}

/// How many characters of a message, its fields or its raw line the pane lays out until asked
/// for all: a logged line of a megabyte, laid out whole as wrapped text, held the page for
/// over three seconds when its record was opened.
const SHOWN_CHARS: usize = 20_000;

/// `text` in a `<pre>`: its first [`SHOWN_CHARS`] characters, and a button that shows the
/// rest. (The section's copy button copies all of it either way.)
#[component]
fn LongText(text: String, class: &'static str, testid: &'static str) -> impl IntoView {
    let Some(shown) = leading_chars(&text, SHOWN_CHARS).map(str::to_owned) else {
        return view! { <pre class=class data-testid=testid>{text}</pre> }.into_any();
    };
    let total = text.chars().count() as u64;
    let whole = RwSignal::new(false);
    let text = StoredValue::new(text);
    view! {
        <pre class=class data-testid=testid>
            {move || if whole.get() { text.get_value() } else { shown.clone() }}
        </pre>
        <p class="note cut" data-testid=format!("{testid}-cut")>
            {move || if whole.get() {
                format!("All {} characters.", format::count(total))
            } else {
                format!("The first {} of {} characters.", format::count(SHOWN_CHARS as u64), format::count(total))
            }}
            " "
            <button class="copy" data-testid="show-all" on:click=move |_| whole.update(|w| *w = !*w)>
                {move || if whole.get() { "show less" } else { "show all" }}
            </button>
        </p>
    }
    .into_any()
}

/// A heading of a detail-pane section that is opened on demand (context, trace): its title
/// and a show/hide button (`testid`) that flips `shown`.
#[component]
pub(super) fn ToggleHeading(
    title: &'static str,
    testid: &'static str,
    shown: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <h3>
            {title}
            <button class="copy" data-testid=testid on:click=move |_| shown.update(|s| *s = !*s)>
                {move || if shown.get() { "hide" } else { "show" }}
            </button>
        </h3>
    }
}

/// Copies `text` to the clipboard.
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_click = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.navigator().clipboard().write_text(&text);
            copied.set(true);
        }
    };
    view! {
        <button class="copy" data-testid="copy" on:click=on_click>
            {move || if copied.get() { "copied" } else { "copy" }}
        </button>
    }
}

/// Flattens JSON into dotted keys and display values (strings without quotes).
fn flatten(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                let name = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&name, inner, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        other => out.push((prefix.to_owned(), other.to_string())),
    }
}
