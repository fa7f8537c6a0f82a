//! The embedding API: a host page that shows trawl in an iframe drives it with `postMessage`.
//! Only messages from the embedding page (`window.parent`) are taken; trawl answers that page
//! alone. Nothing is sent back but acknowledgements and counts: records never leave trawl.
//!
//! | host sends | trawl does, and answers |
//! |---|---|
//! | `{type: "trawl:hello"}` | answers `{type: "trawl:ready", protocol}` (also sent unasked on load) |
//! | `{type: "trawl:open", url, name?}` | imports the bundle directory at `url` (relative to the host page is fine) |
//! | `{type: "trawl:open", name, files: [{name, data: ArrayBuffer}]}` | imports those segment files |
//! | `{type: "trawl:query", query, from?, to?}` | shows that query; `from`/`to` are Unix ms or RFC 3339 text |
//!
//! After an open, trawl answers `{type: "trawl:imported", name, records}` or
//! `{type: "trawl:error", message}`; any message it cannot take gets `trawl:error` too.

use js_sys::{Array, Reflect, Uint8Array};
use leptos::prelude::*;
use trawl_protocol::PROTOCOL_VERSION;
use wasm_bindgen::{prelude::*, JsCast};
use web_sys::MessageEvent;

use crate::session::Session;

/// Version of the messages above; bumped on any change a host would misread.
const EMBED_VERSION: u32 = 1;

/// Starts listening to the embedding page, and tells it trawl is ready.
pub fn listen(session: Session) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(parent) = embedding_page(&window) else {
        return;
    };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // The parent's window is of another realm (maybe another origin): compare it as the
        // JS value it is, never by its type.
        let from_parent = event
            .source()
            .is_some_and(|source| JsValue::from(source) == JsValue::from(parent_window()));
        if !from_parent {
            return;
        }
        let origin = event.origin();
        if let Err(message) = take(session, &event.data()) {
            answer(&origin, &error(&message));
        } else if kind(&event.data()).as_deref() == Some("trawl:hello") {
            answer(&origin, &ready());
        }
    });
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    on_message.forget();
    let _ = parent.post_message(&ready(), "*");
}

/// The page this one is embedded in, if it is.
fn embedding_page(window: &web_sys::Window) -> Option<web_sys::Window> {
    let parent = window.parent().ok()??;
    (parent != *window).then_some(parent)
}

fn parent_window() -> web_sys::Window {
    let window = web_sys::window().expect("a page has a window");
    window.parent().ok().flatten().unwrap_or(window)
}

fn kind(data: &JsValue) -> Option<String> {
    Reflect::get(data, &"type".into()).ok()?.as_string()
}

fn text(data: &JsValue, name: &str) -> Option<String> {
    Reflect::get(data, &name.into()).ok()?.as_string()
}

/// Carries out one message.
fn take(session: Session, data: &JsValue) -> Result<(), String> {
    match kind(data).as_deref() {
        Some("trawl:hello") => Ok(()),
        Some("trawl:open") => {
            let files = Reflect::get(data, &"files".into()).unwrap_or(JsValue::UNDEFINED);
            if Array::is_array(&files) {
                let name = text(data, "name").ok_or("trawl:open with files needs a name")?;
                let segments = Array::new();
                for file in Array::from(&files).iter() {
                    let file_name = text(&file, "name").ok_or("every file needs a name")?;
                    let data = Reflect::get(&file, &"data".into())
                        .map_err(|_| format!("file '{file_name}': no data"))?;
                    if !data.is_instance_of::<js_sys::ArrayBuffer>() {
                        return Err(format!("file '{file_name}': data must be an ArrayBuffer"));
                    }
                    let parts = Array::of1(&Uint8Array::new(&data));
                    let made = web_sys::File::new_with_u8_array_sequence(&parts, &file_name)
                        .map_err(|_| format!("file '{file_name}' could not be made"))?;
                    segments.push(&made);
                }
                session.import_files(segments, name, reply_imported);
            } else {
                let raw = text(data, "url").ok_or("trawl:open needs a url or files")?;
                let base = parent_location().unwrap_or_default();
                let url = web_sys::Url::new_with_base(&raw, &base)
                    .map_err(|_| format!("'{raw}' is not a URL"))?;
                if !url.pathname().ends_with('/') {
                    url.set_pathname(&format!("{}/", url.pathname()));
                }
                let href = url.href();
                let name =
                    text(data, "name").unwrap_or_else(|| crate::view_state::bundle_name(&href));
                session.import_url(href, name, reply_imported);
            }
            Ok(())
        }
        Some("trawl:query") => {
            let query = text(data, "query").unwrap_or_default();
            let from = time(data, "from")?;
            let to = time(data, "to")?;
            session.query_text.set(query.clone());
            session.filter.set(trawl_protocol::Filter {
                query,
                from_nanos: from,
                to_nanos: to,
            });
            Ok(())
        }
        other => Err(format!(
            "unknown message type {other:?}: expected trawl:hello, trawl:open or trawl:query"
        )),
    }
}

/// A time given as Unix milliseconds or RFC 3339 text, in nanoseconds.
fn time(data: &JsValue, name: &str) -> Result<Option<i64>, String> {
    let value = Reflect::get(data, &name.into()).unwrap_or(JsValue::UNDEFINED);
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let ms = match value.as_f64() {
        Some(ms) => ms,
        None => {
            let text = value
                .as_string()
                .ok_or(format!("{name}: expected ms or a date"))?;
            let ms = js_sys::Date::parse(&text);
            if ms.is_nan() {
                return Err(format!("{name}: '{text}' is not a date"));
            }
            ms
        }
    };
    Ok(Some((ms * 1e6) as i64))
}

fn parent_location() -> Option<String> {
    // The parent may be of another origin: its location is then unreadable, and relative
    // URLs resolve against the referrer (the embedding page) instead.
    let document = web_sys::window()?.document()?;
    Some(document.referrer()).filter(|r| !r.is_empty())
}

fn reply_imported(name: &str, outcome: Result<u64, String>) {
    let message = match outcome {
        Ok(records) => object(&[
            ("type", "trawl:imported".into()),
            ("name", name.into()),
            ("records", JsValue::from_f64(records as f64)),
        ]),
        Err(message) => error(&message),
    };
    answer("*", &message);
}

fn ready() -> JsValue {
    object(&[
        ("type", "trawl:ready".into()),
        ("version", JsValue::from(EMBED_VERSION)),
        ("protocol", JsValue::from(PROTOCOL_VERSION)),
    ])
}

fn error(message: &str) -> JsValue {
    object(&[("type", "trawl:error".into()), ("message", message.into())])
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let object = js_sys::Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object.into()
}

fn answer(origin: &str, message: &JsValue) {
    let target = if origin.is_empty() || origin == "null" {
        "*"
    } else {
        origin
    };
    let _ = parent_window().post_message(message, target);
}
