//! trawl's record model, bundle and segment format, durable writer, reader and recovery.
//!
//! - [`Record`]: one log record and its compact, versioned encoding.
//! - [`Writer`]: appends records to a bundle directory durably: CRC32C-framed blocks, group
//!   commit, atomic rotation, retention, crash recovery on open ([`RecoveryReport`]).
//! - [`SegmentReader`]: streams the records of one segment from any byte source, proving
//!   every frame valid and in order and reporting every problem with its file and offset.
//! - [`Manifest`]: the bundle's summary.
//! - [`archive`]: a bundle directory as one tar file, to carry it as a single download.
//! - With features `tracing` and `log`: [`integrations`] to log from a service through the
//!   writer.
//!
//! `FORMAT.md` beside this crate specifies the bytes. The guarantees, each tested:
//! a record whose append (or sync) returned `Ok` is never lost; a record read back is
//! byte-identical to the one appended, and what is read back is an unbroken prefix of what
//! was appended; a failed write or sync is never retried or reported as success.

pub mod archive;
pub mod block;
pub mod format;
pub mod fs;
#[cfg(all(any(feature = "tracing", feature = "log"), not(target_arch = "wasm32")))]
pub mod integrations;
pub mod manifest;
pub mod memory;
pub mod reader;
pub mod record;
// Writing happens natively; in the browser only reading is needed (and possible).
#[cfg(not(target_arch = "wasm32"))]
mod recovery;
#[cfg(not(target_arch = "wasm32"))]
mod segment;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(not(target_arch = "wasm32"))]
mod writer;

use std::{path::PathBuf, sync::Arc};

pub use format::{Footer, SegmentHeader, WriterId};
pub use manifest::{Manifest, SegmentEntry};
pub use reader::{Finding, Item, ReadError, SegmentEnd, SegmentReader};
pub use record::{Level, Record};
#[cfg(not(target_arch = "wasm32"))]
pub use recovery::{RecoveryReport, Truncation};
#[cfg(not(target_arch = "wasm32"))]
pub use writer::{Closed, Durability, Options, Retention, Writer, LOCK_FILE};

/// The segment files of bundle directory `dir`, in sequence order.
pub fn segment_files(fs: &dyn fs::Fs, dir: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<(u64, String)> = fs
        .list(dir)?
        .into_iter()
        .filter_map(|name| format::parse_segment_file_name(&name).map(|seq| (seq, name)))
        .collect();
    names.sort();
    Ok(names.into_iter().map(|(_, name)| name).collect())
}

/// Why the writer failed.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// Another writer holds the directory's lock.
    #[error("{}: another writer has this bundle open (its LOCK file is locked)", dir.display())]
    Locked { dir: PathBuf },
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A segment other than the live tail is damaged: recovery refuses to guess.
    #[error("{file}: damaged at offset {offset}: {reason}")]
    Corrupt {
        file: String,
        offset: u64,
        reason: String,
    },
    /// An earlier write or sync failed; the writer accepts nothing more. Records not durable
    /// before the failure never become durable through this writer.
    #[error("the writer stopped after an I/O error: {0}")]
    Poisoned(Arc<str>),
    /// The writer is closed or closing.
    #[error("the writer is closed")]
    Closed,
}
