//! Imports in the background: segments are fetched (or read from dropped files) and put into
//! the store one batch at a time, and the worker goes back to its event loop between batches,
//! so the app's queries are answered while an import runs, and see its records as they land.

mod raw;
mod source;

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
};

use gloo_timers::future::TimeoutFuture;
use trawl_protocol::{FromWorker, ImportProgress, ImportSummary, RequestId, WorkerError};
use trawl_store::{ImportOptions, StoreError};
use wasm_bindgen::JsCast;

pub(crate) use source::Source;
use source::{Download, Opened};

use crate::{service::Service, Outbox};

/// Records per committed batch in the browser: small enough that a batch takes well under a
/// second (the first results appear quickly and the worker answers queries in between), big
/// enough that transaction overhead stays small.
const BATCH_RECORDS: usize = 10_000;
/// Records in the first batch of an import's first segment that adds any; the batches after
/// it double up to [`BATCH_RECORDS`]. The first results show once the first batch is in, and
/// the app's query for them waits for the batch running when it comes; a freshly loaded page
/// runs both on V8's baseline code.
const FIRST_BATCH_RECORDS: usize = 2_000;
/// A batch also ends after this many bytes of segment, so a step reads less than this plus
/// two frames (a frame is a block of about 256 KiB, or one record of up to 4 MiB).
const BATCH_BYTES: u64 = 4 << 20;
/// How far a download is kept ahead of the import: a batch, two of the largest frames, and
/// the reader's own read-ahead.
const DOWNLOAD_AHEAD: usize = 16 << 20;
/// How often an import held back for the app to paint looks whether it was let go.
const HOLD_POLL_MS: f64 = 4.0;

/// A running import's or export's cancel switch, shared between it and the request that stops
/// it.
#[derive(Clone, Default)]
pub(crate) struct CancelFlag(Rc<Cell<bool>>);

impl CancelFlag {
    pub(crate) fn cancel(&self) {
        self.0.set(true);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.0.get()
    }
}

/// Where one import is, for its progress messages.
struct Tracker {
    id: RequestId,
    bundle: String,
    outbox: Outbox,
    started: f64,
    bytes_total: Option<u64>,
    /// Bytes of the segments before the current one.
    bytes_before: u64,
    /// Of the current segment: bytes fetched and imported.
    fetched: u64,
    imported: u64,
    records: u64,
}

impl Tracker {
    fn send(&self, file: &str) {
        self.outbox.send(&FromWorker::Progress(ImportProgress {
            import: self.id,
            bundle: self.bundle.clone(),
            file: file.to_owned(),
            bytes_fetched: self.bytes_before + self.fetched,
            bytes_imported: self.bytes_before + self.imported,
            bytes_total: self.bytes_total,
            records: self.records,
            elapsed_ms: now() - self.started,
        }));
    }

    /// Moves on past a segment of `bytes`.
    fn next_segment(&mut self, bytes: Option<u64>) {
        self.bytes_before += bytes.unwrap_or(self.fetched.max(self.imported));
        self.fetched = 0;
        self.imported = 0;
    }
}

/// Imports every segment of `source` as bundle `bundle`, then reports what it did. Segments
/// the store holds whole are skipped without being fetched. A segment that cannot be read at
/// all is reported like an integrity finding and the others are still imported; a failure of
/// the store (a full disk, an exhausted quota) ends the import with an error naming file and
/// offset. Everything committed stays either way.
pub(crate) async fn run(
    service: &Rc<RefCell<Service>>,
    outbox: &Outbox,
    id: RequestId,
    bundle: String,
    source: Source,
    cancel: CancelFlag,
) -> Result<ImportSummary, WorkerError> {
    let segments = match source.segments().await {
        Ok(segments) => segments,
        // A link reopened offline: the bundle it names is stored already, and that is what
        // the user wants to see.
        Err(err) if matches!(source, Source::Url(_)) && holds_bundle(service, &bundle)? => {
            web_sys::console::info_1(&format!("trawl: using the stored '{bundle}': {err}").into());
            return Ok(ImportSummary {
                bundle,
                imported: 0,
                already_present: 0,
                findings: Vec::new(),
                cancelled: false,
            });
        }
        Err(err) => return Err(err),
    };
    let mut tracker = Tracker {
        id,
        bundle: bundle.clone(),
        outbox: outbox.clone(),
        started: now(),
        bytes_total: segments
            .iter()
            .map(|s| s.bytes)
            .chain(source.raw_files().iter().map(|f| Some(f.size() as u64)))
            .sum(),
        bytes_before: 0,
        fetched: 0,
        imported: 0,
        records: 0,
    };
    let mut summary = ImportSummary {
        bundle: bundle.clone(),
        imported: 0,
        already_present: 0,
        findings: Vec::new(),
        cancelled: false,
    };
    let job = Job {
        service,
        bundle: &bundle,
        cancel: &cancel,
    };
    for segment in &segments {
        if cancel.is_cancelled() {
            break;
        }
        let held = match (&segment.identity, segment.bytes) {
            (Some((writer, seq, salt)), Some(bytes)) => service
                .borrow()
                .store()?
                .has_segment(writer, *seq, salt, bytes)
                .map_err(|err| import_failed(&segment.file, err))?,
            _ => false,
        };
        if held {
            tracker.next_segment(segment.bytes);
            continue;
        }
        let opened = match source.open(segment).await {
            Ok(opened) => opened,
            Err(finding) => {
                summary.findings.push(finding);
                tracker.next_segment(segment.bytes);
                continue;
            }
        };
        import_segment(
            &job,
            &segment.file,
            opened,
            &mut tracker,
            &mut summary,
            true,
        )
        .await?;
        tracker.records = summary.imported;
        tracker.next_segment(segment.bytes);
    }
    for file in source.raw_files() {
        if cancel.is_cancelled() {
            break;
        }
        let size = Some(file.size() as u64);
        let mut raw = match raw::RawSegments::open(&file) {
            Ok(raw) => raw,
            Err(finding) => {
                summary.findings.push(finding);
                tracker.next_segment(size);
                continue;
            }
        };
        web_sys::console::info_1(
            &format!("trawl: {} read as {}", file.name(), raw.format().name()).into(),
        );
        while !cancel.is_cancelled() {
            match raw.next_segment() {
                Ok(Some((label, bytes))) => {
                    let opened = Opened::File(Box::new(std::io::Cursor::new(bytes)));
                    import_segment(&job, &label, opened, &mut tracker, &mut summary, false).await?;
                    tracker.imported = raw.bytes_read;
                    tracker.send(&label);
                }
                Ok(None) => break,
                Err(finding) => {
                    summary.findings.push(finding);
                    break;
                }
            }
        }
        tracker.next_segment(size);
    }
    summary.cancelled = cancel.is_cancelled();
    tracker.send("");
    Ok(summary)
}

/// What every segment of one import shares.
struct Job<'a> {
    service: &'a Rc<RefCell<Service>>,
    bundle: &'a str,
    cancel: &'a CancelFlag,
}

/// Imports one segment (`file` names it in reports) a batch at a time, going back to the
/// event loop between batches. A segment that cannot be read becomes a finding; a failure of
/// the store is an error.
async fn import_segment(
    job: &Job<'_>,
    file: &str,
    opened: Opened,
    tracker: &mut Tracker,
    summary: &mut ImportSummary,
    offsets_are_file_bytes: bool,
) -> Result<(), WorkerError> {
    let Job {
        service,
        bundle,
        cancel,
    } = *job;
    let (reader, mut download) = match opened {
        Opened::File(reader) => (reader, None),
        Opened::Download(download) => (download.reader(), Some(download)),
    };
    // A download is kept a batch and a frame ahead of the import (`DOWNLOAD_AHEAD`).
    let keep_ahead = async |download: &mut Option<Download>, tracker: &mut Tracker| {
        let Some(download) = download else {
            return Ok(true);
        };
        let filled = download.fill(DOWNLOAD_AHEAD, cancel).await;
        tracker.fetched = download.fetched;
        tracker.send(file);
        filled
    };
    match keep_ahead(&mut download, tracker).await {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(finding) => {
            summary.findings.push(finding);
            return Ok(());
        }
    }
    let options = ImportOptions {
        batch_records: BATCH_RECORDS,
        // Only the import's first records wait to be shown.
        first_batch_records: (summary.imported == 0).then_some(FIRST_BATCH_RECORDS),
        batch_bytes: BATCH_BYTES,
    };
    let began = service
        .borrow_mut()
        .store_mut()?
        .begin_segment(bundle, file, reader, options);
    let mut import = match began {
        Ok(import) => import,
        Err(err @ StoreError::Read(_)) => {
            summary.findings.push(err.to_string());
            return Ok(());
        }
        Err(err) => return Err(import_failed(file, err)),
    };
    let imported_before = summary.imported;
    while !cancel.is_cancelled() {
        match keep_ahead(&mut download, tracker).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(finding) => {
                // What was imported stays; importing the bundle again resumes here.
                summary.findings.push(finding);
                break;
            }
        }
        let step = {
            let mut service = service.borrow_mut();
            import.step(service.store_mut()?)
        };
        match step {
            Ok(Some(progress)) => {
                tracker.records = imported_before + progress.records;
                if offsets_are_file_bytes {
                    tracker.imported = progress.offset;
                }
                tracker.send(file);
            }
            Ok(None) => break,
            Err(err @ StoreError::Read(_)) => {
                summary.findings.push(err.to_string());
                break;
            }
            Err(err) => return Err(import_failed(file, err)),
        }
        // Back to the event loop: queries sent meanwhile are answered now; and if one of them
        // was a first page or a total, the next batch waits for the app to paint the answers.
        TimeoutFuture::new(0).await;
        loop {
            let hold = service.borrow().import_hold_ms();
            if hold <= 0.0 {
                break;
            }
            TimeoutFuture::new(hold.min(HOLD_POLL_MS).ceil() as u32).await;
        }
    }
    let report = import.report();
    summary.imported += report.imported;
    summary.already_present += report.already_present;
    summary
        .findings
        .extend(report.findings.iter().map(ToString::to_string));
    tracker.records = summary.imported;
    Ok(())
}

fn holds_bundle(service: &Rc<RefCell<Service>>, bundle: &str) -> Result<bool, WorkerError> {
    let bundles = service
        .borrow()
        .store()?
        .bundles()
        .map_err(|err| import_failed("", err))?;
    Ok(bundles.iter().any(|b| b.name == bundle))
}

fn import_failed(file: &str, err: StoreError) -> WorkerError {
    match err {
        StoreError::Import {
            file,
            offset,
            source,
        } => WorkerError::Import {
            file,
            offset,
            message: quota_hint(source.to_string()),
        },
        other => WorkerError::Import {
            file: file.to_owned(),
            offset: 0,
            message: quota_hint(other.to_string()),
        },
    }
}

/// SQLite says "database or disk is full" when the browser's storage quota runs out: say so.
fn quota_hint(message: String) -> String {
    if message.contains("full") {
        format!(
            "{message}: the browser's storage quota for this site is used up; delete bundles \
             from the library to make room (what was imported so far is kept)"
        )
    } else {
        message
    }
}

/// Milliseconds on the worker's monotonic clock.
pub(crate) fn now() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|scope| scope.performance())
        .map_or(0.0, |p| p.now())
}
