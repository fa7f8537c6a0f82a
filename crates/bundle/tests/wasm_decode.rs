//! The decode half of the writer benchmark, in the browser: the sample logs' zstd blocks
//! (written by `benches/writer.rs`) decoded by the same pure-Rust decoder, in a dedicated
//! worker in headless Chromium. Built only by `scripts/bench-writer.sh`
//! (`--cfg trawl_wasm_bench`): it prints a figure and asserts nothing about speed.
#![cfg(all(target_arch = "wasm32", trawl_wasm_bench))]

use trawl_bundle::{block, format::Codec};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

static BLOCKS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../target/trawl-bench/sample-blocks.bin"
));

fn now_ms() -> f64 {
    js_sys::global()
        .unchecked_into::<web_sys::WorkerGlobalScope>()
        .performance()
        .expect("performance")
        .now()
}

#[wasm_bindgen_test]
fn decode_sample_blocks() {
    let mut blocks = Vec::new();
    let mut rest = BLOCKS;
    while rest.len() >= 8 {
        let len = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        let raw = u32::from_le_bytes(rest[4..8].try_into().unwrap()) as usize;
        blocks.push((&rest[8..8 + len], raw));
        rest = &rest[8 + len..];
    }
    let start = now_ms();
    let mut bytes = 0;
    for _ in 0..5 {
        for (compressed, raw) in &blocks {
            let decoded = block::decode_payload(Codec::Zstd, compressed).unwrap();
            assert_eq!(decoded.len(), *raw);
            bytes += decoded.len();
        }
    }
    let secs = (now_ms() - start) / 1000.0;
    console_log!(
        "wasm decode (ruzstd, dedicated worker): {:.0} MB/s over {} blocks",
        bytes as f64 / secs / 1e6,
        blocks.len()
    );
}
