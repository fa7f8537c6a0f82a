//! Browser facilities the app uses directly: the service worker and storage persistence.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Registers the service worker that makes the app work offline, scoped to the page's own
/// directory (never `/`), and resolves once it controls this origin path.
pub async fn register_service_worker() -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let container = window.navigator().service_worker();
    JsFuture::from(container.register("./sw.js"))
        .await
        .map_err(describe)?;
    JsFuture::from(container.ready().map_err(describe)?)
        .await
        .map_err(describe)?;
    Ok(())
}

/// Asks the browser to keep this origin's storage under pressure; returns whether it will.
pub async fn persist_storage() -> Option<bool> {
    let storage = web_sys::window()?.navigator().storage();
    let granted = JsFuture::from(storage.persist().ok()?).await.ok()?;
    granted.as_bool()
}

fn describe(value: JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}
