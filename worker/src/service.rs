//! Answers requests according to where the store is in its life; runs imports.

use std::{
    cell::RefCell,
    collections::{HashMap, VecDeque},
    rc::Rc,
};

use futures::lock::Mutex;
use js_sys::Reflect;
use trawl_protocol::{
    decode, Context, Cursor, Filter, FromWorker, Page, Request, RequestId, Response, Row,
    StoreStatus, ToWorker, Trace, WorkerError, WorkerState,
};
use trawl_store::{export, ConsoleLimits, Query, Store, StoreError};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::{
    bundle_export,
    import::{self, CancelFlag, Source},
    opfs::Opened,
    Inbound, Outbox,
};

/// Rows per page at most, whatever the app asks.
const MAX_PAGE: u32 = 1000;
/// Histogram buckets at most.
const MAX_BUCKETS: u32 = 2000;
/// Values per facet at most.
const MAX_FACETS: u32 = 200;
/// Records of a trace sent at most.
const MAX_TRACE: u32 = 5000;
/// Records on each side of a context at most.
const MAX_CONTEXT: u32 = 1000;
/// Records in one export at most: ~50 MB of JSON lines, one string in the worker's memory
/// and one in the page's. `trawl query --json` exports any number.
const MAX_EXPORT: u32 = 100_000;

/// The store, once open, or why it is not; and the imports running on it.
pub(crate) struct Service {
    phase: Phase,
    /// Running imports by the request that started them: their bundle and cancel switch.
    imports: HashMap<RequestId, (String, CancelFlag)>,
    /// Running bundle exports by the request that started them: their cancel switch.
    exports: HashMap<RequestId, CancelFlag>,
    /// Held by the running import; the next one waits its turn.
    import_turn: Rc<Mutex<()>>,
    /// Until when (the worker's clock, ms) a running import holds back its next batch: set
    /// as a first page or a total is answered, cleared when the app says it has shown the
    /// answers ([`Request::Shown`]). See [`HOLD_FOR_PAINT_MS`].
    import_held_until: f64,
}

/// The longest a running import holds back after a first page or a total is answered, waiting
/// for the app to paint the answers ([`Request::Shown`]). On a machine of two cores the
/// import's batches would otherwise take the core the rendering needs: traced, 22 ms of the
/// main thread's CPU spread over 97 ms of clock at the first results, when a fixed pause of
/// 40 ms had ended before the page was laid out. The app refreshes its results at most every
/// 0.7 s during an import, and says it has painted within a frame or two of the last answer.
const HOLD_FOR_PAINT_MS: f64 = 300.0;

enum Phase {
    Opening,
    Ready(Opened),
    Failed(String),
}

impl Service {
    pub(crate) fn new() -> Self {
        Self {
            phase: Phase::Opening,
            imports: HashMap::new(),
            exports: HashMap::new(),
            import_turn: Rc::new(Mutex::new(())),
            import_held_until: 0.0,
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

    fn opened(&self) -> Result<&Opened, WorkerError> {
        match &self.phase {
            Phase::Ready(opened) => Ok(opened),
            Phase::Opening => Err(WorkerError::NotReady {
                reason: "the store is still opening (or open in another tab)".into(),
            }),
            Phase::Failed(message) => Err(WorkerError::NotReady {
                reason: message.clone(),
            }),
        }
    }

    /// Milliseconds a running import should still wait before its next batch (it may be
    /// released sooner: ask again).
    pub(crate) fn import_hold_ms(&self) -> f64 {
        (self.import_held_until - import::now()).max(0.0)
    }

    /// The open store, or why there is none.
    pub(crate) fn store(&self) -> Result<&Store, WorkerError> {
        self.opened().map(|opened| &opened.store)
    }

    /// The open store, or why there is none.
    pub(crate) fn store_mut(&mut self) -> Result<&mut Store, WorkerError> {
        self.opened()?;
        match &mut self.phase {
            Phase::Ready(opened) => Ok(&mut opened.store),
            _ => unreachable!("checked by opened()"),
        }
    }

    /// Decodes one message and answers it: at once, or for imports, by a task of its own
    /// that sends the reply when the import ends. Never panics on bad input.
    ///
    /// `waiting` holds the messages that arrived after this one: a search from the start (a new
    /// query) among them supersedes this one if it is a search from the start, a count or an
    /// overview, which is then answered [`WorkerError::Superseded`] without running.
    pub(crate) async fn handle(
        this: &Rc<RefCell<Self>>,
        outbox: &Outbox,
        inbound: Inbound,
        waiting: &VecDeque<Inbound>,
    ) {
        let ToWorker { id, request } = match decode::<ToWorker>(&inbound.text) {
            Ok(message) => message,
            Err(err) => {
                outbox.send(&FromWorker::Reply {
                    // An undecodable message has no trustworthy id; 0 is never issued.
                    id: 0,
                    result: Err(WorkerError::BadRequest {
                        message: err.to_string(),
                    }),
                });
                return;
            }
        };
        if replaceable(&request) && waiting.iter().any(is_new_search) {
            outbox.send(&FromWorker::Reply {
                id,
                result: Err(WorkerError::Superseded),
            });
            return;
        }
        let (bundle, source) = match request {
            Request::ImportUrl { url, bundle } => (bundle, Source::Url(url)),
            Request::ImportFiles { bundle } => (bundle, Source::Files(inbound.files)),
            Request::ExportBundle { bundle } => {
                Self::spawn_export(this, outbox, id, bundle);
                return;
            }
            request => {
                let holds_import = matches!(
                    request,
                    Request::Search {
                        cursor: Cursor::Start,
                        ..
                    } | Request::Count { .. }
                );
                let result = Self::answer(this, request).await;
                if holds_import && result.is_ok() {
                    this.borrow_mut().import_held_until = import::now() + HOLD_FOR_PAINT_MS;
                }
                outbox.send(&FromWorker::Reply { id, result });
                return;
            }
        };
        Self::spawn_import(this, outbox, id, bundle, source);
    }

    /// Runs an import in a task of its own, after any import before it: two imports of the
    /// same segments at once would store their records twice.
    fn spawn_import(
        this: &Rc<RefCell<Self>>,
        outbox: &Outbox,
        id: RequestId,
        bundle: String,
        source: Source,
    ) {
        let cancel = CancelFlag::default();
        let turn = {
            let mut service = this.borrow_mut();
            service.imports.insert(id, (bundle.clone(), cancel.clone()));
            service.import_turn.clone()
        };
        let this = this.clone();
        let outbox = outbox.clone();
        spawn_local(async move {
            let result = {
                let _turn = turn.lock().await;
                import::run(&this, &outbox, id, bundle, source, cancel).await
            };
            this.borrow_mut().imports.remove(&id);
            outbox.send(&FromWorker::Reply {
                id,
                result: result.map(Response::Imported),
            });
        });
    }

    /// Runs a bundle export in a task of its own, which replies when it ends.
    fn spawn_export(this: &Rc<RefCell<Self>>, outbox: &Outbox, id: RequestId, bundle: String) {
        let cancel = CancelFlag::default();
        this.borrow_mut().exports.insert(id, cancel.clone());
        let this = this.clone();
        let outbox = outbox.clone();
        spawn_local(async move {
            let result = bundle_export::run(&this, &outbox, id, &bundle, &cancel).await;
            this.borrow_mut().exports.remove(&id);
            match result {
                Ok((response, blob)) => outbox.send_with(
                    &FromWorker::Reply {
                        id,
                        result: Ok(response),
                    },
                    &blob,
                ),
                Err(err) => outbox.send(&FromWorker::Reply {
                    id,
                    result: Err(err),
                }),
            }
        });
    }

    async fn answer(this: &Rc<RefCell<Self>>, request: Request) -> Result<Response, WorkerError> {
        // Store work is synchronous and done before any await, so no borrow is held across one.
        let response = {
            let mut service = this.borrow_mut();
            match request {
                Request::Status => {
                    let opened = service.opened()?;
                    let store = &opened.store;
                    Response::Status(StoreStatus {
                        sqlite_version: store.sqlite_version(),
                        fts5: store.fts5_available(),
                        vfs: opened.vfs.to_owned(),
                        opfs: opened.is_opfs(),
                        open_count: store.open_count().map_err(store_error)?,
                        storage_usage: None,
                        storage_quota: None,
                        worker_memory: wasm_memory(),
                    })
                }
                Request::GetSetting { key } => Response::Setting {
                    value: service.store()?.setting(&key).map_err(store_error)?,
                },
                Request::SetSetting { key, value } => {
                    service
                        .store()?
                        .set_setting(&key, &value)
                        .map_err(store_error)?;
                    Response::Done
                }
                Request::Shown => {
                    service.import_held_until = 0.0;
                    Response::Done
                }
                Request::CancelImport { import } => {
                    if let Some((_, cancel)) = service.imports.get(&import) {
                        cancel.cancel();
                    }
                    Response::Done
                }
                Request::CancelExport { export } => {
                    if let Some(cancel) = service.exports.get(&export) {
                        cancel.cancel();
                    }
                    Response::Done
                }
                Request::Search {
                    filter,
                    order,
                    cursor,
                    limit,
                } => {
                    let query = parse(&filter)?;
                    let limit = limit.clamp(1, MAX_PAGE) as usize;
                    let page = service
                        .store()?
                        .page(&query, order, cursor, limit)
                        .map_err(store_error)?;
                    Response::Page(Page {
                        rows: page.rows.into_iter().map(Row::listed).collect(),
                        more: page.more,
                    })
                }
                Request::Count { filter } => Response::Count {
                    total: service
                        .store()?
                        .count(&parse(&filter)?)
                        .map_err(store_error)?,
                },
                Request::Overview {
                    filter,
                    buckets,
                    facet_limit,
                } => Response::Overview(
                    service
                        .store()?
                        .overview(
                            &parse(&filter)?,
                            buckets.clamp(1, MAX_BUCKETS) as usize,
                            facet_limit.clamp(1, MAX_FACETS) as usize,
                        )
                        .map_err(store_error)?,
                ),
                Request::Record { id } => Response::Record {
                    detail: service.store()?.record(id).map_err(store_error)?,
                },
                Request::Context { id, before, after } => Response::Context {
                    context: service
                        .store()?
                        .context(
                            id,
                            before.min(MAX_CONTEXT) as usize,
                            after.min(MAX_CONTEXT) as usize,
                        )
                        .map_err(store_error)?
                        .map(|context| Context {
                            before: context.before.into_iter().map(Row::listed).collect(),
                            record: context.record.listed(),
                            after: context.after.into_iter().map(Row::listed).collect(),
                        }),
                },
                Request::Trace { trace_id, limit } => {
                    let trace = service
                        .store()?
                        .trace(&trace_id, limit.min(MAX_TRACE) as usize)
                        .map_err(store_error)?;
                    Response::Trace(Trace {
                        rows: trace.rows.into_iter().map(Row::listed).collect(),
                        more: trace.more,
                    })
                }
                Request::Console { sql } => Response::Console(
                    service
                        .store_mut()?
                        .console(&sql, ConsoleLimits::default())
                        .map_err(|err| WorkerError::Console {
                            message: err.to_string(),
                        })?,
                ),
                Request::Library => Response::Library {
                    bundles: service.store()?.bundles().map_err(store_error)?,
                },
                Request::DeleteBundle { bundle } => {
                    // An import of it still running would bring records back: stop it first
                    // (it is between batches now, so nothing more of it is stored).
                    for (importing, cancel) in service.imports.values() {
                        if *importing == bundle {
                            cancel.cancel();
                        }
                    }
                    Response::Deleted {
                        records: service
                            .store_mut()?
                            .delete_bundle(&bundle)
                            .map_err(store_error)?,
                    }
                }
                Request::Export {
                    filter,
                    order,
                    limit,
                } => {
                    let mut lines = String::new();
                    let mut records = 0;
                    let more = service
                        .store()?
                        .each_match(
                            &parse(&filter)?,
                            order,
                            limit.min(MAX_EXPORT) as usize,
                            |row| -> Result<(), StoreError> {
                                lines.push_str(&export::json_line(row).to_string());
                                lines.push('\n');
                                records += 1;
                                Ok(())
                            },
                        )
                        .map_err(store_error)?;
                    Response::Exported {
                        lines,
                        records,
                        complete: !more,
                    }
                }
                Request::ImportUrl { .. }
                | Request::ImportFiles { .. }
                | Request::ExportBundle { .. } => {
                    unreachable!("imports and bundle exports are run by handle()")
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

/// Whether a newer search makes the answer to `request` useless.
fn replaceable(request: &Request) -> bool {
    matches!(
        request,
        Request::Search {
            cursor: Cursor::Start,
            ..
        } | Request::Count { .. }
            | Request::Overview { .. }
    )
}

/// Whether `inbound` asks for the first page of a search (a new query).
fn is_new_search(inbound: &Inbound) -> bool {
    matches!(
        decode::<ToWorker>(&inbound.text),
        Ok(ToWorker {
            request: Request::Search {
                cursor: Cursor::Start,
                ..
            },
            ..
        })
    )
}

/// The query of `filter`, or where its text does not parse.
fn parse(filter: &Filter) -> Result<Query, WorkerError> {
    Query::parse(&filter.query)
        .map(|query| query.within(filter.from_nanos, filter.to_nanos))
        .map_err(|err| WorkerError::Query {
            column: err.column,
            message: err.message,
        })
}

pub(crate) fn store_error(err: trawl_store::StoreError) -> WorkerError {
    WorkerError::Store {
        message: err.to_string(),
    }
}

/// The size of this worker's wasm memory in bytes.
fn wasm_memory() -> Option<f64> {
    let buffer = Reflect::get(&wasm_bindgen::memory(), &JsValue::from_str("buffer")).ok()?;
    Reflect::get(&buffer, &JsValue::from_str("byteLength"))
        .ok()?
        .as_f64()
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
