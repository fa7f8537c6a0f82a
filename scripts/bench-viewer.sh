#!/usr/bin/env bash
# The viewer benchmark: a bundle of TRAWL_BENCH_RECORDS generated JSON-lines records (default
# 1,000,000) opened by link in the release viewer in headless Chromium: time to first results
# and to the import's end, browser import records/s against native `trawl query` on the same
# bundle, search round trips through the worker, frame times during the import and while
# scrolling 100,000 rows, and the tab's peak memory. Prints the figures, then one JSON object.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
scripts/build-site.sh
cargo build --release -p trawl
TRAWL_BIN="$ROOT/target/release/trawl" cargo bench -p trawl-e2e --bench viewer
