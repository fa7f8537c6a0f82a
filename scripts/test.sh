#!/usr/bin/env bash
# Every test: formatting, lints, native tests, wasm tests in headless Chromium, and the
# end-to-end browser tests against the built site. Sets up whatever is missing first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --all-targets --locked -- -D warnings
cargo clippy -p trawl-e2e --all-targets --locked -- -D warnings
step "clippy (wasm32: app, worker, store, bundle reader, parsers)"
cargo clippy --target wasm32-unknown-unknown -p trawl-app -p trawl-worker -p trawl-store \
  --all-targets --locked -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p trawl-bundle -p trawl-parse --lib --locked -- -D warnings

step "native tests"
cargo test --locked
# The app's logic that needs no browser (it builds natively too, for these tests).
cargo test --locked -p trawl-app

step "wasm tests in headless Chromium"
WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}" \
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$ROOT/tests/webdriver.json" \
  cargo test --locked --target wasm32-unknown-unknown -p trawl-store

step "build the site and trawl"
scripts/build-site.sh

step "end-to-end tests in headless Chromium"
cargo test --locked -p trawl-e2e -- --test-threads=1
