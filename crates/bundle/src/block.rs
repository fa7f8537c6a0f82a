//! Record blocks: the payload of a records frame. A block is the records' encodings, each
//! prefixed by its length as a varint, stored either as is or as one zstd frame.

use std::io::Read;

use crate::{
    format::Codec,
    record::{put_varint, take_varint, Record, RecordError},
};

/// Blocks smaller than this are stored uncompressed: zstd gains little on them and costs
/// latency on the per-record durability path.
pub const COMPRESS_MIN_BYTES: usize = 4 << 10;
/// The largest decoded block a reader accepts (guards against decompression bombs).
pub const MAX_BLOCK_BYTES: usize = 256 << 20;
/// zstd level the writer uses. The writer benchmark (`cargo bench -p trawl-bundle --bench
/// writer`) prints the ratios of levels 1, 3 and 6 on the sample logs; level 1 is the fastest of
/// them, and faster settings lose more size than they gain speed (on 100 MB of generated JSON
/// lines, `zstd --fast=3` compresses 1.2x faster for 29% more bytes).
pub const ZSTD_LEVEL: i32 = 1;

/// Why a block cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    #[error("zstd: {0}")]
    Zstd(String),
    #[error("decoded block exceeds {MAX_BLOCK_BYTES} bytes")]
    TooLarge,
    #[error("block holds {found} records, its frame says {expected}")]
    Count { found: u32, expected: u32 },
    #[error("record {index} of the block: {error}")]
    Record { index: u32, error: RecordError },
}

/// Accumulates records into a block. Reuse one builder: its buffers and its compression
/// context are kept between blocks.
pub struct BlockBuilder {
    bytes: Vec<u8>,
    count: u32,
    scratch: Vec<u8>,
    /// Whether blocks are compressed (when large enough and it helps).
    compress: bool,
    #[cfg(not(target_arch = "wasm32"))]
    compressor: Option<zstd::bulk::Compressor<'static>>,
}

impl std::fmt::Debug for BlockBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockBuilder")
            .field("bytes", &self.bytes.len())
            .field("count", &self.count)
            .finish()
    }
}

impl Default for BlockBuilder {
    /// A builder that compresses blocks with zstd when that makes them smaller.
    fn default() -> Self {
        Self::with_codec(Codec::Zstd)
    }
}

impl BlockBuilder {
    /// A builder whose blocks are stored with `codec` when it makes them smaller, else as
    /// they are. [`Codec::None`] stores every block as it is: for segments made only to be
    /// read back at once, where compressing is wasted work.
    pub fn with_codec(codec: Codec) -> Self {
        Self {
            bytes: Vec::new(),
            count: 0,
            scratch: Vec::new(),
            compress: codec == Codec::Zstd,
            #[cfg(not(target_arch = "wasm32"))]
            compressor: None,
        }
    }

    /// Adds `record`.
    pub fn push(&mut self, record: &Record) {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        record.encode(&mut scratch);
        self.push_encoded(&scratch);
        self.scratch = scratch;
    }

    /// Adds an already encoded record.
    pub fn push_encoded(&mut self, encoded: &[u8]) {
        put_varint(&mut self.bytes, encoded.len() as u64);
        self.bytes.extend_from_slice(encoded);
        self.count += 1;
    }

    /// Appends `record` to `out` in block form (length-prefixed), ready for
    /// [`BlockBuilder::push_block_bytes`].
    pub fn encode_into(record: &Record, out: &mut Vec<u8>) {
        let len = record.encoded_len();
        put_varint(out, len as u64);
        out.reserve(len);
        record.encode(out);
    }

    /// Adds one record given in block form, as [`BlockBuilder::encode_into`] writes it.
    pub fn push_block_bytes(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.count += 1;
    }

    /// Records added so far.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Uncompressed bytes so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether no record was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The stored payload and its codec: zstd when the block is large enough and it helps.
    /// Clears the builder for reuse.
    pub fn finish(&mut self) -> (Codec, Vec<u8>) {
        let mut out = Vec::new();
        let codec = self.finish_into(&mut out);
        (codec, out)
    }

    /// Like [`BlockBuilder::finish`], writing the payload into `out` (cleared first), so both
    /// buffers keep their capacity for the next block.
    pub fn finish_into(&mut self, out: &mut Vec<u8>) -> Codec {
        self.count = 0;
        out.clear();
        let codec =
            if self.compress && self.bytes.len() >= COMPRESS_MIN_BYTES && self.compress_into(out) {
                Codec::Zstd
            } else {
                out.clear();
                out.extend_from_slice(&self.bytes);
                Codec::None
            };
        self.bytes.clear();
        codec
    }

    /// Compresses the block into `out`; false if that failed or did not make it smaller.
    #[cfg(not(target_arch = "wasm32"))]
    fn compress_into(&mut self, out: &mut Vec<u8>) -> bool {
        if self.compressor.is_none() {
            self.compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
        }
        let Some(compressor) = &mut self.compressor else {
            return false;
        };
        out.reserve(zstd::zstd_safe::compress_bound(self.bytes.len()));
        compressor.compress_to_buffer(&self.bytes, out).is_ok() && out.len() < self.bytes.len()
    }

    /// In the browser (a bundle exported from the viewer's store) the pure-Rust encoder at
    /// its fastest level: the C library is not built for the browser.
    #[cfg(target_arch = "wasm32")]
    fn compress_into(&mut self, out: &mut Vec<u8>) -> bool {
        *out = ruzstd::encoding::compress_to_vec(
            &self.bytes[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        out.len() < self.bytes.len()
    }
}

/// Decodes a stored payload into the block's bytes.
pub fn decode_payload(codec: Codec, stored: &[u8]) -> Result<Vec<u8>, BlockError> {
    match codec {
        Codec::None => Ok(stored.to_vec()),
        Codec::Zstd => decode_zstd(stored),
    }
}

/// Natively the reference C decoder when the frame states its size (the writer's always do;
/// 1.6x faster); otherwise, and in the browser, the pure-Rust ruzstd. Both read the same
/// frames: the store's tests in Chromium and tests/wasm_decode.rs read what the native writer
/// wrote.
#[cfg(not(target_arch = "wasm32"))]
fn decode_zstd(stored: &[u8]) -> Result<Vec<u8>, BlockError> {
    match zstd::zstd_safe::get_frame_content_size(stored) {
        Ok(Some(size)) if size > MAX_BLOCK_BYTES as u64 => Err(BlockError::TooLarge),
        Ok(Some(size)) => DECOMPRESSOR.with_borrow_mut(|decompressor| {
            let decompressor = match decompressor {
                Some(d) => d,
                None => decompressor.insert(
                    zstd::bulk::Decompressor::new().map_err(|e| BlockError::Zstd(e.to_string()))?,
                ),
            };
            decompressor
                .decompress(stored, size as usize)
                .map_err(|e| BlockError::Zstd(e.to_string()))
        }),
        _ => decode_zstd_rust(stored),
    }
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// The thread's zstd decompression context, made once and reused for every block: making
    /// one per block (a 100+ KiB allocation, which on a heap fragmented by an import's many
    /// small allocations also consolidates it) was 3% of a store import.
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(target_arch = "wasm32")]
fn decode_zstd(stored: &[u8]) -> Result<Vec<u8>, BlockError> {
    decode_zstd_rust(stored)
}

fn decode_zstd_rust(stored: &[u8]) -> Result<Vec<u8>, BlockError> {
    let mut source = stored;
    let decoder = ruzstd::decoding::StreamingDecoder::new(&mut source)
        .map_err(|e| BlockError::Zstd(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(MAX_BLOCK_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| BlockError::Zstd(e.to_string()))?;
    if out.len() > MAX_BLOCK_BYTES {
        return Err(BlockError::TooLarge);
    }
    Ok(out)
}

/// Splits a decoded block into its records, checking there are exactly `expected` of them.
pub fn decode_records(block: &[u8], expected: u32) -> Result<Vec<Record>, BlockError> {
    let mut rest = block;
    let mut records = Vec::with_capacity(expected.min(1 << 16) as usize);
    while !rest.is_empty() {
        let index = records.len() as u32;
        let fail = |error| BlockError::Record { index, error };
        let len = take_varint(&mut rest).map_err(fail)?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= rest.len())
            .ok_or(fail(RecordError::Truncated))?;
        let (encoded, tail) = rest.split_at(len);
        records.push(Record::decode(encoded).map_err(fail)?);
        rest = tail;
    }
    let found = records.len() as u32;
    if found != expected {
        return Err(BlockError::Count { found, expected });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn the_c_and_rust_zstd_decoders_agree() {
        let mut block = BlockBuilder::default();
        for i in 0..2000 {
            block.push(&Record::message(format!(
                "GET /api/v1/orders/{i} 200 {}ms",
                i % 97
            )));
        }
        let (codec, stored) = block.finish();
        assert_eq!(codec, Codec::Zstd);
        let c = decode_zstd(&stored).unwrap();
        assert_eq!(c, decode_zstd_rust(&stored).unwrap());
        assert_eq!(decode_records(&c, 2000).unwrap().len(), 2000);
    }

    #[test]
    fn small_blocks_stay_raw_and_large_ones_compress() {
        let mut small = BlockBuilder::default();
        small.push(&Record::message("one"));
        let (codec, stored) = small.finish();
        assert_eq!(codec, Codec::None);
        assert_eq!(
            decode_records(&decode_payload(codec, &stored).unwrap(), 1).unwrap()[0].message,
            "one"
        );

        let mut large = BlockBuilder::default();
        let records: Vec<Record> = (0..500)
            .map(|i| Record::message(format!("GET /api/v1/orders/{i} 200 in {}ms", i % 17)))
            .collect();
        for r in &records {
            large.push(r);
        }
        let raw_len = large.len();
        let (codec, stored) = large.finish();
        assert_eq!(codec, Codec::Zstd);
        assert!(stored.len() * 4 < raw_len, "{} vs {raw_len}", stored.len());
        assert_eq!(
            decode_records(&decode_payload(codec, &stored).unwrap(), 500).unwrap(),
            records
        );
        assert!(large.is_empty(), "finish resets the builder");
    }

    #[test]
    fn wrong_counts_and_garbage_are_errors() {
        let mut b = BlockBuilder::default();
        b.push(&Record::message("x"));
        let (_, stored) = b.finish();
        assert_eq!(
            decode_records(&stored, 2),
            Err(BlockError::Count {
                found: 1,
                expected: 2
            })
        );
        assert!(decode_payload(Codec::Zstd, b"definitely not zstd").is_err());
        assert!(decode_records(&[0x05, 1, 2], 1).is_err());
    }
}
