//! The read-only SQL console: for what the query language cannot say, SQL over the store's
//! tables (as lnav offers over its logs). The worker runs one statement at a time, reading
//! only, within 1,000 rows and 5 seconds; the result is a table of text.

use leptos::{ev, prelude::*, task::spawn_local};
use trawl_protocol::{ConsoleResult, WorkerState};

use crate::{format, session::Session};

/// What the store holds, for the note under the editor.
const SCHEMA_NOTE: &str = "Tables: records (id, ts, level, service, host, trace_id, span_id, \
    message, fields, raw, source, line, segment, seq), segments (bundle, file, records, min_ts, \
    max_ts, findings), rollup (minute, level, service, host, source, n). ts is Unix \
    nanoseconds: datetime(ts / 1e9, 'unixepoch'); level 1 = trace … 6 = fatal; fields is JSON: \
    fields ->> '$.user_id'. Reads only: 1,000 rows and 5 s at most. Ctrl+Enter runs.";

/// An answer as shown: the table and how long it took, or why there is none.
type Answer = Result<(ConsoleResult, f64), String>;

/// The console panel; present while the console is open.
#[component]
pub fn Console() -> impl IntoView {
    let session = expect_context::<Session>();
    let answer = RwSignal::new(None::<Answer>);
    let running = RwSignal::new(false);
    // Answers received so far, on the panel as `data-runs`: how a test (or a portal's) knows
    // the answer shown is the one it asked for.
    let runs = RwSignal::new(0u32);
    // The statement as typed; the one run goes to the session (and the URL): writing the URL
    // on every keystroke would also run into the browser's limit on history updates.
    let text = RwSignal::new(session.sql.get_untracked());
    let run = move || {
        let sql = text.get_untracked();
        if sql.trim().is_empty() || running.get_untracked() {
            return;
        }
        session.sql.set(sql.clone());
        running.set(true);
        spawn_local(async move {
            let start = js_sys::Date::now();
            let result = session.console(sql).await;
            let took = js_sys::Date::now() - start;
            answer.try_set(Some(result.map(|table| (table, took))));
            running.try_set(false);
            runs.try_update(|n| *n += 1);
        });
    };
    // The statement run last (from a link, or before the console was closed) runs again when
    // the console opens, once the store is open.
    let from_link = StoredValue::new(true);
    Effect::new(move |_| {
        if session.worker.get() == WorkerState::Ready && from_link.get_value() {
            from_link.set_value(false);
            run();
        }
    });
    let on_keydown = move |event: ev::KeyboardEvent| {
        if event.key() == "Enter" && (event.ctrl_key() || event.meta_key()) {
            event.prevent_default();
            run();
        }
    };
    view! {
        <section class="console" data-testid="console" data-runs=move || runs.get() aria-label="SQL console">
            <textarea
                data-testid="sql-input"
                rows="3"
                spellcheck="false"
                placeholder="SELECT service, count(*) AS n FROM records GROUP BY service ORDER BY n DESC"
                prop:value=move || text.get()
                on:input=move |event| text.set(event_target_value(&event))
                on:keydown=on_keydown
            ></textarea>
            <div class="console-bar">
                <button data-testid="sql-run" on:click=move |_| run() disabled=move || running.get()>
                    {move || if running.get() { "Running…" } else { "Run" }}
                </button>
                <span class="note">{SCHEMA_NOTE}</span>
            </div>
            {move || answer.get().map(|answer| match answer {
                Ok((table, took)) => view! { <ConsoleTable table took /> }.into_any(),
                Err(message) => view! {
                    <p class="console-error" role="alert" data-testid="sql-error">{message}</p>
                }.into_any(),
            })}
        </section>
    }
}

/// A console result as a table; every value is text.
#[component]
fn ConsoleTable(table: ConsoleResult, took: f64) -> impl IntoView {
    let note = format!(
        "{}{} · {}",
        if table.truncated { "the first " } else { "" },
        format::counted(table.rows.len() as u64, "row"),
        format::duration(took),
    );
    view! {
        <p class="note" data-testid="sql-note">{note}</p>
        <div class="console-result">
            <table data-testid="sql-result">
                <thead>
                    <tr>{table.columns.into_iter().map(|c| view! { <th>{c}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {table.rows.into_iter().map(|row| view! {
                        <tr data-testid="sql-row">
                            {row.into_iter().map(|value| {
                                let (class, text) = match value {
                                    serde_json::Value::Null => ("null", "NULL".to_owned()),
                                    serde_json::Value::String(text) => ("", text),
                                    other => ("number", other.to_string()),
                                };
                                view! { <td class=class>{text}</td> }
                            }).collect_view()}
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
