//! Answers requests according to where the store is in its life.

use std::{cell::RefCell, rc::Rc};

use js_sys::Reflect;
use trawl_protocol::{
    decode, FromWorker, Request, Response, StoreStatus, ToWorker, WorkerError, WorkerState,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::opfs::Opened;

/// The store, once open, or why it is not.
pub(crate) struct Service {
    phase: Phase,
}

enum Phase {
    Opening,
    Ready(Opened),
    Failed(String),
}

impl Service {
    pub(crate) fn new() -> Self {
        Self {
            phase: Phase::Opening,
        }
    }

    /// Records the outcome of opening the store and returns the state to announce.
    pub(crate) fn set_opened(&mut self, opened: Result<Opened, String>) -> WorkerState {
        match opened {
            Ok(opened) => {
                self.phase = Phase::Ready(opened);
                WorkerState::Ready
            }
            Err(message) => {
                self.phase = Phase::Failed(message.clone());
                WorkerState::Failed { message }
            }
        }
    }

    /// Decodes one message and computes its reply. Never panics on bad input.
    pub(crate) async fn handle(this: &Rc<RefCell<Self>>, text: &str) -> FromWorker {
        let ToWorker { id, request } = match decode::<ToWorker>(text) {
            Ok(message) => message,
            Err(err) => {
                return FromWorker::Reply {
                    // An undecodable message has no trustworthy id; 0 is never issued.
                    id: 0,
                    result: Err(WorkerError::BadRequest {
                        message: err.to_string(),
                    }),
                };
            }
        };
        let result = Self::answer(this, request).await;
        FromWorker::Reply { id, result }
    }

    async fn answer(this: &Rc<RefCell<Self>>, request: Request) -> Result<Response, WorkerError> {
        // Store work is synchronous and done before any await, so no borrow is held across one.
        let response = {
            let service = this.borrow();
            let opened = match &service.phase {
                Phase::Ready(opened) => opened,
                Phase::Opening => {
                    return Err(WorkerError::NotReady {
                        reason: "the store is still opening (or open in another tab)".into(),
                    })
                }
                Phase::Failed(message) => {
                    return Err(WorkerError::NotReady {
                        reason: message.clone(),
                    })
                }
            };
            let store = &opened.store;
            match request {
                Request::Status => Response::Status(StoreStatus {
                    sqlite_version: store.sqlite_version(),
                    fts5: store.fts5_available(),
                    vfs: opened.vfs.to_owned(),
                    opfs: opened.is_opfs(),
                    open_count: store.open_count().map_err(store_error)?,
                    storage_usage: None,
                    storage_quota: None,
                }),
                Request::GetSetting { key } => Response::Setting {
                    value: store.setting(&key).map_err(store_error)?,
                },
                Request::SetSetting { key, value } => {
                    store.set_setting(&key, &value).map_err(store_error)?;
                    Response::Done
                }
            }
        };
        Ok(match response {
            Response::Status(mut status) => {
                (status.storage_usage, status.storage_quota) = storage_estimate().await;
                Response::Status(status)
            }
            other => other,
        })
    }
}

fn store_error(err: trawl_store::StoreError) -> WorkerError {
    WorkerError::Store {
        message: err.to_string(),
    }
}

/// `navigator.storage.estimate()`: bytes used and allowed for this origin, if the browser says.
async fn storage_estimate() -> (Option<f64>, Option<f64>) {
    let scope: web_sys::DedicatedWorkerGlobalScope =
        wasm_bindgen::JsCast::unchecked_into(js_sys::global());
    let Ok(promise) = scope.navigator().storage().estimate() else {
        return (None, None);
    };
    let Ok(estimate) = JsFuture::from(promise).await else {
        return (None, None);
    };
    let number = |name: &str| {
        Reflect::get(&estimate, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_f64())
    };
    (number("usage"), number("quota"))
}
