//! The app's side of the worker protocol: one store worker per page, requests matched to
//! replies by id.

use std::{cell::RefCell, collections::HashMap};

use futures::channel::oneshot;
use trawl_protocol::{
    decode, encode, FromWorker, Request, RequestId, Response, ToWorker, WorkerError, WorkerState,
};
use wasm_bindgen::{prelude::*, JsCast};
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where Trunk puts the worker's loader, relative to the page (so sub-paths work).
const WORKER_URL: &str = "./worker_loader.js";

type Pending = HashMap<RequestId, oneshot::Sender<Result<Response, WorkerError>>>;

struct Client {
    worker: Worker,
    next_id: RequestId,
    pending: Pending,
}

thread_local! {
    static CLIENT: RefCell<Option<Client>> = const { RefCell::new(None) };
}

/// Starts the store worker. `on_state` is called with every state the worker announces, and
/// with [`WorkerState::Failed`] if the worker cannot start or crashes.
pub fn start(on_state: impl Fn(WorkerState) + 'static) -> Result<(), String> {
    let worker = Worker::new(WORKER_URL).map_err(|err| format!("starting the worker: {err:?}"))?;
    let on_state = std::rc::Rc::new(on_state);

    let state_cb = on_state.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(text) = event.data().as_string() else {
            return;
        };
        match decode::<FromWorker>(&text) {
            Ok(FromWorker::State(state)) => state_cb(state),
            Ok(FromWorker::Reply { id, result }) => {
                let waiter = CLIENT
                    .with_borrow_mut(|client| client.as_mut().and_then(|c| c.pending.remove(&id)));
                if let Some(waiter) = waiter {
                    let _ = waiter.send(result);
                }
            }
            Err(err) => state_cb(WorkerState::Failed {
                message: err.to_string(),
            }),
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget();

    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        on_state(WorkerState::Failed {
            message: format!("the store worker stopped: {}", event.message()),
        });
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
    let (tx, rx) = oneshot::channel();
    CLIENT.with_borrow_mut(|client| {
        let Some(client) = client.as_mut() else {
            return Err(WorkerError::NotReady {
                reason: "the store worker was not started".into(),
            });
        };
        let id = client.next_id;
        client.next_id += 1;
        client
            .worker
            .post_message(&JsValue::from_str(&encode(&ToWorker { id, request })))
            .map_err(|err| WorkerError::NotReady {
                reason: format!("the store worker is gone: {err:?}"),
            })?;
        client.pending.insert(id, tx);
        Ok(())
    })?;
    rx.await.unwrap_or_else(|_| {
        Err(WorkerError::NotReady {
            reason: "the store worker dropped the request".into(),
        })
    })
}
