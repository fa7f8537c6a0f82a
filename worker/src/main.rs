//! The viewer's store worker: a dedicated Web Worker that owns trawl's SQLite store.
//!
//! It takes the origin-wide Web Lock `trawl-store` before touching OPFS, because OPFS access
//! handles are exclusive: a second tab waits (and says so) instead of failing, and takes over
//! when the first tab closes and its worker dies. With the lock held it installs the OPFS
//! SyncAccessHandle-pool VFS, opens the store there, and serves [`trawl_protocol`] requests.
//! Where OPFS is unavailable it serves a store in memory and reports `opfs: false`.

mod bundle_export;
mod import;
mod lock;
mod opfs;
mod service;

use std::{cell::RefCell, collections::VecDeque, rc::Rc};

use futures::{channel::mpsc, StreamExt};
use trawl_protocol::{encode, FromWorker, WorkerState};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::spawn_local;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::service::Service;

/// The Web Lock that makes one tab at a time the owner of the store.
const STORE_LOCK: &str = "trawl-store";

fn main() {
    console_error_panic_hook::set_once();
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();

    // Messages are queued from the first moment, so nothing the app sends early is lost.
    let (inbox, mut messages) = mpsc::unbounded::<Inbound>();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        if let Some(inbound) = Inbound::from_data(event.data()) {
            // Fails only once the receiver is gone, i.e. never while the worker lives.
            let _ = inbox.unbounded_send(inbound);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let service = Rc::new(RefCell::new(Service::new()));
    let outbox = Outbox(scope.clone());

    // Requests wait for the store to open (they queue meanwhile), so an app that asks early,
    // or a tab waiting for another to close, gets answers once there are any.
    spawn_local(async move {
        let opened = opfs::open_store(&outbox).await;
        let state = service.borrow_mut().set_opened(opened);
        outbox.send(&FromWorker::State(state));
        // Everything that has arrived is looked at before the next message is answered, so a
        // search the user already replaced is not run (see `Service::handle`).
        let mut queue = VecDeque::new();
        loop {
            while let Ok(inbound) = messages.try_recv() {
                queue.push_back(inbound);
            }
            let inbound = match queue.pop_front() {
                Some(inbound) => inbound,
                None => match messages.next().await {
                    Some(inbound) => inbound,
                    None => break,
                },
            };
            Service::handle(&service, &outbox, inbound, &queue).await;
        }
    });
}

/// One message from the app: an encoded [`trawl_protocol::ToWorker`], and the files posted
/// with it (for [`trawl_protocol::Request::ImportFiles`]).
pub(crate) struct Inbound {
    pub(crate) text: String,
    pub(crate) files: Vec<web_sys::File>,
}

impl Inbound {
    /// A string, or an object `{ text, files }`; `None` for anything else.
    fn from_data(data: JsValue) -> Option<Self> {
        if let Some(text) = data.as_string() {
            return Some(Self {
                text,
                files: Vec::new(),
            });
        }
        let text = js_sys::Reflect::get(&data, &JsValue::from_str("text"))
            .ok()?
            .as_string()?;
        let files = js_sys::Reflect::get(&data, &JsValue::from_str("files"))
            .ok()
            .filter(js_sys::Array::is_array)
            .map(|files| {
                js_sys::Array::from(&files)
                    .iter()
                    .filter_map(|file| file.dyn_into::<web_sys::File>().ok())
                    .collect()
            })
            .unwrap_or_default();
        Some(Self { text, files })
    }
}

/// Sends encoded messages to the app.
#[derive(Clone)]
pub(crate) struct Outbox(DedicatedWorkerGlobalScope);

impl Outbox {
    pub(crate) fn send(&self, message: &FromWorker) {
        // posting a string cannot fail: it needs no transfer and clones trivially.
        let _ = self.0.post_message(&JsValue::from_str(&encode(message)));
    }

    /// Sends `message` with `blob` (for [`trawl_protocol::Request::ExportBundle`]), as a JS
    /// object `{ text, blob }`.
    pub(crate) fn send_with(&self, message: &FromWorker, blob: &web_sys::Blob) {
        let object = js_sys::Object::new();
        // Setting own properties of a fresh plain object cannot fail.
        let _ = js_sys::Reflect::set(&object, &"text".into(), &encode(message).into());
        let _ = js_sys::Reflect::set(&object, &"blob".into(), blob);
        // A blob is cloned by reference: posting it cannot fail for its size.
        let _ = self.0.post_message(&object);
    }

    pub(crate) fn state(&self, state: WorkerState) {
        self.send(&FromWorker::State(state));
    }

    pub(crate) fn scope(&self) -> &DedicatedWorkerGlobalScope {
        &self.0
    }
}
