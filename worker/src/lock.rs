//! Web Locks, through `js_sys::Reflect`: web-sys gates `LockManager` behind an unstable flag.

use futures::{channel::oneshot, future, FutureExt};
use gloo_timers::future::TimeoutFuture;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::WorkerNavigator;

/// How long a lock request may wait before the user is told another tab holds it. A reload
/// briefly overlaps the old page's worker with the new one: this keeps that quiet.
const QUIET_WAIT_MS: u32 = 750;

/// What became of [`hold_for_life`].
pub(crate) enum Held {
    /// The lock is ours until this worker ends.
    Exclusive,
    /// This browser has no Web Locks; nothing coordinates tabs.
    Unsupported,
}

/// Takes the exclusive Web Lock `name` and holds it until the worker ends (the browser releases
/// it then). Calls `on_wait` once if the lock is not granted within [`QUIET_WAIT_MS`].
pub(crate) async fn hold_for_life(
    navigator: &WorkerNavigator,
    name: &str,
    on_wait: impl FnOnce(),
) -> Result<Held, String> {
    let locks = Reflect::get(navigator, &JsValue::from_str("locks")).map_err(describe)?;
    if locks.is_undefined() || locks.is_null() {
        return Ok(Held::Unsupported);
    }
    let request: Function = Reflect::get(&locks, &JsValue::from_str("request"))
        .map_err(describe)?
        .dyn_into()
        .map_err(describe)?;

    let (granted_tx, granted_rx) = oneshot::channel::<()>();
    let on_granted = Closure::once_into_js(move |_lock: JsValue| -> Promise {
        let _ = granted_tx.send(());
        // A promise that never settles: the lock stays held for the worker's whole life.
        Promise::new(&mut |_, _| {})
    });
    let settled = request
        .call2(&locks, &JsValue::from_str(name), &on_granted)
        .map_err(describe)?
        .dyn_into::<Promise>()
        .map_err(describe)?;
    // The request's promise settles only if the request fails (the lock is never released).
    let mut failed = JsFuture::from(settled).fuse();
    let mut granted = granted_rx.fuse();

    futures::select! {
        _ = granted => return Ok(Held::Exclusive),
        result = failed => return Err(request_failed(result)),
        _ = TimeoutFuture::new(QUIET_WAIT_MS).fuse() => on_wait(),
    }
    match future::select(granted, failed).await {
        future::Either::Left(_) => Ok(Held::Exclusive),
        future::Either::Right((result, _)) => Err(request_failed(result)),
    }
}

fn request_failed(result: Result<JsValue, JsValue>) -> String {
    match result {
        Ok(_) => "the store lock was released unexpectedly".to_owned(),
        Err(err) => format!("could not take the store lock: {}", describe(err)),
    }
}

/// A readable text for a JavaScript error value.
pub(crate) fn describe(value: JsValue) -> String {
    if let Some(error) = value.dyn_ref::<js_sys::Error>() {
        return String::from(error.message());
    }
    value.as_string().unwrap_or_else(|| format!("{value:?}"))
}
