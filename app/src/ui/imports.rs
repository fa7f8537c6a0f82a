//! Opening bundles: a folder picker, drag and drop of folders or files, and the progress of
//! running imports (bytes, records, records/s, ETA) with cancel.

use std::collections::BTreeMap;

use leptos::{ev, prelude::*};
use wasm_bindgen::{prelude::*, JsCast};

use crate::{format, session::Session};

/// The "Open" buttons: a bundle folder (segments, or a folder of raw logs), or raw log files.
#[component]
pub fn OpenButton() -> impl IntoView {
    let session = expect_context::<Session>();
    let folder = NodeRef::<leptos::html::Input>::new();
    // Folder selection is not a standard attribute Leptos knows: set it on the element.
    Effect::new(move |_| {
        if let Some(input) = folder.get() {
            let _ = input.set_attribute("webkitdirectory", "");
        }
    });
    let logs = NodeRef::<leptos::html::Input>::new();
    let on_logs = move |_| {
        let Some(input) = logs.get_untracked() else {
            return;
        };
        if let Some(files) = input.files() {
            let files = (0..files.length()).filter_map(|i| files.get(i));
            import_grouped(session, files.map(|f| (f.name(), f)));
        }
        input.set_value("");
    };
    let on_change = move |_| {
        let Some(input) = folder.get_untracked() else {
            return;
        };
        if let Some(files) = input.files() {
            let files: Vec<web_sys::File> =
                (0..files.length()).filter_map(|i| files.get(i)).collect();
            import_grouped(
                session,
                files.into_iter().map(|f| {
                    let path = js_sys::Reflect::get(&f, &"webkitRelativePath".into())
                        .ok()
                        .and_then(|p| p.as_string())
                        .unwrap_or_default();
                    (path, f)
                }),
            );
        }
        input.set_value("");
    };
    view! {
        <button data-testid="open" on:click=move |_| {
            if let Some(input) = folder.get_untracked() {
                input.click();
            }
        }>"Open bundle…"</button>
        <button data-testid="open-logs" on:click=move |_| {
            if let Some(input) = logs.get_untracked() {
                input.click();
            }
        }>"Open log files…"</button>
        <input
            node_ref=logs
            data-testid="open-logs-input"
            class="hidden"
            type="file"
            multiple
            on:change=on_logs
        />
        <input
            node_ref=folder
            data-testid="open-input"
            class="hidden"
            type="file"
            multiple
            on:change=on_change
        />
    }
}

/// How a bundle archive's name ends (`trawl_bundle::archive::EXTENSION`: the app does not
/// link the bundle crate).
const ARCHIVE_EXTENSION: &str = ".tar";

/// Imports files grouped by the folder they are in (`bundle/00…01.seg` → bundle `bundle`):
/// each folder is one bundle, of segment files or raw logs (parsed in the worker). Files
/// outside a folder form one bundle, named by the file if it is one, else by the time. A
/// bundle archive (`ssh.tar`, as the library's Export saves it) is a bundle of its own,
/// named by its file.
fn import_grouped(session: Session, files: impl Iterator<Item = (String, web_sys::File)>) {
    let mut bundles: BTreeMap<String, js_sys::Array> = BTreeMap::new();
    let (archives, files): (Vec<_>, Vec<_>) =
        files.partition(|(_, file)| file.name().ends_with(ARCHIVE_EXTENSION));
    for (_, archive) in archives {
        let name = archive.name();
        let stem = name.strip_suffix(ARCHIVE_EXTENSION).unwrap_or(&name);
        bundles
            .entry(stem.to_owned())
            .or_insert_with(js_sys::Array::new)
            .push(&archive);
    }
    // Loose files (not in a folder) form one bundle, named by the file when there is one.
    let mut loose = files.iter().filter(|(path, _)| !path.contains('/'));
    let loose_name = match (loose.next(), loose.next()) {
        (Some((_, file)), None) => Some(file.name()),
        _ => None,
    };
    for (path, file) in files {
        let folder = path
            .rsplit_once('/')
            .map(|(dir, _)| dir.rsplit('/').next().unwrap_or(dir).to_owned());
        let name = folder
            .filter(|f| !f.is_empty())
            .or_else(|| loose_name.clone())
            .unwrap_or_else(opened_name);
        bundles
            .entry(name)
            .or_insert_with(js_sys::Array::new)
            .push(&file);
    }
    for (name, files) in bundles {
        session.import_files(files, name, |_, _| {});
    }
}

fn opened_name() -> String {
    let now = js_sys::Date::new_0();
    format!(
        "opened-{:04}{:02}{:02}-{:02}{:02}{:02}",
        now.get_full_year(),
        now.get_month() + 1,
        now.get_date(),
        now.get_hours(),
        now.get_minutes(),
        now.get_seconds()
    )
}

/// Accepts folders and files dropped anywhere on the page.
#[component]
pub fn DropZone() -> impl IntoView {
    let session = expect_context::<Session>();
    let over = RwSignal::new(false);
    let on_over = window_event_listener(ev::dragover, move |event| {
        event.prevent_default();
        over.set(true);
    });
    let on_leave = window_event_listener(ev::dragleave, move |event| {
        if event.related_target().is_none() {
            over.set(false);
        }
    });
    let on_drop = window_event_listener(ev::drop, move |event| {
        event.prevent_default();
        over.set(false);
        let Some(transfer) = event.data_transfer() else {
            return;
        };
        // Files a page made itself (not the OS) have no entries: take them as plain files.
        let plain: Vec<web_sys::File> = transfer
            .files()
            .map(|files| (0..files.length()).filter_map(|i| files.get(i)).collect())
            .unwrap_or_default();
        let items = transfer.items();
        let entries: Vec<JsValue> = (0..items.length())
            .filter_map(|i| items.get(i))
            .filter_map(|item| {
                let get = js_sys::Reflect::get(&item, &"webkitGetAsEntry".into()).ok()?;
                get.dyn_ref::<js_sys::Function>()?.call0(&item).ok()
            })
            .filter(|entry| !entry.is_null() && !entry.is_undefined())
            .collect();
        if entries.is_empty() {
            import_grouped(session, plain.into_iter().map(|f| (f.name(), f)));
            return;
        }
        leptos::task::spawn_local(async move {
            let mut files = Vec::new();
            for entry in entries {
                collect_entry(entry, String::new(), &mut files).await;
            }
            import_grouped(session, files.into_iter());
        });
    });
    on_cleanup(move || {
        on_over.remove();
        on_leave.remove();
        on_drop.remove();
    });
    move || {
        over.get().then(|| view! {
        <div class="drop-hint" data-testid="drop-hint">"Drop bundle folders to import them"</div>
    })
    }
}

/// Walks a dropped `FileSystemEntry`, collecting its files with their paths.
async fn collect_entry(entry: JsValue, parent: String, out: &mut Vec<(String, web_sys::File)>) {
    let mut stack = vec![(entry, parent)];
    while let Some((entry, parent)) = stack.pop() {
        let name = js_sys::Reflect::get(&entry, &"name".into())
            .ok()
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let path = if parent.is_empty() {
            name
        } else {
            format!("{parent}/{name}")
        };
        let is_dir = js_sys::Reflect::get(&entry, &"isDirectory".into())
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if is_dir {
            for child in read_directory(&entry).await {
                stack.push((child, path.clone()));
            }
        } else if let Some(file) = entry_file(&entry).await {
            out.push((path, file));
        }
    }
}

/// `entry.file(resolve, reject)` as a future.
async fn entry_file(entry: &JsValue) -> Option<web_sys::File> {
    let entry = entry.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let file = js_sys::Reflect::get(&entry, &"file".into()).ok();
        if let Some(file) = file.as_ref().and_then(|f| f.dyn_ref::<js_sys::Function>()) {
            let _ = file.call2(&entry, &resolve, &reject);
        }
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// All children of a directory entry (`readEntries` returns them in batches).
async fn read_directory(entry: &JsValue) -> Vec<JsValue> {
    let Some(reader) = js_sys::Reflect::get(entry, &"createReader".into())
        .ok()
        .and_then(|f| f.dyn_ref::<js_sys::Function>()?.call0(entry).ok())
    else {
        return Vec::new();
    };
    let mut children = Vec::new();
    loop {
        let reader = reader.clone();
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            if let Some(read) = js_sys::Reflect::get(&reader, &"readEntries".into())
                .ok()
                .as_ref()
                .and_then(|f| f.dyn_ref::<js_sys::Function>())
            {
                let _ = read.call2(&reader, &resolve, &reject);
            }
        });
        let Ok(batch) = wasm_bindgen_futures::JsFuture::from(promise).await else {
            break;
        };
        let batch = js_sys::Array::from(&batch);
        if batch.length() == 0 {
            break;
        }
        children.extend(batch.iter());
    }
    children
}

/// Progress of each running import, with cancel.
#[component]
pub fn ImportProgressBar() -> impl IntoView {
    let session = expect_context::<Session>();
    move || {
        session.imports.get().into_iter().map(|import| {
            let id = import.id;
            let (label, fraction) = match &import.progress {
                None => (format!("{}: starting…", import.bundle), 0.0),
                Some(p) => {
                    let rate = if p.elapsed_ms > 0.0 { p.records as f64 / (p.elapsed_ms / 1000.0) } else { 0.0 };
                    let fraction = p.bytes_total.filter(|t| *t > 0)
                        .map_or(0.0, |t| p.bytes_imported as f64 / t as f64);
                    let eta = (fraction > 0.02).then(|| p.elapsed_ms * (1.0 - fraction) / fraction);
                    let mut label = format!(
                        "{}: {} records · {} of {} · {} records/s",
                        import.bundle,
                        format::count(p.records),
                        format::bytes(p.bytes_imported as f64),
                        p.bytes_total.map_or_else(|| "?".to_owned(), |t| format::bytes(t as f64)),
                        format::count(rate as u64),
                    );
                    if p.bytes_fetched > p.bytes_imported {
                        label += &format!(" · {} fetched", format::bytes(p.bytes_fetched as f64));
                    }
                    if let Some(eta) = eta {
                        label += &format!(" · about {} left", format::duration(eta));
                    }
                    (label, fraction)
                }
            };
            view! {
                <div class="import-progress" data-testid="import-progress" role="status">
                    <progress max="1" value=fraction.to_string()></progress>
                    <span>{label}</span>
                    <button data-testid="cancel-import" on:click=move |_| session.cancel_import(id)>
                        "Cancel"
                    </button>
                </div>
            }
        }).collect_view()
    }
}
