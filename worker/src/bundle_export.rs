//! A stored bundle handed to the app as a bundle archive (a `Blob` holding a tar of the
//! bundle directory), built a step at a time with queries answered in between: the worker's
//! memory holds one segment and its archive entry; the archive itself accumulates in the
//! browser's blob storage.

use std::{cell::RefCell, rc::Rc};

use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Uint8Array};
use trawl_bundle::archive::{ArchiveWriter, EXTENSION};
use trawl_protocol::{ExportProgress, FromWorker, RequestId, Response, WorkerError};
use trawl_store::ExportStep;
use web_sys::{Blob, BlobPropertyBag};

use crate::{
    import::CancelFlag,
    service::{store_error, Service},
    Outbox,
};

/// Records encoded per step: a few tens of milliseconds of work, so queries sent during an
/// export wait no longer than that.
const STEP_RECORDS: usize = 5_000;

/// Bundle `bundle` of the service's store as an archive, and the reply that describes it.
/// Runs a step at a time, back to the event loop in between (queries are answered there),
/// sending [`FromWorker::Exporting`] after each step; stops with [`WorkerError::Cancelled`]
/// once `cancel` is set.
pub(crate) async fn run(
    service: &Rc<RefCell<Service>>,
    outbox: &Outbox,
    id: RequestId,
    bundle: &str,
    cancel: &CancelFlag,
) -> Result<(Response, Blob), WorkerError> {
    let mut export = service
        .borrow()
        .store()?
        .begin_bundle_export(bundle)
        .map_err(store_error)?;
    let parts = Array::new();
    let mut bytes = 0u64;
    let mut archive = ArchiveWriter::new(Vec::new(), bundle, now_seconds());
    let mut hand_over = |written: &mut Vec<u8>| {
        bytes += written.len() as u64;
        parts.push(&Uint8Array::from(&written[..]));
        written.clear();
        written.shrink_to(0);
    };
    let manifest = loop {
        if cancel.is_cancelled() {
            return Err(WorkerError::Cancelled);
        }
        let step = export.step(service.borrow().store()?, STEP_RECORDS);
        match step.map_err(store_error)? {
            ExportStep::Records => {}
            ExportStep::File(file) => {
                archive
                    .add(&file.name, &file.bytes)
                    .map_err(|err| WorkerError::Store {
                        message: format!("{}: {err}", file.name),
                    })?;
                drop(file);
                hand_over(archive.get_mut());
            }
            ExportStep::Done(manifest) => break manifest,
        }
        outbox.send(&FromWorker::Exporting(ExportProgress {
            export: id,
            bundle: bundle.to_owned(),
            records: export.records_done(),
            records_total: export.records_total(),
        }));
        // Back to the event loop: queries sent meanwhile are answered now.
        TimeoutFuture::new(0).await;
    };
    let mut end = archive.finish().map_err(|err| WorkerError::Store {
        message: err.to_string(),
    })?;
    hand_over(&mut end);
    let options = BlobPropertyBag::new();
    options.set_type("application/x-tar");
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|err| {
        WorkerError::Store {
            message: format!("the browser could not hold the archive: {err:?}"),
        }
    })?;
    Ok((
        Response::BundleExported {
            file_name: format!("{}{EXTENSION}", file_stem(bundle)),
            records: manifest.record_count,
            segments: manifest.segments.len() as u64,
            bytes,
        },
        blob,
    ))
}

/// The bundle's name as a file name: what a file system would refuse becomes `_`.
fn file_stem(bundle: &str) -> String {
    let stem: String = bundle
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    match stem.trim_matches('.') {
        "" => "bundle".to_owned(),
        _ => stem,
    }
}

fn now_seconds() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
