//! The view in the URL: bundles opened by URL, query, time range, selected record, order and
//! time zone. A link reopens the same view; the URL is updated in place as the view changes
//! (no history entry per keystroke). Only the URL changes: nothing leaves the browser.
//!
//! | parameter | holds |
//! |---|---|
//! | `bundle` (repeatable) | a bundle directory URL to import (skipped if already stored) |
//! | `q` | the query text |
//! | `from`, `to` | the picked time range, Unix nanoseconds |
//! | `record` | the record open in the detail pane |
//! | `context=1` | the detail pane shows the context around the record |
//! | `trace=1` | the detail pane shows the record's trace |
//! | `order=oldest` | oldest first (newest first otherwise) |
//! | `sql` | the SQL console is open with this statement (run on opening) |
//! | `tz=local` | local times (UTC otherwise) |

use leptos::prelude::*;
use trawl_protocol::{Filter, Order};
use web_sys::UrlSearchParams;

use crate::session::Session;

/// Reads the view from the page's URL into `session`; returns the bundle URLs to import.
pub fn restore(session: Session) -> Vec<String> {
    let Some(params) = current_params() else {
        return Vec::new();
    };
    let number = |name: &str| params.get(name).and_then(|v| v.parse::<i64>().ok());
    let query = params.get("q").unwrap_or_default();
    session.query_text.set(query.clone());
    session.filter.set(Filter {
        query,
        from_nanos: number("from"),
        to_nanos: number("to"),
    });
    session.selected.set(number("record"));
    session
        .context
        .set(params.get("context").as_deref() == Some("1"));
    session
        .trace
        .set(params.get("trace").as_deref() == Some("1"));
    if let Some(sql) = params.get("sql") {
        session.sql.set(sql);
        session.console.set(true);
    }
    if params.get("order").as_deref() == Some("oldest") {
        session.order.set(Order::OldestFirst);
    }
    if params.get("tz").as_deref() == Some("local") {
        session.utc.set(false);
    }
    let bundles: Vec<String> = params
        .get_all("bundle")
        .iter()
        .filter_map(|v| v.as_string())
        .filter(|v| !v.is_empty())
        .collect();
    session.bundle_urls.set(bundles.clone());
    bundles
}

/// Keeps the URL in step with the view from now on.
pub fn follow(session: Session) {
    Effect::new(move |_| {
        let filter = session.filter.get();
        let params = match UrlSearchParams::new() {
            Ok(params) => params,
            Err(_) => return,
        };
        for url in session.bundle_urls.get() {
            params.append("bundle", &url);
        }
        if !filter.query.is_empty() {
            params.append("q", &filter.query);
        }
        if let Some(from) = filter.from_nanos {
            params.append("from", &from.to_string());
        }
        if let Some(to) = filter.to_nanos {
            params.append("to", &to.to_string());
        }
        if let Some(id) = session.selected.get() {
            params.append("record", &id.to_string());
            if session.context.get() {
                params.append("context", "1");
            }
            if session.trace.get() {
                params.append("trace", "1");
            }
        }
        if session.order.get() == Order::OldestFirst {
            params.append("order", "oldest");
        }
        if session.console.get() {
            params.append("sql", &session.sql.get());
        }
        if !session.utc.get() {
            params.append("tz", "local");
        }
        let search = String::from(params.to_string());
        let Some(window) = web_sys::window() else {
            return;
        };
        let location = window.location();
        let path = location.pathname().unwrap_or_default();
        let url = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    });
}

/// The name a bundle URL is imported under: its last path segment (`…/bundles/prod/` → `prod`).
pub fn bundle_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .unwrap_or("bundle")
        .to_owned()
}

/// The bundle directory URL `raw` resolved against the page, ending in `/`.
pub fn bundle_url(raw: &str) -> Option<String> {
    let base = web_sys::window()?.location().href().ok()?;
    let url = web_sys::Url::new_with_base(raw, &base).ok()?;
    if !url.pathname().ends_with('/') {
        url.set_pathname(&format!("{}/", url.pathname()));
    }
    Some(url.href())
}

fn current_params() -> Option<UrlSearchParams> {
    let search = web_sys::window()?.location().search().ok()?;
    UrlSearchParams::new_with_str(&search).ok()
}
