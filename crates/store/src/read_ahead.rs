//! Reading a segment ahead of its import, on a second thread (native builds only).
//!
//! Checking the frames, decoding their records, extracting the text their fields add to the
//! full-text index, and freeing them once committed is about a fifth of an import's work, and
//! none of it needs the database: while one batch goes into SQLite, the thread reads the
//! next. The browser's store worker has one thread, and imports a batch at a time with
//! [`SegmentImport::step`](crate::SegmentImport::step).

use std::io::Read;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, Scope, ScopedJoinHandle};

use trawl_bundle::{ReadError, SegmentEnd, SegmentReader};

use crate::import::{Frame, Frames, Pending};

/// Frames go to the importing thread in chunks of at least this many records (or the last
/// frames of the segment), so a segment of small frames costs a message per chunk, not per
/// frame.
const CHUNK_RECORDS: usize = 1024;

type Chunk = Vec<Result<Frame, ReadError>>;

/// A segment's frames, read by another thread at most about `ahead` records ahead of the
/// importing thread. Dropping it stops the reading thread at its next chunk.
pub(crate) struct ReadAhead<'scope> {
    chunks: Receiver<Chunk>,
    chunk: std::vec::IntoIter<Result<Frame, ReadError>>,
    /// Committed batches, going back to be freed by the thread that allocated them: freeing
    /// a record on another thread cost the importing thread 4% of an import (mimalloc).
    committed: Sender<Vec<Pending>>,
    /// Gives what the reader's `finish` gave, or `None` if it stopped early (after sending
    /// an error, or because this side is gone).
    reading: ScopedJoinHandle<'scope, Option<Result<SegmentEnd, ReadError>>>,
}

impl<'scope> ReadAhead<'scope> {
    /// Starts reading `reader` to its end on a thread of `scope`, keeping at most about
    /// `ahead` records (rounded up to whole chunks) read and not yet taken. Fails only if the
    /// system has no thread to give.
    pub(crate) fn spawn<'env, R: Read + Send + 'scope>(
        scope: &'scope Scope<'scope, 'env>,
        mut reader: SegmentReader<R>,
        ahead: usize,
    ) -> std::io::Result<Self> {
        let (send, chunks) = mpsc::sync_channel::<Chunk>(ahead.div_ceil(CHUNK_RECORDS).max(1));
        let (committed, to_free) = mpsc::channel::<Vec<Pending>>();
        let reading = thread::Builder::new()
            .name("trawl-read-ahead".into())
            .spawn_scoped(scope, move || {
                let mut chunk = Vec::new();
                let mut records = 0;
                while let Some(item) = reader.next() {
                    let mut frame = item.map(Frame::from);
                    if let Ok(Frame::Records { records: read, .. }) = &mut frame {
                        read.iter_mut().for_each(Pending::extract_field_values);
                        records += read.len();
                    }
                    let failed = frame.is_err();
                    chunk.push(frame);
                    if failed || records >= CHUNK_RECORDS {
                        if send.send(std::mem::take(&mut chunk)).is_err() || failed {
                            return None;
                        }
                        records = 0;
                        to_free.try_iter().for_each(drop);
                    }
                }
                if !chunk.is_empty() && send.send(chunk).is_err() {
                    return None;
                }
                drop(send);
                let end = reader.finish();
                // Until the importing side is done with its last batches.
                to_free.iter().for_each(drop);
                Some(end)
            })?;
        Ok(Self {
            chunks,
            chunk: Vec::new().into_iter(),
            committed,
            reading,
        })
    }
}

impl Frames for ReadAhead<'_> {
    fn next_frame(&mut self) -> Option<Result<Frame, ReadError>> {
        loop {
            if let Some(frame) = self.chunk.next() {
                return Some(frame);
            }
            // Disconnected: the thread is done, having sent everything it read.
            self.chunk = self.chunks.recv().ok()?.into_iter();
        }
    }

    fn recycle(&mut self, committed: Vec<Pending>) {
        // If the thread is done reading, they are freed here.
        let _ = self.committed.send(committed);
    }

    fn finish(self) -> Result<SegmentEnd, ReadError> {
        let Self {
            chunks,
            committed,
            reading,
            ..
        } = self;
        drop((chunks, committed));
        match reading.join() {
            Ok(Some(end)) => end,
            // The thread stops early only after sending an error, which ends the import
            // before it asks for the segment's end.
            Ok(None) => unreachable!("the segment's end is asked for after its last frame"),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
