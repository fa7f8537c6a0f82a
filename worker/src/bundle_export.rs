//! A stored bundle handed to the app as a bundle archive (a `Blob` holding a tar of the
//! bundle directory), built a segment at a time: the worker's memory holds one segment and
//! its archive entry; the archive itself accumulates in the browser's blob storage.

use js_sys::{Array, Uint8Array};
use trawl_bundle::archive::{ArchiveWriter, EXTENSION};
use trawl_protocol::{Response, WorkerError};
use trawl_store::{Store, StoreError};
use web_sys::{Blob, BlobPropertyBag};

/// Why an export stopped.
enum Failed {
    Store(StoreError),
    Browser(String),
}

impl From<StoreError> for Failed {
    fn from(err: StoreError) -> Self {
        Failed::Store(err)
    }
}

/// Bundle `bundle` of `store` as an archive, and the reply that describes it.
pub(crate) fn export(store: &Store, bundle: &str) -> Result<(Response, Blob), WorkerError> {
    let parts = Array::new();
    let mut bytes = 0u64;
    let mut archive = ArchiveWriter::new(Vec::new(), bundle, now_seconds());
    let mut hand_over = |written: &mut Vec<u8>| {
        bytes += written.len() as u64;
        parts.push(&Uint8Array::from(&written[..]));
        written.clear();
        written.shrink_to(0);
    };
    let manifest = store
        .export_bundle::<Failed>(bundle, |file| {
            archive
                .add(&file.name, &file.bytes)
                .map_err(|err| Failed::Browser(format!("{}: {err}", file.name)))?;
            drop(file);
            hand_over(archive.get_mut());
            Ok(())
        })
        .map_err(|failed| match failed {
            Failed::Store(err) => WorkerError::Store {
                message: err.to_string(),
            },
            Failed::Browser(message) => WorkerError::Store { message },
        })?;
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
