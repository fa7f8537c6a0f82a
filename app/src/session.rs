//! The viewer's state and the work that changes it: searches, pages, imports, the library.
//! Components read the signals of [`Session`] and call its methods; only this module talks to
//! the worker about records.

use std::collections::BTreeMap;

use leptos::{prelude::*, task::spawn_local};
use trawl_protocol::{
    BundleSummary, ConsoleResult, Context, Cursor, Detail, ExportProgress, Filter, Gap,
    ImportProgress, ImportSummary, Order, Overview, Request, RequestId, Response, Row, StoreStatus,
    Trace, WorkerError, WorkerState,
};

use crate::{format, refresh_pace::RefreshPace, worker_client};

/// The longest [`painted`] waits for a frame.
const PAINT_WAIT_MAX: std::time::Duration = std::time::Duration::from_millis(100);
/// Rows of the first page of results: small, so it comes back fast.
const PAGE_ROWS: u32 = 200;
/// Rows of a first page shown in the frame it arrives in: a screenful.
const FIRST_FRAME_ROWS: usize = 32;
/// Rows per page fetched as the list scrolls: bigger, so a fast fling rarely waits.
const MORE_ROWS: u32 = 1000;
/// Histogram buckets asked for (the worker rounds the width to a readable one).
const HISTOGRAM_BUCKETS: u32 = 120;
/// Values per facet shown.
const FACET_VALUES: u32 = 12;

/// A running import, as the app shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningImport {
    pub id: RequestId,
    pub bundle: String,
    pub progress: Option<ImportProgress>,
}

/// A bundle's latest export, as the library shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum BundleExportState {
    /// Asked for; the worker has not said how far it is yet.
    Starting,
    /// Running: its latest progress.
    Running(ExportProgress),
    /// Ended: what it saved, or why it saved nothing.
    Ended(String),
}

impl BundleExportState {
    /// Whether the export is still running.
    pub fn running(&self) -> bool {
        !matches!(self, BundleExportState::Ended(_))
    }
}

/// A bundle archive the worker made of a stored bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleArchive {
    /// The name to save it under, like `ssh.tar`.
    pub file_name: String,
    pub records: u64,
    pub segments: u64,
    pub bytes: u64,
}

/// What the user sees and can change. Cheap to copy: every field is a handle.
#[derive(Clone, Copy)]
pub struct Session {
    pub worker: RwSignal<WorkerState>,
    pub status: RwSignal<Option<StoreStatus>>,
    /// The query as typed.
    pub query_text: RwSignal<String>,
    /// The query and time range the results are for.
    pub filter: RwSignal<Filter>,
    pub order: RwSignal<Order>,
    pub utc: RwSignal<bool>,
    /// Loaded result rows, in display order (pages appended as the list scrolls).
    pub rows: RwSignal<Vec<Row>>,
    /// Whether more rows lie beyond the loaded ones.
    pub more: RwSignal<bool>,
    pub total: RwSignal<Option<u64>>,
    pub overview: RwSignal<Option<Overview>>,
    /// Where the query does not parse: column and message.
    pub query_error: RwSignal<Option<(usize, String)>>,
    /// The highlighted row (keyboard and clicks move it).
    pub cursor: RwSignal<Option<usize>>,
    /// The record open in the detail pane.
    pub selected: RwSignal<Option<i64>>,
    pub detail: RwSignal<Option<Detail>>,
    /// Whether the detail pane shows the context around the record (kept from record to
    /// record).
    pub context: RwSignal<bool>,
    /// Whether the detail pane shows the record's trace (kept from record to record).
    pub trace: RwSignal<bool>,
    /// Problems to show in the banner (import failures, findings, worker errors).
    pub errors: RwSignal<Vec<String>>,
    pub imports: RwSignal<Vec<RunningImport>>,
    /// Each bundle's latest export, by bundle name: kept here, not in the library's items,
    /// so a library that re-renders (as it does while an import runs) keeps showing them.
    pub bundle_exports: RwSignal<BTreeMap<String, BundleExportState>>,
    pub library: RwSignal<Vec<BundleSummary>>,
    /// Bundle URLs opened with `?bundle=`, kept in the URL.
    pub bundle_urls: RwSignal<Vec<String>>,
    /// Whether the result list is scrolled to its top (new records may then replace it).
    pub at_top: RwSignal<bool>,
    /// Whether the query syntax help is open.
    pub help: RwSignal<bool>,
    /// Whether the SQL console is open.
    pub console: RwSignal<bool>,
    /// The statement the console ran last (kept in the URL).
    pub sql: RwSignal<String>,
    /// Bumped whenever the store's content changed.
    data_version: RwSignal<u64>,
    /// Identifies the newest list of results: pages for older ones are dropped.
    generation: StoredValue<u64>,
    /// Identifies the newest total, histogram and facets.
    stats_generation: StoredValue<u64>,
    loading_more: StoredValue<bool>,
    /// The searches' cost and the import records shown, which pace refreshes during imports.
    refresh_pace: StoredValue<RefreshPace>,
}

impl Session {
    pub fn new() -> Self {
        Self {
            worker: RwSignal::new(WorkerState::Starting),
            status: RwSignal::new(None),
            query_text: RwSignal::new(String::new()),
            filter: RwSignal::new(Filter::default()),
            order: RwSignal::new(Order::NewestFirst),
            utc: RwSignal::new(true),
            rows: RwSignal::new(Vec::new()),
            more: RwSignal::new(false),
            total: RwSignal::new(None),
            overview: RwSignal::new(None),
            query_error: RwSignal::new(None),
            cursor: RwSignal::new(None),
            selected: RwSignal::new(None),
            detail: RwSignal::new(None),
            context: RwSignal::new(false),
            trace: RwSignal::new(false),
            errors: RwSignal::new(Vec::new()),
            imports: RwSignal::new(Vec::new()),
            bundle_exports: RwSignal::new(BTreeMap::new()),
            library: RwSignal::new(Vec::new()),
            bundle_urls: RwSignal::new(Vec::new()),
            at_top: RwSignal::new(true),
            help: RwSignal::new(false),
            console: RwSignal::new(false),
            sql: RwSignal::new(String::new()),
            data_version: RwSignal::new(0),
            generation: StoredValue::new(0),
            stats_generation: StoredValue::new(0),
            loading_more: StoredValue::new(false),
            refresh_pace: StoredValue::new(RefreshPace::default()),
        }
    }

    /// Wires the effects that keep results, detail and library in step with the state.
    pub fn start(self) {
        // A new query, range or order: search from the top.
        Effect::new(move |_| {
            let ready = self.worker.get() == WorkerState::Ready;
            let filter = self.filter.get();
            let order = self.order.get();
            if ready {
                self.search(filter, order, true);
            }
        });
        // New records: refresh counts, and the list too when the user is at its top.
        Effect::new(move |first: Option<()>| {
            self.data_version.track();
            if first.is_some() && self.worker.get_untracked() == WorkerState::Ready {
                let replace =
                    self.at_top.get_untracked() && self.selected.get_untracked().is_none();
                self.search(
                    self.filter.get_untracked(),
                    self.order.get_untracked(),
                    replace,
                );
            }
        });
        Effect::new(move |_| {
            self.data_version.track();
            if self.worker.get() == WorkerState::Ready {
                self.refresh_library();
            }
        });
        Effect::new(move |_| {
            let id = self.selected.get();
            let ready = self.worker.get() == WorkerState::Ready;
            match id {
                Some(id) if ready => spawn_local(async move {
                    match worker_client::request(Request::Record { id }).await {
                        Ok(Response::Record { detail }) => {
                            if self.selected.get_untracked() == Some(id) {
                                self.detail.set(detail);
                            }
                        }
                        other => self.report(other.err()),
                    }
                }),
                _ => self.detail.set(None),
            }
        });
    }

    /// Runs a search: the first page, then the total, histogram and facets. With `replace`
    /// false only the total, histogram and facets are refreshed.
    fn search(self, filter: Filter, order: Order, replace: bool) {
        let bump = |counter: StoredValue<u64>| {
            counter.update_value(|n| *n += 1);
            counter.get_value()
        };
        let list = if replace {
            bump(self.generation)
        } else {
            self.generation.get_value()
        };
        let stats = bump(self.stats_generation);
        let current = move || self.generation.get_value() == list;
        let current_stats = move || self.stats_generation.get_value() == stats;
        let running = self
            .refresh_pace
            .try_update_value(|pace| pace.search_began(now_ms()));
        spawn_local(async move {
            self.answer_search(filter, order, replace, current, current_stats)
                .await;
            if let Some(running) = running {
                self.refresh_pace
                    .update_value(|pace| pace.search_ended(running, now_ms()));
            }
            // A newer search sends its own when its answers are shown.
            if current_stats() {
                self.shown();
            }
        });
    }

    /// Asks for a search's answers and shows those still current: see [`Self::search`].
    async fn answer_search(
        self,
        filter: Filter,
        order: Order,
        replace: bool,
        current: impl Fn() -> bool + Copy + 'static,
        current_stats: impl Fn() -> bool + Copy,
    ) {
        if replace {
            let request = Request::Search {
                filter: filter.clone(),
                order,
                cursor: Cursor::Start,
                limit: PAGE_ROWS,
            };
            timing::mark("trawl:search-start");
            match worker_client::request(request).await {
                Ok(Response::Page(page)) if current() => {
                    timing::measure("trawl:search", "trawl:search-start");
                    if !page.rows.is_empty() {
                        timing::mark_once("trawl:first-results");
                    }
                    self.query_error.set(None);
                    self.show_first_page(page.rows, page.more, current);
                    // The total and overview are asked for once the rows are on screen: the
                    // worker's work for them (and V8 compiling it, the first time) would
                    // otherwise take the cores the first results' frame needs.
                    painted().await;
                }
                Err(WorkerError::Query { column, message }) if current() => {
                    self.query_error.set(Some((column, message)));
                    return;
                }
                Ok(_) => return,
                Err(err) => return self.report(Some(err)),
            }
        }
        match worker_client::request(Request::Count {
            filter: filter.clone(),
        })
        .await
        {
            Ok(Response::Count { total }) if current_stats() => self.total.set(Some(total)),
            Ok(_) => return,
            Err(WorkerError::Query { .. }) => return,
            Err(err) => return self.report(Some(err)),
        }
        let request = Request::Overview {
            filter,
            buckets: HISTOGRAM_BUCKETS,
            facet_limit: FACET_VALUES,
        };
        match worker_client::request(request).await {
            Ok(Response::Overview(overview)) if current_stats() => {
                if replace {
                    timing::measure("trawl:refresh", "trawl:search-start");
                }
                self.overview.set(Some(overview))
            }
            Ok(_) | Err(WorkerError::Query { .. }) => {}
            Err(err) => self.report(Some(err)),
        }
    }

    /// Tells the worker that the answers just set are painted, so that an import it held back
    /// for them goes on.
    fn shown(self) {
        spawn_local(async {
            painted().await;
            let _ = worker_client::request(Request::Shown).await;
        });
    }

    /// Shows a search's first page over two frames: a screenful of rows now, the rest in the
    /// next frame, so that rendering the first results fits in a frame even while an import
    /// keeps the machine busy. No page is loaded after it until the rest is in.
    fn show_first_page(self, mut rows: Vec<Row>, more: bool, current: impl Fn() -> bool + 'static) {
        let rest = rows.split_off(rows.len().min(FIRST_FRAME_ROWS));
        self.rows.set(rows);
        self.more.set(more);
        if rest.is_empty() {
            self.loading_more.set_value(false);
            return;
        }
        self.loading_more.set_value(true);
        request_animation_frame(move || {
            if current() {
                self.rows.update(|rows| rows.extend(rest));
                self.loading_more.set_value(false);
            }
        });
    }

    /// Loads the page after the last loaded row, if there is one and none is loading.
    pub fn load_more(self) {
        if !self.more.get_untracked() || self.loading_more.get_value() {
            return;
        }
        let Some(last) = self.rows.with_untracked(|rows| rows.last().map(|r| r.id)) else {
            return;
        };
        self.loading_more.set_value(true);
        let generation = self.generation.get_value();
        let request = Request::Search {
            filter: self.filter.get_untracked(),
            order: self.order.get_untracked(),
            cursor: Cursor::After(last),
            limit: MORE_ROWS,
        };
        spawn_local(async move {
            let reply = worker_client::request(request).await;
            self.loading_more.set_value(false);
            if self.generation.get_value() != generation {
                // Another search ran meanwhile: this page may not follow its rows.
                return;
            }
            match reply {
                Ok(Response::Page(page)) => {
                    self.rows.update(|rows| rows.extend(page.rows));
                    self.more.set(page.more);
                }
                other => self.report(other.err()),
            }
        });
    }

    /// Up to `before` and `after` records around record `id` in its source; `None` when the
    /// record is gone (a failure is reported in the banner).
    pub async fn context(self, id: i64, before: u32, after: u32) -> Option<Context> {
        match worker_client::request(Request::Context { id, before, after }).await {
            Ok(Response::Context { context }) => context,
            other => {
                self.report(other.err());
                None
            }
        }
    }

    /// The first `limit` records of trace `trace_id`, in time order; `None` on failure (reported
    /// in the banner).
    pub async fn trace(self, trace_id: String, limit: u32) -> Option<Trace> {
        match worker_client::request(Request::Trace { trace_id, limit }).await {
            Ok(Response::Trace(trace)) => Some(trace),
            other => {
                self.report(other.err());
                None
            }
        }
    }

    /// The first `limit` matches of the current query, in the list's order, as JSON lines:
    /// `(lines, records, complete)`, `complete` false when more matched. `None` on failure
    /// (reported in the banner).
    pub async fn export(self, limit: u32) -> Option<(String, u64, bool)> {
        let request = Request::Export {
            filter: self.filter.get_untracked(),
            order: self.order.get_untracked(),
            limit,
        };
        match worker_client::request(request).await {
            Ok(Response::Exported {
                lines,
                records,
                complete,
            }) => Some((lines, records, complete)),
            other => {
                self.report(other.err());
                None
            }
        }
    }

    /// Exports bundle `bundle` as a bundle archive, unless an export of it is running already.
    /// Its state is in [`Session::bundle_exports`]: running with its progress, then ended
    /// with the note `finish` makes of the answer (the archive's file name, what it holds, and
    /// its bytes; [`WorkerError::Cancelled`] if [`Session::cancel_export`] stopped it).
    pub fn export_bundle(
        self,
        bundle: String,
        finish: impl FnOnce(Result<(BundleArchive, web_sys::Blob), WorkerError>) -> String + 'static,
    ) {
        let started = self.bundle_exports.try_update(|exports| {
            let running = exports.get(&bundle).is_some_and(BundleExportState::running);
            if !running {
                exports.insert(bundle.clone(), BundleExportState::Starting);
            }
            !running
        });
        if started != Some(true) {
            return;
        }
        spawn_local(async move {
            let answer = worker_client::request_blob(Request::ExportBundle {
                bundle: bundle.clone(),
            })
            .await;
            let note = finish(bundle_archive(answer));
            self.bundle_exports.update(|exports| {
                exports.insert(bundle, BundleExportState::Ended(note));
            });
        });
    }

    /// Runs one read-only SQL statement; `Err` says why it did not run (shown by the console,
    /// not in the banner).
    pub async fn console(self, sql: String) -> Result<ConsoleResult, String> {
        match worker_client::request(Request::Console { sql }).await {
            Ok(Response::Console(result)) => Ok(result),
            Ok(other) => Err(format!("unexpected answer: {other:?}")),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Opens the highlighted row in the detail pane.
    pub fn open_at_cursor(self) {
        if let Some(at) = self.cursor.get_untracked() {
            if let Some(id) = self.rows.with_untracked(|rows| rows.get(at).map(|r| r.id)) {
                self.selected.set(Some(id));
            }
        }
    }

    /// Makes `text` the query (as if typed and run).
    pub fn set_query(self, text: String) {
        self.query_text.set(text.clone());
        self.filter.update(|f| f.query = text);
    }

    /// Adds a term to the query: `field:value`, or `-field:value` to exclude.
    pub fn add_term(self, term: String) {
        let current = self.filter.get_untracked().query;
        let text = if current.trim().is_empty() {
            term
        } else {
            format!("{} {term}", current.trim_end())
        };
        self.set_query(text);
    }

    /// Limits the results to a time range (`None`: the whole range).
    pub fn set_range(self, range: Option<(i64, i64)>) {
        self.filter.update(|f| {
            (f.from_nanos, f.to_nanos) = match range {
                Some((from, to)) => (Some(from), Some(to)),
                None => (None, None),
            };
        });
    }

    /// Shows the records around a time gap: its source's records from a little before it to a
    /// little after, with the first record after the silence open in its context.
    pub fn show_gap(self, gap: &Gap) {
        /// Time shown on each side of the gap (nanoseconds).
        const AROUND: i64 = 2 * 60 * 1_000_000_000;
        let query = gap
            .source
            .as_deref()
            .map(|source| format!("source:{}", format::query_value(source)))
            .unwrap_or_default();
        self.query_text.set(query.clone());
        self.filter.set(Filter {
            query,
            from_nanos: Some(gap.from_nanos.saturating_sub(AROUND)),
            to_nanos: Some(gap.to_nanos.saturating_add(AROUND)),
        });
        self.context.set(true);
        self.selected.set(Some(gap.after_id));
    }

    /// Imports the bundle directory at `url` under the name `bundle`; `on_done` gets the
    /// records added, or why the import failed.
    pub fn import_url(
        self,
        url: String,
        bundle: String,
        on_done: impl FnOnce(&str, Result<u64, String>) + 'static,
    ) {
        let request = Request::ImportUrl {
            url,
            bundle: bundle.clone(),
        };
        self.run_import(request, None, bundle, on_done);
    }

    /// Imports segment `files` (JS `File`s) as bundle `bundle`; `on_done` as for
    /// [`import_url`](Self::import_url).
    pub fn import_files(
        self,
        files: js_sys::Array,
        bundle: String,
        on_done: impl FnOnce(&str, Result<u64, String>) + 'static,
    ) {
        let request = Request::ImportFiles {
            bundle: bundle.clone(),
        };
        self.run_import(request, Some(files), bundle, on_done);
    }

    fn run_import(
        self,
        request: Request,
        files: Option<js_sys::Array>,
        bundle: String,
        on_done: impl FnOnce(&str, Result<u64, String>) + 'static,
    ) {
        spawn_local(async move {
            let mut started = None;
            let reply = worker_client::request_tracked(request, files, |id| {
                timing::mark(&format!("trawl:import-start:{bundle}"));
                started = Some(id);
                self.imports.update(|list| {
                    list.push(RunningImport {
                        id,
                        bundle: bundle.clone(),
                        progress: None,
                    })
                });
            })
            .await;
            if let Some(id) = started {
                self.imports.update(|list| list.retain(|i| i.id != id));
            }
            match reply {
                Ok(Response::Imported(summary)) => {
                    timing::mark(&format!("trawl:imported:{bundle}"));
                    self.imported(&summary);
                    on_done(&bundle, Ok(summary.imported));
                }
                Ok(other) => on_done(&bundle, Err(format!("unexpected reply {other:?}"))),
                Err(err) => {
                    on_done(&bundle, Err(err.to_string()));
                    self.report(Some(err));
                }
            }
            self.data_version.update(|v| *v += 1);
        });
    }

    fn imported(self, summary: &ImportSummary) {
        if summary.findings.is_empty() {
            return;
        }
        let mut lines = vec![format!(
            "{}: {} damaged or missing part(s) found; the valid records were imported:",
            summary.bundle,
            summary.findings.len()
        )];
        lines.extend(summary.findings.iter().take(5).cloned());
        self.errors.update(|errors| errors.push(lines.join("\n")));
    }

    /// Takes a bundle export's progress.
    pub fn exporting(self, progress: ExportProgress) {
        self.bundle_exports.update(|exports| {
            if let Some(state) = exports.get_mut(&progress.bundle) {
                if state.running() {
                    *state = BundleExportState::Running(progress);
                }
            }
        });
    }

    /// Stops the bundle export started by request `export`.
    pub fn cancel_export(self, export: RequestId) {
        spawn_local(async move {
            let _ = worker_client::request(Request::CancelExport { export }).await;
        });
    }

    /// Takes an import's progress; refreshes the results when its first records are in, and
    /// then as often as [`RefreshPace`] finds worth the searches' cost while more come.
    pub fn progress(self, progress: ImportProgress) {
        let now = now_ms();
        let due = self
            .refresh_pace
            .with_value(|pace| pace.due(&progress, now));
        if due {
            self.refresh_pace
                .update_value(|pace| pace.refreshing(&progress));
        }
        self.imports.update(|list| {
            if let Some(import) = list.iter_mut().find(|i| i.id == progress.import) {
                import.progress = Some(progress);
            }
        });
        if due {
            self.data_version.update(|v| *v += 1);
        }
    }

    /// Stops import `id` after its current batch.
    pub fn cancel_import(self, id: RequestId) {
        spawn_local(async move {
            let reply = worker_client::request(Request::CancelImport { import: id }).await;
            self.report(reply.err());
        });
    }

    /// Removes a bundle from the store.
    pub fn delete_bundle(self, bundle: String) {
        self.bundle_exports.update(|exports| {
            exports.remove(&bundle);
        });
        spawn_local(async move {
            let reply = worker_client::request(Request::DeleteBundle { bundle }).await;
            self.report(reply.err());
            self.data_version.update(|v| *v += 1);
        });
    }

    fn refresh_library(self) {
        spawn_local(async move {
            match worker_client::request(Request::Library).await {
                Ok(Response::Library { bundles }) => self.library.set(bundles),
                other => return self.report(other.err()),
            }
            match worker_client::request(Request::Status).await {
                Ok(Response::Status(status)) => self.status.set(Some(status)),
                other => self.report(other.err()),
            }
        });
    }

    /// Shows an error in the banner (a superseded search is no error).
    pub fn report(self, err: Option<WorkerError>) {
        if let Some(err) = err.filter(|e| *e != WorkerError::Superseded) {
            let text = err.to_string();
            self.errors.update(|errors| {
                if !errors.contains(&text) {
                    errors.push(text)
                }
            });
        }
    }
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// User Timing marks and measures, for the browser's performance tools and the viewer
/// benchmark (`scripts/bench-viewer.sh`): `trawl:first-results` (the first non-empty page
/// shown since the page loaded), `trawl:import-start:<bundle>` (an import was asked of the
/// worker), `trawl:imported:<bundle>` (an import ended), and a
/// `trawl:search` measure per search (from its `trawl:search-start` mark to its first page)
/// and a `trawl:refresh` measure (to its histogram and facets, the last of its answers).
mod timing {
    use std::cell::Cell;

    thread_local! {
        static MARKED_FIRST: Cell<bool> = const { Cell::new(false) };
    }

    fn performance() -> Option<web_sys::Performance> {
        web_sys::window()?.performance()
    }

    pub fn mark(name: &str) {
        if let Some(p) = performance() {
            let _ = p.mark(name);
        }
    }

    pub fn mark_once(name: &str) {
        if !MARKED_FIRST.replace(true) {
            mark(name);
        }
    }

    /// Measures from the latest mark `start` until now.
    pub fn measure(name: &str, start: &str) {
        if let Some(p) = performance() {
            let _ = p.measure_with_start_mark(name, start);
        }
    }
}

/// The archive in the worker's answer to [`Request::ExportBundle`].
fn bundle_archive(
    answer: Result<(Response, web_sys::Blob), WorkerError>,
) -> Result<(BundleArchive, web_sys::Blob), WorkerError> {
    match answer? {
        (
            Response::BundleExported {
                file_name,
                records,
                segments,
                bytes,
            },
            blob,
        ) => Ok((
            BundleArchive {
                file_name,
                records,
                segments,
                bytes,
            },
            blob,
        )),
        (other, _) => Err(WorkerError::BadRequest {
            message: format!("unexpected answer: {other:?}"),
        }),
    }
}

/// Resolves once what was just set is painted: after the next frame (in a task after it, so the
/// frame's style, layout and paint are done), at once in a hidden tab, which paints none, and
/// after [`PAINT_WAIT_MAX`] at most (a frame may never come: an iframe hidden by its host).
async fn painted() {
    let hidden = web_sys::window()
        .and_then(|window| window.document())
        .is_some_and(|document| document.hidden());
    if hidden {
        return;
    }
    let (done, frame) = futures::channel::oneshot::channel::<()>();
    let done = std::rc::Rc::new(std::cell::Cell::new(Some(done)));
    let send = move || {
        if let Some(done) = done.take() {
            let _ = done.send(());
        }
    };
    let after_frame = send.clone();
    request_animation_frame(move || set_timeout(after_frame, std::time::Duration::ZERO));
    set_timeout(send, PAINT_WAIT_MAX);
    // The sender is dropped unsent only if the page goes away: nothing is waiting then.
    let _ = frame.await;
}
