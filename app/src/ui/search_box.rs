//! The search box: the query language of the store, run as you type, with its syntax one key
//! (`?`) away and errors that point at their column.

use std::time::Duration;

use leptos::prelude::*;

use crate::session::Session;

/// Typing pauses this long before the query runs (Enter runs it at once).
const TYPING_PAUSE: Duration = Duration::from_millis(250);

/// The query input, its error and the syntax help.
#[component]
pub fn SearchBox(input: NodeRef<leptos::html::Input>) -> impl IntoView {
    let session = expect_context::<Session>();
    let run = move || {
        let text = session.query_text.get_untracked();
        if session.filter.with_untracked(|f| f.query != text) {
            session.filter.update(|f| f.query = text);
        }
    };
    let on_input = move |event| {
        let text = event_target_value(&event);
        session.query_text.set(text.clone());
        set_timeout(
            move || {
                if session.query_text.get_untracked() == text {
                    run();
                }
            },
            TYPING_PAUSE,
        );
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Enter" {
            // What the box holds now, even if it changed without an input event (autofill,
            // a script, a test driver clearing it).
            session.query_text.set(event_target_value(&event));
            run();
        }
    };
    view! {
        <div class="search">
            <input
                node_ref=input
                data-testid="search"
                type="search"
                spellcheck="false"
                autocomplete="off"
                placeholder="Search: words, \"phrases\", level:>=warn, service:api …   / to focus, ? for help"
                aria-label="Search query"
                prop:value=move || session.query_text.get()
                on:input=on_input
                on:keydown=on_key
            />
            <button
                class="help-toggle"
                data-testid="help-toggle"
                title="Query syntax (?)"
                on:click=move |_| session.help.update(|h| *h = !*h)
            >"?"</button>
            {move || session.query_error.get().map(|(column, message)| {
                let text = session.filter.with(|f| f.query.clone());
                view! { <QueryError text column message /> }
            })}
            {move || session.help.get().then(|| view! { <SyntaxHelp /> })}
        </div>
    }
}

/// The query with a caret under the column where it goes wrong.
#[component]
fn QueryError(text: String, column: usize, message: String) -> impl IntoView {
    let caret = format!("{}^", " ".repeat(column.saturating_sub(1)));
    view! {
        <div class="query-error" role="alert" data-testid="query-error">
            <pre>{text}"\n"{caret}</pre>
            <span>"column " {column} ": " {message}</span>
        </div>
    }
}

/// The query language, as a table.
#[component]
fn SyntaxHelp() -> impl IntoView {
    const ROWS: [(&str, &str); 12] = [
        (
            "timeout refused",
            "records with both words (message or field values)",
        ),
        ("\"connection reset\"", "the words in this order"),
        (
            "timeout OR refused, (a OR b) c",
            "either; parentheses group",
        ),
        ("-healthcheck, NOT healthcheck", "records without it"),
        ("NullPointer*", "a prefix"),
        ("level:error, level:>=warn", "by severity (trace … fatal)"),
        (
            "service:api, host:web-1, source:app.log",
            "by exact value; service:pay* by prefix",
        ),
        ("trace_id:4bf9…, span_id:00f0…", "one trace or span"),
        (
            "fields.user_id:42, fields.http.status:>=500",
            "any structured field",
        ),
        (
            "since:-15m, until:2024-05-01T10:00:00Z",
            "a time range (relative to the newest record)",
        ),
        ("/time(d)? ?out/", "a regular expression over the message"),
        (
            "/  j k  Enter  Esc  ?",
            "focus search, move, open, close, this help",
        ),
    ];
    view! {
        <div class="syntax-help" data-testid="syntax-help">
            <table>
                {ROWS.iter().map(|(write, finds)| view! {
                    <tr><td><code>{*write}</code></td><td>{*finds}</td></tr>
                }).collect_view()}
            </table>
        </div>
    }
}
