//! The app's side of the worker protocol: one store worker per page, requests matched to
//! replies by id.

use std::{cell::RefCell, collections::HashMap};

use futures::channel::oneshot;
use trawl_protocol::{
    decode, encode, ExportProgress, FromWorker, ImportProgress, Request, RequestId, Response,
    ToWorker, WorkerError, WorkerState,
};
use wasm_bindgen::{prelude::*, JsCast};
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where Trunk puts the worker's loader, relative to the page (so sub-paths work).
const WORKER_URL: &str = "./worker_loader.js";

/// A reply, and the `Blob` posted with it (for [`Request::ExportBundle`]).
struct Answer {
    result: Result<Response, WorkerError>,
    blob: Option<web_sys::Blob>,
}

type Pending = HashMap<RequestId, oneshot::Sender<Answer>>;

struct Client {
    worker: Worker,
    next_id: RequestId,
    pending: Pending,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// What the worker says on its own.
pub enum Event {
    /// Its state changed (or it failed to start, or crashed).
    State(WorkerState),
    /// An import moved on.
    Progress(ImportProgress),
    /// A bundle export moved on.
    Exporting(ExportProgress),
}

/// Starts the store worker. `on_event` is called with every state and progress the worker
/// announces, and with [`WorkerState::Failed`] if the worker cannot start or crashes.
pub fn start(on_event: impl Fn(Event) + 'static) -> Result<(), String> {
    let worker = Worker::new(WORKER_URL).map_err(|err| format!("starting the worker: {err:?}"))?;
    let on_event = std::rc::Rc::new(on_event);

    let state_cb = on_event.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        // A string, or an object `{ text, blob }`.
        let data = event.data();
        let (text, blob) = match data.as_string() {
            Some(text) => (text, None),
            None => {
                let field = |name: &str| js_sys::Reflect::get(&data, &name.into()).ok();
                let Some(text) = field("text").and_then(|t| t.as_string()) else {
                    return;
                };
                (text, field("blob").and_then(|b| b.dyn_into().ok()))
            }
        };
        match decode::<FromWorker>(&text) {
            Ok(FromWorker::State(state)) => state_cb(Event::State(state)),
            Ok(FromWorker::Progress(progress)) => state_cb(Event::Progress(progress)),
            Ok(FromWorker::Exporting(progress)) => state_cb(Event::Exporting(progress)),
            Ok(FromWorker::Reply { id, result }) => {
                let waiter = CLIENT
                    .with_borrow_mut(|client| client.as_mut().and_then(|c| c.pending.remove(&id)));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(Answer { result, blob });
                }
            }
            Err(err) => state_cb(Event::State(WorkerState::Failed {
                message: err.to_string(),
            })),
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        on_event(Event::State(WorkerState::Failed {
            message: format!("the store worker stopped: {}", event.message()),
        }));
    });
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();

    CLIENT.with_borrow_mut(|client| {
        *client = Some(Client {
            worker,
            next_id: 1,
            pending: HashMap::new(),
        })
    });
    Ok(())
}

/// Sends `request` and waits for its reply.
pub async fn request(request: Request) -> Result<Response, WorkerError> {
    let (_, reply) = post(request, None)?;
    wait(reply).await.result
}

/// Sends `request` and waits for its reply and the `Blob` that comes with it.
pub async fn request_blob(request: Request) -> Result<(Response, web_sys::Blob), WorkerError> {
    let (_, reply) = post(request, None)?;
    let Answer { result, blob } = wait(reply).await;
    let response = result?;
    let blob = blob.ok_or_else(|| WorkerError::BadRequest {
        message: format!("the store worker sent no file with {response:?}"),
    })?;
    Ok((response, blob))
}

/// Sends `request`, with `files` (JS `File`s, for [`Request::ImportFiles`]) if any, and waits
/// for its reply; `on_sent` gets the request's id as soon as it is sent (to cancel it by).
pub async fn request_tracked(
    request: Request,
    files: Option<js_sys::Array>,
    on_sent: impl FnOnce(RequestId),
) -> Result<Response, WorkerError> {
    let (id, reply) = post(request, files)?;
    on_sent(id);
    wait(reply).await.result
}

type Reply = oneshot::Receiver<Answer>;

fn post(request: Request, files: Option<js_sys::Array>) -> Result<(RequestId, Reply), WorkerError> {
    let (tx, rx) = oneshot::channel();
    CLIENT.with_borrow_mut(|client| {
        let Some(client) = client.as_mut() else {
            return Err(WorkerError::NotReady {
                reason: "the store worker was not started".into(),
            });
        };
        let id = client.next_id;
        client.next_id += 1;
        let text = JsValue::from_str(&encode(&ToWorker { id, request }));
        let message = match files {
            None => text,
            Some(files) => {
                let message = js_sys::Object::new();
                // Setting own properties of a fresh plain object cannot fail.
                let _ = js_sys::Reflect::set(&message, &"text".into(), &text);
                let _ = js_sys::Reflect::set(&message, &"files".into(), &files);
                message.into()
            }
        };
        client
            .worker
            .post_message(&message)
            .map_err(|err| WorkerError::NotReady {
                reason: format!("the store worker is gone: {err:?}"),
            })?;
        client.pending.insert(id, tx);
        Ok((id, rx))
    })
}

async fn wait(reply: Reply) -> Answer {
    reply.await.unwrap_or_else(|_| Answer {
        result: Err(WorkerError::NotReady {
            reason: "the store worker dropped the request".into(),
        }),
        blob: None,
    })
}
