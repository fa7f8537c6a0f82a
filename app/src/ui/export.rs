//! Export: the current query's matches saved as a JSON-lines file, in the list's order, the
//! same objects `trawl query --json` prints. Nothing leaves the machine: the file is made in
//! the page and handed to the browser's download.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use wasm_bindgen::{JsCast, JsValue};

use crate::{format, session::Session};

/// Records in one export at most (the worker holds to its own, equal, limit).
const EXPORT_LIMIT: u32 = 100_000;
/// The name the browser saves the file under.
const FILE_NAME: &str = "trawl-export.jsonl";

/// The Export button, and what the last export saved.
#[component]
pub fn Export() -> impl IntoView {
    let session = expect_context::<Session>();
    let busy = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    // A new query makes the last export's note stale.
    Effect::new(move |_| {
        session.filter.track();
        note.set(None);
    });
    let on_click = move |_| {
        busy.set(true);
        spawn_local(async move {
            if let Some((lines, records, complete)) = session.export(EXPORT_LIMIT).await {
                note.set(Some(match save(FILE_NAME, &lines) {
                    Ok(()) if complete => format!("saved {}", format::counted(records, "record")),
                    Ok(()) => format!("saved the first {}", format::counted(records, "record")),
                    Err(err) => format!("could not save the file: {err:?}"),
                }));
            }
            busy.set(false);
        });
    };
    view! {
        <button
            data-testid="export"
            title="Save the matching records as JSON lines (the first 100,000)"
            disabled=move || busy.get()
            on:click=on_click
        >
            {move || if busy.get() { "Exporting…" } else { "Export" }}
        </button>
        {move || note.get().map(|text| view! { <span class="export-note" data-testid="export-note">{text}</span> })}
    }
}

/// Hands `text` to the browser's download as a JSON-lines file called `name`.
fn save(name: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/x-ndjson");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)?;
    save_blob(name, &blob)
}

/// Hands `blob` to the browser's download as a file called `name`.
pub fn save_blob(name: &str, blob: &web_sys::Blob) -> Result<(), JsValue> {
    let url = web_sys::Url::create_object_url_with_blob(blob)?;
    let link: web_sys::HtmlAnchorElement = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?
        .create_element("a")?
        .dyn_into()?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The download has started reading the file by then; the page need not keep it.
    set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        Duration::from_secs(30),
    );
    Ok(())
}
