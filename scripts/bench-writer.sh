#!/usr/bin/env bash
# The writer benchmark: throughput per durability policy against raw write+fdatasync, ack
# latency at a fixed offered load, rotation cost, compression on the samples natively, then
# the same blocks decoded in wasm in headless Chromium.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cargo bench -p trawl-bundle --bench writer
RUSTFLAGS="--cfg trawl_wasm_bench" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
  cargo test --release --target wasm32-unknown-unknown -p trawl-bundle --test wasm_decode -- --nocapture 2>&1 \
  | grep -E "wasm decode|test result"
