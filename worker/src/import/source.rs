//! Where an import's segments come from: a bundle directory served over HTTP (its manifest
//! lists the segments), or files the user picked or dropped.

use std::{
    cell::RefCell,
    io::{self, BufReader, Read},
    rc::Rc,
};

use js_sys::{Reflect, Uint8Array};
use trawl_bundle::{archive, format::parse_segment_file_name, Manifest, SegmentHeader};
use trawl_protocol::WorkerError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, File, FileReaderSync, ReadableStreamDefaultReader, Response, WorkerGlobalScope,
};

use super::CancelFlag;

/// Bytes read from a file per call into the browser: big enough that the calls' overhead
/// vanishes, small enough not to matter for memory.
const FILE_CHUNK: usize = 4 << 20;

/// The segments of one bundle, to be imported in order.
pub(crate) enum Source {
    /// A bundle directory URL, ending in `/`.
    Url(String),
    /// Files from a picker or a drop; those not named like segments are ignored.
    Files(Vec<File>),
}

/// One segment of a [`Source`].
pub(crate) struct Segment {
    /// The segment's file name.
    pub(crate) file: String,
    /// Its size, when known before reading it.
    pub(crate) bytes: Option<u64>,
    /// `(writer_id, segment_seq, salt)` as the manifest writes them, when known before
    /// reading it: lets the importer skip a segment the store already holds whole.
    pub(crate) identity: Option<(String, u64, String)>,
    handle: Handle,
}

enum Handle {
    Url(String),
    /// A segment file, or a segment's bytes inside a bundle archive.
    Blob(Blob),
}

/// A segment's bytes, ready for the importer.
pub(crate) type SegmentBytes = Box<dyn Read>;

impl Source {
    /// Lists the segments, in sequence order.
    pub(crate) async fn segments(&self) -> Result<Vec<Segment>, WorkerError> {
        match self {
            Source::Url(base) => {
                let manifest_url = join(base, trawl_bundle::manifest::MANIFEST_FILE)?;
                let response =
                    fetch(&manifest_url)
                        .await
                        .map_err(|message| WorkerError::Import {
                            file: manifest_url.clone(),
                            offset: 0,
                            message,
                        })?;
                let text = JsFuture::from(response.text().map_err(describe_import(&manifest_url))?)
                    .await
                    .map_err(describe_import(&manifest_url))?
                    .as_string()
                    .unwrap_or_default();
                let manifest: Manifest =
                    serde_json::from_str(&text).map_err(|err| WorkerError::Import {
                        file: manifest_url.clone(),
                        offset: 0,
                        message: format!(
                            "not a bundle manifest ({err}): expected the manifest.json of a \
                             bundle directory written by `trawl ingest`"
                        ),
                    })?;
                manifest
                    .segments
                    .into_iter()
                    .map(|entry| {
                        Ok(Segment {
                            handle: Handle::Url(join(base, &entry.file)?),
                            identity: Some((
                                manifest.writer_id.clone(),
                                entry.segment_seq,
                                entry.salt,
                            )),
                            bytes: Some(entry.bytes),
                            file: entry.file,
                        })
                    })
                    .collect()
            }
            Source::Files(files) => {
                let mut segments: Vec<(u64, Segment)> = Vec::new();
                for file in files {
                    let name = file.name();
                    if name.ends_with(archive::EXTENSION) {
                        segments.extend(archived_segments(file)?);
                        continue;
                    }
                    let Some(seq) = parse_segment_file_name(&name) else {
                        continue;
                    };
                    segments.push((
                        seq,
                        Segment {
                            identity: blob_identity(file),
                            bytes: Some(file.size() as u64),
                            file: name,
                            handle: Handle::Blob(file.clone().into()),
                        },
                    ));
                }
                let raw = files.iter().any(|f| super::raw::is_raw_log(&f.name()));
                if segments.is_empty() && !raw && !files.is_empty() {
                    return Err(WorkerError::Import {
                        file: files[0].name(),
                        offset: 0,
                        message: "nothing to import here: expected log files, or a bundle \
                                  directory written by `trawl ingest` (files named like \
                                  00000000000000000001.seg)"
                            .into(),
                    });
                }
                segments.sort_by_key(|(seq, _)| *seq);
                Ok(segments.into_iter().map(|(_, s)| s).collect())
            }
        }
    }

    /// The raw log files among the files (none for a URL), by name.
    pub(crate) fn raw_files(&self) -> Vec<File> {
        let Source::Files(files) = self else {
            return Vec::new();
        };
        let mut raw: Vec<File> = files
            .iter()
            .filter(|f| super::raw::is_raw_log(&f.name()))
            .cloned()
            .collect();
        raw.sort_by_key(File::name);
        raw
    }

    /// The bytes of `segment`, as the importer asks for them: read from its file, or
    /// downloaded as a [`Download`] that the importer keeps ahead of itself. An error is a
    /// sentence naming the segment, to report with the import's findings.
    pub(crate) async fn open(&self, segment: &Segment) -> Result<Opened, String> {
        match &segment.handle {
            Handle::Blob(blob) => {
                let reader = BlobReader::new(blob.clone())
                    .map_err(|err| format!("{}: cannot be read: {err}", segment.file))?;
                Ok(Opened::File(Box::new(BufReader::with_capacity(
                    FILE_CHUNK, reader,
                ))))
            }
            Handle::Url(url) => {
                let fail = |message: String| format!("{}: {message}", segment.file);
                let response = fetch(url).await.map_err(fail)?;
                let body = response
                    .body()
                    .ok_or_else(|| fail("the response has no body".into()))?;
                Ok(Opened::Download(Download {
                    file: segment.file.clone(),
                    body: body.get_reader().unchecked_into(),
                    buffer: Rc::new(RefCell::new(Buffer::default())),
                    fetched: 0,
                }))
            }
        }
    }
}

/// A segment ready to import.
pub(crate) enum Opened {
    /// A file, read as the importer asks.
    File(SegmentBytes),
    /// A download, read from the network as [`Download::fill`] is called.
    Download(Download),
}

/// A segment being downloaded: the importer reads it from a buffer that [`fill`](Self::fill)
/// keeps a little ahead of it, so the import starts after the first megabytes rather than
/// after the whole segment, and memory holds a few megabytes of it rather than all of it.
pub(crate) struct Download {
    file: String,
    body: ReadableStreamDefaultReader,
    buffer: Rc<RefCell<Buffer>>,
    /// Bytes downloaded so far.
    pub(crate) fetched: u64,
}

impl Download {
    /// The importer's side: reads what has been downloaded.
    pub(crate) fn reader(&self) -> SegmentBytes {
        Box::new(BufferReader(self.buffer.clone()))
    }

    /// Downloads until `ahead` bytes wait unread, or the segment is whole. `Ok(false)` when
    /// cancelled meanwhile.
    pub(crate) async fn fill(&mut self, ahead: usize, cancel: &CancelFlag) -> Result<bool, String> {
        loop {
            {
                let buffer = self.buffer.borrow();
                if buffer.done || buffer.unread() >= ahead {
                    return Ok(true);
                }
            }
            if cancel.is_cancelled() {
                let _ = self.body.cancel();
                return Ok(false);
            }
            let chunk = JsFuture::from(self.body.read())
                .await
                .map_err(|err| format!("{}: download failed: {}", self.file, describe(err)))?;
            let done = Reflect::get(&chunk, &JsValue::from_str("done"))
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            let mut buffer = self.buffer.borrow_mut();
            if done {
                buffer.done = true;
                continue;
            }
            let value = Reflect::get(&chunk, &JsValue::from_str("value"))
                .map_err(|err| format!("{}: {}", self.file, describe(err)))?;
            let array: Uint8Array = value.unchecked_into();
            buffer.push(&array);
            self.fetched += u64::from(array.length());
        }
    }
}

/// Downloaded bytes not yet read by the importer.
#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    /// Where the importer is in `bytes`.
    read: usize,
    /// Whether the download is whole.
    done: bool,
}

impl Buffer {
    fn unread(&self) -> usize {
        self.bytes.len() - self.read
    }

    fn push(&mut self, chunk: &Uint8Array) {
        // Drop what the importer has read once it is worth moving the rest.
        if self.read >= COMPACT_AFTER && self.read * 2 >= self.bytes.len() {
            self.bytes.drain(..self.read);
            self.read = 0;
        }
        let at = self.bytes.len();
        self.bytes.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut self.bytes[at..]);
    }
}

/// Bytes the importer has read before the buffer drops them.
const COMPACT_AFTER: usize = 4 << 20;

struct BufferReader(Rc<RefCell<Buffer>>);

impl Read for BufferReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut buffer = self.0.borrow_mut();
        let n = out.len().min(buffer.unread());
        if n == 0 && !buffer.done && !out.is_empty() {
            // The importer is kept a whole batch and frame behind the download: this is a bug.
            return Err(io::Error::other("the import overtook the download"));
        }
        let from = buffer.read;
        out[..n].copy_from_slice(&buffer.bytes[from..from + n]);
        buffer.read += n;
        Ok(n)
    }
}

/// Reads the header of a segment file for its identity; `None` if it has none.
fn blob_identity(blob: &Blob) -> Option<(String, u64, String)> {
    let mut reader = BlobReader::new(blob.clone()).ok()?;
    let mut header = [0u8; trawl_bundle::format::HEADER_LEN];
    reader.read_exact(&mut header).ok()?;
    let header = SegmentHeader::decode(&header).ok()?;
    Some((
        header.writer_id.to_string(),
        header.segment_seq,
        format!("{:016x}", header.salt),
    ))
}

/// The segments inside bundle archive `file` (as the viewer's bundle export writes it), each
/// a slice of the file: listing them reads the entries' headers, not their bytes.
fn archived_segments(file: &File) -> Result<Vec<(u64, Segment)>, WorkerError> {
    let name = file.name();
    let fail = |message: String| WorkerError::Import {
        file: name.clone(),
        offset: 0,
        message,
    };
    let reader = BlobReader::new(file.clone().into()).map_err(fail)?;
    let listed = archive::segments(reader).map_err(|err| {
        fail(format!(
            "not a bundle archive ({err}): expected a .tar of a bundle directory, as the \
             viewer's bundle export saves it"
        ))
    })?;
    let mut segments = Vec::with_capacity(listed.len());
    for entry in listed {
        let Some(seq) = parse_segment_file_name(&entry.name) else {
            continue;
        };
        let end = entry.offset + entry.size;
        let blob = file
            .slice_with_f64_and_f64(entry.offset as f64, end as f64)
            .map_err(|err| fail(describe(err)))?;
        segments.push((
            seq,
            Segment {
                identity: blob_identity(&blob),
                bytes: Some(entry.size),
                file: format!("{name}:{}", entry.name),
                handle: Handle::Blob(blob),
            },
        ));
    }
    Ok(segments)
}

/// Reads a `Blob` front to back with `FileReaderSync` (dedicated workers may block on it).
pub(crate) struct BlobReader {
    blob: Blob,
    position: f64,
    size: f64,
    reader: FileReaderSync,
}

impl BlobReader {
    pub(crate) fn new(blob: Blob) -> Result<Self, String> {
        Ok(Self {
            size: blob.size(),
            blob,
            position: 0.0,
            reader: FileReaderSync::new().map_err(describe)?,
        })
    }
}

impl io::Seek for BlobReader {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let position = match to {
            io::SeekFrom::Start(at) => at as f64,
            io::SeekFrom::End(delta) => self.size + delta as f64,
            io::SeekFrom::Current(delta) => self.position + delta as f64,
        };
        if position < 0.0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            ));
        }
        self.position = position;
        Ok(position as u64)
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min(FILE_CHUNK) as f64;
        let end = (self.position + want).min(self.size);
        if end <= self.position {
            return Ok(0);
        }
        let part = self
            .blob
            .slice_with_f64_and_f64(self.position, end)
            .and_then(|part| self.reader.read_as_array_buffer(&part))
            .map_err(|err| io::Error::other(describe(err)))?;
        let array = Uint8Array::new(&part);
        let n = array.length() as usize;
        array.copy_to(&mut buf[..n]);
        self.position += n as f64;
        Ok(n)
    }
}

/// Fetches `url`, failing on network errors and HTTP error statuses.
async fn fetch(url: &str) -> Result<Response, String> {
    let scope: WorkerGlobalScope = js_sys::global().unchecked_into();
    let response: Response = JsFuture::from(scope.fetch_with_str(url))
        .await
        .map_err(|err| format!("cannot be fetched from {url}: {}", describe(err)))?
        .unchecked_into();
    if !response.ok() {
        return Err(format!(
            "cannot be fetched from {url}: HTTP {} {}",
            response.status(),
            response.status_text()
        ));
    }
    Ok(response)
}

/// `name` resolved against the directory URL `base`.
fn join(base: &str, name: &str) -> Result<String, WorkerError> {
    web_sys::Url::new_with_base(name, base)
        .map(|url| url.href())
        .map_err(|err| WorkerError::BadRequest {
            message: format!("'{base}' is not a usable bundle URL: {}", describe(err)),
        })
}

fn describe_import(file: &str) -> impl Fn(JsValue) -> WorkerError + '_ {
    move |err| WorkerError::Import {
        file: file.to_owned(),
        offset: 0,
        message: describe(err),
    }
}

fn describe(value: JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}
